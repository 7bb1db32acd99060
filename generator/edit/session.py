"""One edit of the environment files, worked out in memory and proven before anything is written.

The fleet is loaded; the changes are planned over the environment's `extends:` chain; every
file to change is loaded in round-trip mode (refused unless it writes back byte for byte),
edited and written to text; each new text must parse to exactly the tree the plan expects,
and the whole fleet is loaded again from the new texts: the edited environment must hold the
requested values and nothing else new. Only then does the caller render and write.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlgitops.edit.document import Document
from mlgitops.edit.indentation import Observed, observe
from mlgitops.edit.layers import Change, FileEdit, Layer, plain_remove, plain_set, plan
from mlgitops.edit.roundtrip import load
from mlgitops.errors import Location, UserError, UserErrors
from mlgitops.load.environments import LoadedEnvironment, environment_files, extends_chain, load_environments, parse_layer
from mlgitops.paths import shown_path
from mlgitops.spec.environment import Environment
from mlgitops.spec.fields import key_order
from mlgitops.spec.paths import MISSING, FieldPath, Item, changed_leaves, get, indices, show
from mlgitops.yaml.source import SourceNode, locate, read_text


@dataclass(frozen=True)
class Applied:
    """One value an environment now has, and where it was written."""

    environment: str
    path: FieldPath
    before: Any
    after: Any
    location: Location
    """Where the new value stands in the edited file (for a removal: the nearest remaining parent)."""


@dataclass
class Edit:
    """The outcome of an edit, before anything is written."""

    environment: str
    texts: dict[Path, tuple[str, str]] = field(default_factory=dict)
    """Each changed file → (text before, text after)."""
    applied: list[Applied] = field(default_factory=list)
    before: dict[str, LoadedEnvironment] = field(default_factory=dict)
    after: dict[str, LoadedEnvironment] = field(default_factory=dict)

    @property
    def affected(self) -> list[str]:
        """Environments whose spec the edit changes (several when a shared base was edited)."""
        return sorted(name for name, loaded in self.after.items() if self.before[name].spec != loaded.spec)


def load_fleet(root: Path) -> tuple[dict[str, LoadedEnvironment], dict[Path, SourceNode]]:
    """Every concrete environment, and the parsed layer of every file read."""
    cache: dict[Path, SourceNode] = {}
    return {loaded.name: loaded for loaded in load_environments(root, (), cache)}, cache


Fleet = tuple[dict[str, LoadedEnvironment], dict[Path, SourceNode]]


def apply(root: Path, environment: str, changes: list[Change], *, in_base: bool = False, fleet: Fleet | None = None) -> Edit:
    """Plan, perform in memory and verify ``changes`` to ``environment`` (which must exist).

    ``fleet`` is what ``load_fleet`` returned, when the caller has loaded it already.
    """
    before, cache = fleet or load_fleet(root)
    loaded = before[environment]
    current = loaded.tree.plain()
    wanted = [change for change in changes if get(current, change.path) != change.value]
    edit = Edit(environment, before=before, after=before)
    if not wanted:
        return edit
    own = next(path for path in environment_files(root) if path.stem == environment)
    chain = extends_chain(own, root, cache)
    layers = [Layer.of(path, cache[path.resolve()]) for path in chain]
    edits = plan(wanted, layers, in_base=in_base)
    kinds = {str(w.get("name")): w.get("kind") for w in current.get("workloads", []) if isinstance(w, dict)}
    for layer in layers:
        steps = [step for step in edits if step.file == layer.file]
        if steps:
            base = chain[chain.index(layer.file) + 1] if chain.index(layer.file) + 1 < len(chain) else None
            edit.texts[layer.file] = _edit_file(layer, steps, base, kinds)
    new_cache = {path: node for path, node in cache.items() if path not in {p.resolve() for p in edit.texts}}
    for path, (_, text) in edit.texts.items():
        new_cache[path.resolve()] = parse_layer(text, path)
    try:
        edit.after = {item.name: item for item in load_environments(root, (), new_cache)}
    except UserErrors as errors:
        raise UserErrors([_after_edit(error) for error in errors.errors]) from None
    except UserError as error:
        raise _after_edit(error) from None
    _check_effective(loaded, edit.after[environment], wanted)
    for change in wanted:
        edit.applied.append(_applied(environment, change, current, edit))
    return edit


def _after_edit(error: UserError) -> UserError:
    """A mistake the edited text would have: said so, since its line is one of the text that was not written."""
    return UserError(f"after this edit, {error.message} (nothing was written)", error.location)


def _edit_file(layer: Layer, steps: list[FileEdit], base: Path | None, kinds: dict[str, Any]) -> tuple[str, str]:
    shown = shown_path(layer.file)
    text = read_text(layer.file, shown)  # the exact text: CRLF line endings stay
    document = Document(load(text, shown, _base_indentation(base)), lambda path: _order(path, kinds))
    for step in steps:
        if step.value is MISSING:
            document.remove(step.path)
        else:
            document.set(step.path, step.value)
    result = document.text()
    written = parse_layer(result, layer.file).plain()
    if written != layer.tree:
        first = changed_leaves(layer.tree, written)
        where = show(first[0]) if first else "the file"
        raise UserError(
            f"the edited file would not read back as intended (at {where}); nothing was written: edit it by hand "
            "(and please report this file to mlgitops)",
            Location(shown, 1, 1),
        )
    return text, result


def _base_indentation(base: Path | None) -> Callable[[], Observed]:
    """What the file an environment extends shows of its indentation (read only if asked)."""

    def observed() -> Observed:
        if base is None:
            return Observed()
        try:
            return observe(read_text(base, shown_path(base)))
        except UserError:
            return Observed()

    return observed


def _order(path: FieldPath, kinds: dict[str, Any]) -> list[str]:
    kind = kinds.get(path[1].name) if len(path) > 1 and path[0] == "workloads" and isinstance(path[1], Item) else None
    return key_order(Environment, path, kind if isinstance(kind, str) else None)


def _normalised(tree: Any) -> Any:
    """A plain tree without empty mappings (absent and empty mean the same to every spec model)."""
    if isinstance(tree, dict):
        kept = {key: _normalised(value) for key, value in tree.items()}
        return {key: value for key, value in kept.items() if value != {}}
    if isinstance(tree, list):
        return [_normalised(item) for item in tree]
    return tree


def _check_effective(before: LoadedEnvironment, after: LoadedEnvironment, changes: list[Change]) -> None:
    expected = copy.deepcopy(before.tree.plain())
    for change in changes:
        if change.value is MISSING:
            plain_remove(expected, change.path)
        else:
            plain_set(expected, change.path, change.value)
    got = after.tree.plain()
    if _normalised(got) != _normalised(expected):
        first = changed_leaves(_normalised(expected), _normalised(got))
        raise UserError(
            f"environment {before.name!r} would not hold the requested values after the edit "
            f"(at {show(first[0]) if first else 'its spec'}); nothing was written (please report this to mlgitops)",
            Location(before.file, 1, 1),
        )


def _applied(environment: str, change: Change, current: Any, edit: Edit) -> Applied:
    after = edit.after[environment].tree
    where, _ = locate(after, indices(after.plain(), change.path))
    return Applied(environment, change.path, get(current, change.path), change.value, where)


__all__ = ["Applied", "Change", "Edit", "Fleet", "apply", "load_fleet"]
