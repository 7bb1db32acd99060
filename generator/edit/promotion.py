"""`mlgitops promote`: the changes that give one environment what another one runs.

For every workload both environments have (or those named), each promotable field (see
``spec/promotable.py``: images, registered-model versions and aliases; or the fields given
with ``--field``) takes the value it has in the source environment's effective spec, including
its absence: a source serving a model by alias makes the target drop its pinned version.
Without named workloads the environment's own promotable fields (`mlflow.servingImage`)
follow too. What cannot be promoted (a workload or container one side lacks) is noted, not
guessed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from mlgitops.edit.layers import Change
from mlgitops.edit.requests import storage_uri_changes, workload
from mlgitops.errors import UserError
from mlgitops.load.environments import LoadedEnvironment
from mlgitops.spec.environment import Environment
from mlgitops.spec.fields import keys, models_at
from mlgitops.spec.paths import MISSING, FieldPath, Item, get, leaves, named_items, parse, show
from mlgitops.spec.promotable import CATEGORIES, Pattern, environment_patterns, workload_patterns


@dataclass
class Promotion:
    """The changes a promotion makes, and what it left out (one sentence each)."""

    changes: list[Change] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def field_patterns(fields: tuple[str, ...], given_by: str = "--field") -> tuple[list[str], list[FieldPath]]:
    """``--field`` values split into categories (image, model) and workload field paths, each checked.

    ``given_by`` names where the fields come from in messages (the option, or the configuration file).
    """
    categories: list[str] = []
    paths: list[FieldPath] = []
    for text in fields:
        if text in CATEGORIES:
            categories.append(text)
            continue
        try:
            path = parse(text)
        except ValueError as error:
            raise UserError(f"{given_by} {text!r}: {error}") from None
        known = {key for model in models_at(Environment, ("workloads", *path[:-1])) for key in keys(model)}
        if not isinstance(path[-1], str) or path[-1] not in known:
            raise UserError(
                f"{given_by} {text!r}: not a workload field; give {' or '.join(CATEGORIES)}, or a path such as "
                "'resources', 'args' or 'env[MODEL_URI].value'"
            )
        paths.append(path)
    return categories, paths


def promotion(
    source: LoadedEnvironment,
    target: LoadedEnvironment,
    names: tuple[str, ...],
    fields: tuple[str, ...],
    given_by: str = "--field",
) -> Promotion:
    """What ``target`` must change to run what ``source`` runs (``fields`` empty: images and models)."""
    categories, explicit = field_patterns(fields or CATEGORIES, given_by)
    source_tree, target_tree = source.tree.plain(), target.tree.plain()
    result = Promotion()
    if names:
        for name in names:
            workload(source, name)
            workload(target, name)
        chosen = list(names)
    else:
        in_source = named_items(source_tree.get("workloads")) or {}
        in_target = named_items(target_tree.get("workloads")) or {}
        chosen = [name for name in in_target if name in in_source]
        for name in sorted(set(in_source) - set(in_target)):
            result.notes.append(f"workloads[{name}] is not in {target.name}: not promoted (add it there first)")
        _compare(source_tree, target_tree, (), [p for p in environment_patterns() if p.category in categories], [], result)
    for name in chosen:
        prefix: FieldPath = ("workloads", Item(name))
        spec_from, spec_to = get(source_tree, prefix), get(target_tree, prefix)
        patterns = [p for p in workload_patterns(spec_to.get("kind")) if p.category in categories]
        before = len(result.changes)
        _compare(spec_from, spec_to, prefix, patterns, explicit, result)
        result.changes += _storage_uri(target, name, spec_to, result.changes[before:])
    return result


def _storage_uri(target: LoadedEnvironment, name: str, spec: dict[str, Any], changes: list[Change]) -> list[Change]:
    """A KServe storageUri moved along with the registered-model version promoted (or the promotion refused)."""
    model = ("workloads", Item(name), "model")
    promoted = {change.path[-1]: change.value for change in changes if change.path[:-1] == model}
    if not promoted or any(change.path[-2:] == ("kserve", "storageUri") for change in changes):
        return []
    given = promoted.get("version", MISSING)
    if given is MISSING:
        given = promoted.get("alias", MISSING)
    return storage_uri_changes(target, name, spec, str(given)) if given is not MISSING else []


def _compare(
    source: Any, target: Any, prefix: FieldPath, patterns: list[Pattern], explicit: list[FieldPath], result: Promotion
) -> None:
    paths = []
    for path in (path for pattern in patterns for path in pattern.expand(source, target)):
        # A field whose section only one side has (a registered model, a model download) is not
        # a version to copy: the two environments get their model in different ways.
        if len(path) > 1 and isinstance(get(source, path[:-1]), dict) != isinstance(get(target, path[:-1]), dict):
            note = f"{show((*prefix, *path[:-1]))} is set in only one of the environments: not promoted"
            if note not in result.notes:
                result.notes.append(note)
            continue
        paths.append(path)
    for path in explicit:
        if get(source, path) is MISSING and get(target, path) is MISSING:
            continue
        paths.append(path)
    for path in paths:
        wanted, current = get(source, path), get(target, path)
        if wanted == current:
            continue
        if isinstance(wanted, dict) or isinstance(current, dict):
            # A whole section (`--field resources`): its leaves, so that `extends:` merging keeps working.
            old = dict(leaves(current, path)) if isinstance(current, dict) else {}
            new = dict(leaves(wanted, path)) if isinstance(wanted, dict) else {}
            for leaf, value in new.items():
                if old.get(leaf, MISSING) != value:
                    result.changes.append(Change((*prefix, *leaf), value))
            result.changes += [Change((*prefix, *leaf), MISSING) for leaf in old if leaf not in new]
        else:
            result.changes.append(Change((*prefix, *path), wanted))


__all__ = ["Promotion", "field_patterns", "promotion"]
