"""What `mlgitops set image|model|replicas|resources` asks for, as changes to one environment's effective spec.

Each request is checked against the environment as it is (the workload exists, the value is
well-formed, the field exists for the workload's kind) before any file is touched, so a
mistake is reported against the command line or the line that makes it impossible.
"""

from __future__ import annotations

import difflib
import typing
from typing import Any

from pydantic import BaseModel, ValidationError

from mlgitops.edit.layers import Change
from mlgitops.errors import Location, UserError
from mlgitops.kube.image import updated_image
from mlgitops.load.environments import LoadedEnvironment
from mlgitops.spec.fields import keys, models_in
from mlgitops.spec.integrations import RegisteredModel
from mlgitops.spec.kserve import VERSION_PLACEHOLDER, retargeted_storage_uri
from mlgitops.spec.paths import MISSING, FieldPath, Item, get, indices, named_items, show
from mlgitops.spec.promotable import workload_kinds, workload_patterns
from mlgitops.yaml.source import locate


def workload(loaded: LoadedEnvironment, name: str) -> dict[str, Any]:
    """The workload's effective (merged) tree; a located error naming the known workloads when there is none."""
    tree = loaded.tree.plain()
    items = named_items(tree.get("workloads")) or {}
    if name in items:
        return items[name]
    close = difflib.get_close_matches(name, list(items), n=1)
    hint = f"did you mean {close[0]!r}?" if close else f"have: {some(sorted(items))}"
    where, _ = locate(loaded.tree, ("workloads",))
    raise UserError(f"workloads: no workload named {name!r} in environment {loaded.name!r} ({hint})", where)


def some(names: list[str], shown: int = 8) -> str:
    """A few names for a message, and how many more there are (a fleet can have thousands)."""
    if not names:
        return "none"
    more = len(names) - shown
    return ", ".join(names[:shown]) + (f", ... ({more} more)" if more > 0 else "")


def _at(loaded: LoadedEnvironment, path: FieldPath) -> Location:
    """Where ``path`` is written: the key naming a field, or the list item of a workload."""
    return locate(loaded.tree, indices(loaded.tree.plain(), path), key=True)[0]


def _model(spec: dict[str, Any]) -> type[BaseModel]:
    kinds = workload_kinds()
    kind = spec.get("kind")
    if not isinstance(kind, str) or kind not in kinds:
        raise UserError(f"workload {spec.get('name')!r} has no known kind ({', '.join(sorted(kinds))})")
    return kinds[kind]


def _container_names(path: FieldPath) -> set[str]:
    """What ``--container`` may call the image field at ``path``: its item's name, or its field path."""
    names = {show(path), show(path[:-1])} if len(path) > 1 else set()
    return names | {segment.name for segment in path if isinstance(segment, Item)}


def image_changes(loaded: LoadedEnvironment, name: str, given: str, container: str | None = None) -> list[Change]:
    """Set the image of the workload's main container, or of another one (an init container, a sidecar, a
    model downloader) named by its name in a named list or by its field path (`model.download`)."""
    spec = workload(loaded, name)
    paths: list[FieldPath] = [
        path for p in workload_patterns(spec.get("kind")) if p.category == "image" for path in p.expand(spec)
    ]
    chosen: list[FieldPath]
    if container is None or container == name:
        chosen = [path for path in paths if path == ("image",)]
    else:
        chosen = [path for path in paths if container in _container_names(path) and get(spec, path) is not MISSING]
    if not chosen:
        known = [
            name,
            *sorted(
                {min(_container_names(path), key=len) for path in paths if path != ("image",) and get(spec, path) is not MISSING}
            ),
        ]
        raise UserError(f"--container {container!r}: workload {name!r} has no such container (containers: {', '.join(known)})")
    current = get(spec, chosen[0])
    try:
        image = updated_image(current if isinstance(current, str) else None, given)
    except ValueError as error:
        raise UserError(f"IMAGE: {error}") from None
    return [Change(("workloads", Item(name), *chosen[0]), image)]


def model_changes(loaded: LoadedEnvironment, name: str, given: str) -> list[Change]:
    """Point the workload at another model version: a registered model's version (digits) or alias (the other one
    is dropped), or the one model field the workload sets (an LLM's weights path or download URI)."""
    spec = workload(loaded, name)
    prefix: FieldPath = ("workloads", Item(name))
    fields = [path for p in workload_patterns(spec.get("kind")) if p.category == "model" for path in p.expand(spec)]
    parents = {path[:-1] for path in fields if isinstance(get(spec, path[:-1]), dict)}
    if {path[-1] for path in fields if path[:-1] in parents} >= {"version", "alias"}:
        parent = next(iter(parents))
        field, other = ("version", "alias") if given.isdigit() else ("alias", "version")
        try:
            RegisteredModel.model_validate({"name": get(spec, (*parent, "name")), field: given})
        except ValidationError as error:
            problem = error.errors(include_url=False)[0]["msg"].removeprefix("Value error, ")
            raise UserError(f"VERSION|ALIAS {given!r}: {problem}") from None
        changes = [Change((*prefix, *parent, field), given), Change((*prefix, *parent, other), MISSING)]
        return changes + storage_uri_changes(loaded, name, spec, given)
    present = [path for path in fields if get(spec, path) is not MISSING]
    if len(present) != 1:
        raise UserError(
            f"workloads[{name}]: serves no registered model and sets no single model version field "
            f"({', '.join(show(path) for path in fields) or 'a ' + str(spec.get('kind')) + ' workload has none'}); "
            "use `mlgitops set image` for its image",
            _at(loaded, prefix),
        )
    return [Change((*prefix, *present[0]), given)]


def storage_uri_changes(loaded: LoadedEnvironment, name: str, spec: dict[str, Any], given: str) -> list[Change]:
    """Keep a KServe predictor's `storageUri` on the registered-model version being set (``given``: a version or
    an alias): the segment naming the old version moves with it, `{version}` follows by itself; anything else is
    refused at the storageUri line, since the InferenceService would claim one version and serve another."""
    uri = get(spec, ("kserve", "storageUri"))
    if not isinstance(uri, str):
        return []
    where = _at(loaded, ("workloads", Item(name), "kserve", "storageUri"))
    if not given.isdigit():
        raise UserError(
            f"workloads[{name}].kserve.storageUri: KServe serves the files at {uri!r}, which cannot follow alias "
            f"{given!r} as it moves in the registry; set a version instead",
            where,
        )
    old = get(spec, ("model", "version"))
    moved = retargeted_storage_uri(uri, old if isinstance(old, str) else None, given)
    if moved is None:
        raise UserError(
            f"workloads[{name}].kserve.storageUri: {uri!r} does not show which path segment is model version "
            f"{old if isinstance(old, str) else '(none)'}, so it cannot follow version {given}: write {VERSION_PLACEHOLDER} "
            "in it (filled in from model.version), or change both yourself",
            where,
        )
    return [] if moved == uri else [Change(("workloads", Item(name), "kserve", "storageUri"), moved)]


def replica_changes(
    loaded: LoadedEnvironment, name: str, count: int | None, minimum: int | None, maximum: int | None
) -> list[Change]:
    """A fixed replica count, or the bounds of the autoscaler the workload uses (an HPA's, KEDA's, ...)."""
    spec = workload(loaded, name)
    prefix: FieldPath = ("workloads", Item(name))
    fields = keys(_model(spec))
    # Autoscalers are the sections with both bounds: found in the model, not named here.
    scalers = [
        key
        for key, annotation in fields.items()
        if any({"minReplicas", "maxReplicas"} <= set(keys(m)) for m in models_in(annotation))
    ]
    active = [key for key in scalers if isinstance(get(spec, (key,)), dict)]
    if count is not None:
        if "replicas" not in fields:
            raise UserError(f"workloads[{name}]: a {spec.get('kind')} workload has no replica count", _at(loaded, prefix))
        if active:
            scaling = get(spec, (active[0],))
            raise UserError(
                f"workloads[{name}]: {active[0]} scales it between {scaling.get('minReplicas')} and "
                f"{scaling.get('maxReplicas')} replicas; a fixed count would fight the autoscaler: give --min/--max instead",
                _at(loaded, (*prefix, active[0])),
            )
        return [Change((*prefix, "replicas"), count)]
    if not active:
        raise UserError(
            f"workloads[{name}]: does not autoscale; give a replica count instead of --min/--max", _at(loaded, prefix)
        )
    changes = []
    if minimum is not None:
        changes.append(Change((*prefix, active[0], "minReplicas"), minimum))
    if maximum is not None:
        changes.append(Change((*prefix, active[0], "maxReplicas"), maximum))
    return changes


def resource_fields(model: type[BaseModel], prefix: str = "") -> dict[str, Any]:
    """Every settable key of a resources model, dotted (`cpu`, `limits.memory`), → its annotation."""
    found: dict[str, Any] = {}
    for key, annotation in keys(model).items():
        inner = models_in(annotation)
        if inner:
            for member in inner:
                found.update(resource_fields(member, f"{prefix}{key}."))
        else:
            found[f"{prefix}{key}"] = annotation
    return found


def _takes_int(annotation: Any) -> bool:
    if annotation is int:
        return True
    return any(_takes_int(argument) for argument in typing.get_args(annotation))


def resource_changes(loaded: LoadedEnvironment, name: str, assignments: tuple[str, ...]) -> list[Change]:
    """``KEY=VALUE`` pairs over the workload's `resources` (``KEY=`` removes the key)."""
    spec = workload(loaded, name)
    model = models_in(keys(_model(spec))["resources"])[0]
    fields = resource_fields(model)
    changes = []
    for assignment in assignments:
        key, equals, value = assignment.partition("=")
        if not equals or key not in fields:
            if key in fields:  # a known key without '=': say what is missing, not the key itself
                hint = f"write {key}=VALUE, or {key}= to remove it"
            else:
                close = difflib.get_close_matches(key, list(fields), n=1)
                hint = f"did you mean {close[0]!r}?" if close else f"keys: {', '.join(fields)}"
            raise UserError(f"{assignment!r}: expected KEY=VALUE with a resources key ({hint})")
        path: FieldPath = ("workloads", Item(name), "resources", *key.split("."))
        if not value:
            changes.append(Change(path, MISSING))
        elif _takes_int(fields[key]):
            if not value.isdigit():
                raise UserError(f"{assignment!r}: {key} is a whole number")
            changes.append(Change(path, int(value)))
        else:
            changes.append(Change(path, value))
    return changes


__all__ = [
    "image_changes",
    "model_changes",
    "replica_changes",
    "resource_changes",
    "resource_fields",
    "show",
    "storage_uri_changes",
    "workload",
]
