"""The fields that say *what runs*: container images and registered-model versions.

`mlgitops promote` copies them from one environment to another and `mlgitops diff` calls a
change that only moves them a promotion. They are found in the spec models rather than listed
per workload kind, so a kind or container added later is covered without touching this file:

- **image**: every text field whose key is `image` or ends in `Image` (the main container's,
  an init container's or a sidecar's, the environment's `mlflow.servingImage`);
- **model**: the fields a model lists in its ``PROMOTED_TOGETHER`` class variable (a registered
  model's `version` and `alias`: exactly one is set, so they move as a unit).

Items of named lists (`initContainers`, `sidecars`, ...) are matched by name: a pattern holds
``"*"`` where any item goes.
"""

from __future__ import annotations

import types
import typing
from dataclasses import dataclass
from functools import cache
from typing import Any

from pydantic import BaseModel

from mlgitops.spec.fields import is_named_list, keys, models_in, tags
from mlgitops.spec.paths import FieldPath, Item, get, named_items

ANY_ITEM = "*"
CATEGORIES = ("image", "model")


@dataclass(frozen=True)
class Pattern:
    """A promotable field of a model: its category and its keys ("*" for any item of a named list)."""

    category: str
    keys: tuple[str, ...]

    def matches(self, path: FieldPath) -> bool:
        """Whether a concrete path (named items as ``Item``) is this field."""
        return len(path) == len(self.keys) and all(
            isinstance(segment, Item) if key == ANY_ITEM else segment == key for key, segment in zip(self.keys, path, strict=True)
        )

    def expand(self, *trees: Any) -> list[FieldPath]:
        """The concrete paths of this field present in every one of ``trees`` (plain workload trees).

        A named-list item counts only when every tree has it: an init container that exists in
        one environment only is not something to promote.
        """
        paths: list[FieldPath] = [()]
        for key in self.keys:
            following: list[FieldPath] = []
            for prefix in paths:
                if key != ANY_ITEM:
                    following.append((*prefix, key))
                    continue
                names: set[str] | None = None
                for tree in trees:
                    items = named_items(get(tree, prefix))
                    present = set(items or ())
                    names = present if names is None else names & present
                following += [(*prefix, Item(name)) for name in sorted(names or ())]
            paths = following
        return paths


def _is_text(annotation: Any) -> bool:
    if annotation is str:
        return True
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _is_text(typing.get_args(annotation)[0])
    return origin in (typing.Union, types.UnionType) and any(_is_text(a) for a in typing.get_args(annotation))


def _is_image_key(key: str) -> bool:
    return key == "image" or key.endswith("Image")


@cache
def patterns(model: type[BaseModel], skip: tuple[str, ...] = ()) -> tuple[Pattern, ...]:
    """Every promotable field reachable from ``model`` (keys in ``skip`` at its top level left out)."""
    found: list[Pattern] = []
    _walk(model, (), found, set(), skip)
    return tuple(found)


def _walk(
    model: type[BaseModel], prefix: tuple[str, ...], found: list[Pattern], seen: set[type[BaseModel]], skip: tuple[str, ...]
) -> None:
    if model in seen:
        return
    seen = seen | {model}
    together = getattr(model, "PROMOTED_TOGETHER", ())
    for key, annotation in keys(model).items():
        if not prefix and key in skip:
            continue
        if key in together:
            found.append(Pattern("model", (*prefix, key)))
        elif _is_image_key(key) and _is_text(annotation):
            found.append(Pattern("image", (*prefix, key)))
        elif typing.get_origin(annotation) is not dict:  # maps of models have no stable keys to promote
            step = (*prefix, key, ANY_ITEM) if is_named_list(annotation) else (*prefix, key)
            for inner in models_in(annotation):
                _walk(inner, step, found, seen, ())


@cache
def workload_kinds() -> dict[str, type[BaseModel]]:
    """Each workload kind (its `kind` value) → its model, from the environment's `workloads` field."""
    from mlgitops.spec.environment import Environment

    return {tag: model for model in models_in(keys(Environment)["workloads"]) for tag in sorted(tags(model))}


def workload_patterns(kind: str | None) -> tuple[Pattern, ...]:
    """The promotable fields of one workload kind (of every kind when the kind is unknown)."""
    kinds = workload_kinds()
    models = [kinds[kind]] if kind in kinds else list(kinds.values())
    merged: list[Pattern] = []
    for model in models:
        merged += [pattern for pattern in patterns(model) if pattern not in merged]
    return tuple(merged)


def environment_patterns() -> tuple[Pattern, ...]:
    """Promotable fields of the environment itself (outside any workload), e.g. `mlflow.servingImage`."""
    from mlgitops.spec.environment import Environment

    return patterns(Environment, ("workloads",))


def is_promotable(path: FieldPath, environment: Any) -> str | None:
    """The category of ``path`` (a path into a plain environment tree) if it is promotable, else None."""
    if len(path) >= 2 and path[0] == "workloads" and isinstance(path[1], Item):
        workload = get(environment, path[:2])
        kind = workload.get("kind") if isinstance(workload, dict) else None
        return next((p.category for p in workload_patterns(kind if isinstance(kind, str) else None) if p.matches(path[2:])), None)
    return next((p.category for p in environment_patterns() if p.matches(path)), None)


__all__ = [
    "ANY_ITEM",
    "CATEGORIES",
    "Pattern",
    "environment_patterns",
    "is_promotable",
    "patterns",
    "workload_kinds",
    "workload_patterns",
]
