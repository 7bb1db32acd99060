"""The spec models as a map of YAML keys: which model a field path leads to, in which order its keys come.

Used wherever code must follow a path through the models without a value in hand: located
messages suggesting a field name, promotion finding image and model fields, edits placing a
new key where a person would write it.
"""

from __future__ import annotations

import types
import typing
from typing import Any

from pydantic import BaseModel

from mlgitops.spec.paths import FieldPath


def models_in(annotation: Any) -> list[type[BaseModel]]:
    """The pydantic models an annotation can hold (through Annotated, unions, lists, dicts and tuples)."""
    origin = typing.get_origin(annotation)
    # On Python 3.10 `list[X]` passes isinstance(..., type) but not issubclass: test plain classes only.
    if origin is None and isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    if origin is typing.Annotated:
        return models_in(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType, list, dict, tuple):
        found: list[type[BaseModel]] = []
        for argument in typing.get_args(annotation):
            found.extend(models_in(argument))
        return found
    return []


def keys(model: type[BaseModel]) -> dict[str, Any]:
    """The model's YAML keys (camelCase aliases) → field annotations, in declaration order."""
    return {info.alias or name: info.annotation for name, info in model.model_fields.items()}


def tags(model: type[BaseModel]) -> set[str]:
    """The values of the model's `kind` or `type` literal: the tag that picks it out of a discriminated union."""
    found: set[str] = set()
    for field_name in ("kind", "type"):
        info = model.model_fields.get(field_name)
        if info is not None and typing.get_origin(info.annotation) is typing.Literal:
            found.update(str(argument) for argument in typing.get_args(info.annotation))
    return found


def is_named_list(annotation: Any) -> bool:
    """A list of models that all carry `name`: `extends:` merges it item by item."""
    inner = annotation
    while typing.get_origin(inner) is typing.Annotated:
        inner = typing.get_args(inner)[0]
    if typing.get_origin(inner) in (typing.Union, types.UnionType):
        arguments = [a for a in typing.get_args(inner) if a is not type(None)]
        if len(arguments) != 1:
            return False
        inner = arguments[0]
    if typing.get_origin(inner) is not list:
        return False
    members = models_in(inner)
    return bool(members) and all("name" in keys(member) for member in members)


def models_at(root: type[BaseModel], path: FieldPath | tuple[str | int, ...], tag: str | None = None) -> list[type[BaseModel]]:
    """The models the mapping at ``path`` can be (several for a union); ``tag`` picks a union member by kind.

    List items (an ``Item`` or an index) are stepped over. A segment matching a union's tag rather
    than a field keeps that member, as pydantic's error locations put it in the path; a segment
    naming nothing known leaves the candidates as they are.
    """
    candidates = [root]
    for segment in path:
        if not isinstance(segment, str):
            continue
        following: list[type[BaseModel]] = []
        for candidate in candidates:
            annotation = keys(candidate).get(segment)
            if annotation is not None:
                following.extend(models_in(annotation))
        if not following:
            following = [candidate for candidate in candidates if segment in tags(candidate)] or candidates
        candidates = following
    if tag is not None and any(tag in tags(candidate) for candidate in candidates):
        candidates = [candidate for candidate in candidates if tag in tags(candidate)]
    return candidates


def key_order(root: type[BaseModel], path: FieldPath, tag: str | None = None) -> list[str]:
    """The YAML keys of the mapping at ``path`` in declaration order, but `name`, `kind` and `image` first (as people
    write a workload or a container)."""
    order: list[str] = []
    for model in models_at(root, path, tag):
        order += [key for key in keys(model) if key not in order]
    for first in ("image", "kind", "name") if "name" in order else ():
        if first in order:
            order.remove(first)
            order.insert(0, first)
    return order


__all__ = ["is_named_list", "key_order", "keys", "models_at", "models_in", "tags"]
