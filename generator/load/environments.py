"""Read environment files: parse with positions, resolve `extends:`, validate into models.

Every mistake becomes a ``UserError`` naming file:line:column, the field path and what is
wrong; values inherited from a base file point at the base file.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import ValidationError

from mlgitops.errors import Location, UserError, UserErrors
from mlgitops.kube.names import dns1123_label_problem
from mlgitops.load.merge import check_unique_names, merge, strip_deletes
from mlgitops.load.validation import validation_errors
from mlgitops.paths import is_inside, repository_of, shown_path
from mlgitops.spec.environment import Environment
from mlgitops.yaml.source import SourceNode, locate, parse, read_text

FieldPath = tuple[str | int, ...]
LAYER_KEYS = ("extends", "abstract")
# Bases of bases: real fleets use two or three levels; thousands are an attack on the merge.
MAX_EXTENDS_CHAIN = 64
# Folders of rendered/ that are not environments.
RESERVED_NAMES = frozenset({"argocd", "flux"})


@dataclass(frozen=True)
class LoadedEnvironment:
    """An environment's validated model, its name, and the merged source tree it came from."""

    name: str
    file: str
    """The environment file, as shown in messages and headers (e.g. 'environments/prod.yaml')."""
    spec: Environment
    tree: SourceNode

    def locate(self, path: FieldPath) -> Location:
        """Where the value at ``path`` (alias keys and list indices) was written."""
        return locate(self.tree, path)[0]


def environment_files(root: Path) -> list[Path]:
    """The ``.yaml``/``.yml`` entries of the environments folder ``root``, sorted; links among them are listed for
    the caller to judge (where they lead), special files are refused.

    Raises UserError when ``root`` is missing or is a link leading outside its repository (a pull request can carry
    ``environments -> ../outside``: what it leads to would be rendered, and printed by ``render --check``), and
    one located error per entry that is not a regular file (a named pipe would block the read, a folder or a
    device is no environment; skipped, its environment's output would silently go).
    """
    if not root.is_dir():
        raise UserError(
            f"environments folder {shown_path(root)!r} not found (run from the repository root, or pass --environments-dir DIR)"
        )
    repository = repository_of(root)
    if not is_inside(root, repository):
        raise UserError(
            f"environments folder {shown_path(root)!r} is a symbolic link leading outside the repository "
            f"({shown_path(repository)}/); mlgitops reads nothing outside it (pass the folder itself with --environments-dir)"
        )
    entries = sorted(p for p in root.iterdir() if p.suffix in (".yaml", ".yml"))
    special = [(path, kind) for path in entries if (kind := _special_file(path)) is not None]
    if special:
        raise UserErrors(
            [
                UserError(
                    f"this is {kind}, not a regular file; environment files must be regular files (remove or rename it)",
                    Location(shown_path(path), 1, 1),
                )
                for path, kind in special
            ]
        )
    return entries


def _special_file(path: Path) -> str | None:
    """What ``path`` (links followed) is when it is neither a regular file nor unresolvable, else None."""
    try:
        mode = os.stat(path).st_mode
    except (OSError, ValueError):
        return None  # a link leading nowhere: judged where it is used
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) else "a special file"


def load_environments(
    root: Path, names: Sequence[str] = (), layers: dict[Path, SourceNode] | None = None
) -> list[LoadedEnvironment]:
    """Load every concrete environment under ``root`` (or only ``names``), sorted by name.

    ``layers`` (resolved path → ``parse_layer`` tree) stands in for files as they would be after an
    edit, and collects every file read.
    """
    layers = {} if layers is None else layers
    concrete: dict[str, Path] = {}
    problems: list[UserError] = []
    root_real = root.resolve()
    linked_outside: list[Path] = []
    leading_nowhere: list[Path] = []
    extended: set[str] = set()
    for path in environment_files(root):
        leads = _leads(path, root_real)
        if leads == "outside":
            linked_outside.append(path)
            continue
        if leads == "nowhere":
            leading_nowhere.append(path)
            continue
        try:
            tree = _layer(path, layers)
        except UserError as error:
            problems.append(error)
            continue
        extends = tree.mapping().get("extends")
        if extends is not None and isinstance(extends.value, str):
            extended.add(os.path.normpath(path.parent / extends.value))
        abstract = tree.mapping().get("abstract")
        if abstract is not None and not isinstance(abstract.value, bool):
            problems.append(UserError("abstract: must be true or false", abstract.location))
            continue
        if abstract is not None and abstract.value:
            continue
        problem = dns1123_label_problem(path.stem)
        if problem is None and path.stem in RESERVED_NAMES:
            problem = f"{path.stem!r} is reserved for the rendered {path.stem}/ folder; rename the file"
        if problem:
            problems.append(UserError(f"the file name is the environment name: {problem}", Location(shown_path(path), 1, 1)))
            continue
        if path.stem in concrete:
            problems.append(
                UserError(f"environment {path.stem!r} is defined twice (.yaml and .yml)", Location(shown_path(path), 1, 1))
            )
            continue
        concrete[path.stem] = path
    outside = f"leading outside {shown_path(root)}/; environment files must live inside that folder"
    nowhere = "leading nowhere (its target is missing, or it loops); fix or remove it"
    for paths, problem in ((linked_outside, outside), (leading_nowhere, nowhere)):
        problem = f"this file is a symbolic link {problem}"
        # A base is reported at the `extends:` naming it (see _base_path).
        problems += [UserError(problem, Location(shown_path(p), 1, 1)) for p in paths if os.path.normpath(p) not in extended]
    if problems:
        raise UserErrors(problems)
    if not concrete:
        bases = " (only abstract bases)" if layers else ""
        raise UserError(
            f"no environment to render in {shown_path(root)}/{bases}: add a file such as dev.yaml "
            "(`mlgitops init` scaffolds one), or pass --environments-dir DIR"
        )
    unknown = sorted(set(names) - set(concrete))
    if unknown:
        raise UserError(
            f"no environment named {', '.join(map(repr, unknown))} in {shown_path(root)} "
            f"(have: {', '.join(sorted(concrete)) or 'none'})"
        )
    chosen = sorted(set(names) or set(concrete))
    loaded: list[LoadedEnvironment] = []
    failed: list[tuple[str, str, UserError]] = []
    for name in chosen:
        try:
            loaded.append(load_environment(concrete[name], root, layers))
        except UserError as error:
            failed.append((name, shown_path(concrete[name]), error))
    if failed:
        raise shared_errors(failed)
    return loaded


def shared_errors(failed: Sequence[tuple[str, str, UserError]]) -> UserErrors:
    """Errors of several environments, a mistake in a shared base reported once and naming the environments it breaks.

    ``failed`` holds (environment, its own file, its error). A base's mistake may read slightly
    differently per environment (each merges its own overrides): one line per place in the base.
    """
    by_place: dict[Location, tuple[UserError, list[str]]] = {}
    own: list[UserError] = []
    for environment, file, error in failed:
        for one in error.errors if isinstance(error, UserErrors) else [error]:
            if one.location is None or one.location.file == file:
                own.append(one)
                continue
            first, environments = by_place.setdefault(one.location, (one, []))
            if environment not in environments:
                environments.append(environment)
    for first, environments in by_place.values():
        listed = ", ".join(sorted(environments))
        own.append(
            UserError(
                f"{first.message} (breaks {'environment' if len(environments) == 1 else 'environments'} {listed})", first.location
            )
        )
    return UserErrors(own)


def parse_layer(text: str, path: Path) -> SourceNode:
    """One environment file's own tree (before `extends:`), checked as loading checks it."""
    tree = parse(text, shown_path(path))
    if not tree.is_mapping:
        raise UserError(f"an environment file must be a mapping of fields, not a {_kind_of(tree)}", tree.location)
    check_unique_names(tree)
    return tree


def parse_layers(root: Path, layers: dict[Path, SourceNode], max_bytes: int) -> None:
    """Parse the files of environments folder ``root`` into ``layers`` ahead of :func:`load_environments`, which
    parses every one of them when it loads any environment of the folder, when together they hold at most
    ``max_bytes``; the files it would not read (links leading out of the folder, special files) are left alone,
    and what cannot be read or parsed is left for it to report, located.

    What for: lint parses them while its other process checks policies, and both processes that render
    environments again for sources then find them parsed (each parsed the 650 KB base of the N = 1000 benchmark
    fleet, 0.7 s, again). ``max_bytes`` bounds the memory held meanwhile: a tree takes ~25 times its file.
    """
    try:
        paths = environment_files(root)
        root_real = root.resolve()
        readable = [path for path in paths if _leads(path, root_real) == "file"]
        if sum(path.stat().st_size for path in readable) > max_bytes:
            return
    except (UserError, OSError):  # a folder that cannot be listed (no read permission): loading reports it
        return
    for path in readable:
        try:
            _layer(path, layers)
        except (UserError, OSError):
            continue


def _leads(path: Path, root_real: Path) -> Literal["outside", "nowhere", "file"]:
    """Where entry ``path`` of the environments folder (real path ``root_real``) leads: ``"outside"`` the folder
    (never read: its content, a runner's credentials say, would be quoted back in messages), ``"nowhere"`` (not a
    regular file), else ``"file"``: the only entries loading reads."""
    real = Path(os.path.realpath(path))
    if not real.is_relative_to(root_real):
        return "outside"
    return "file" if real.is_file() else "nowhere"


def _layer(path: Path, cache: dict[Path, SourceNode]) -> SourceNode:
    resolved = path.resolve()
    if resolved not in cache:
        cache[resolved] = parse_layer(read_text(path, shown_path(path)), path)
    return cache[resolved]


def _kind_of(node: SourceNode) -> str:
    if node.is_sequence:
        return "list"
    if isinstance(node.value, str):
        return "text value"
    return "number" if isinstance(node.value, (int, float)) and not isinstance(node.value, bool) else "plain value"


def load_environment(path: Path, root: Path, cache: dict[Path, SourceNode] | None = None) -> LoadedEnvironment:
    """Load one environment file, resolving its `extends:` chain within ``root``."""
    cache = {} if cache is None else cache
    chain = extends_chain(path, root, cache)
    merged = merge_layers([_layer(layer, cache) for layer in chain])
    try:
        spec = Environment.model_validate(merged.plain())
    except ValidationError as error:
        raise UserErrors(validation_errors(error, merged, Environment)) from None
    from mlgitops.load.files import read_named_files

    files = read_named_files(spec, merged, {shown_path(layer): layer for layer in chain}, root)
    return LoadedEnvironment(name=path.stem, file=shown_path(path), spec=spec.with_files(files), tree=merged)


def extends_chain(path: Path, root: Path, cache: dict[Path, SourceNode]) -> list[Path]:
    """The environment file and the bases it extends, nearest first: ``[prod.yaml, base.yaml]``."""
    chain = [path]
    resolved = {path.resolve()}  # the chain's files, resolved once each: the cycle check stays linear
    tree = _layer(path, cache)
    while "extends" in tree.mapping():
        extends = tree.mapping()["extends"]
        if len(chain) >= MAX_EXTENDS_CHAIN:
            raise UserError(
                f"extends: more than {MAX_EXTENDS_CHAIN} files in one chain of bases; flatten the chain", extends.location
            )
        base = _base_path(extends, chain[-1], root, chain, resolved)
        chain.append(base)
        resolved.add(base.resolve())
        tree = _layer(base, cache)
    return chain


def merge_layers(layers: list[SourceNode]) -> SourceNode:
    """Layers (nearest first, as ``extends_chain`` lists them) merged into one tree, without `extends`/`abstract`."""
    merged = strip_deletes(layers[-1])
    for layer in reversed(layers[:-1]):
        merged = merge(merged, layer)
    body = {k: v for k, v in merged.mapping().items() if k not in LAYER_KEYS}
    return SourceNode(body, merged.location, merged.key_location)


def _base_path(extends: SourceNode, child: Path, root: Path, chain: list[Path], resolved: set[Path]) -> Path:
    if not isinstance(extends.value, str) or not extends.value:
        raise UserError("extends: must be the file name of a base environment, e.g. 'base.yaml'", extends.location)
    name = _shortened(extends.value)
    target = child.parent / extends.value
    try:
        root_real = root.resolve()
        real = target.resolve()
        inside = real.is_relative_to(root_real)
        found = inside and real.is_file()
    except (OSError, ValueError, RuntimeError) as error:
        # A NUL byte, an over-long name or a symlink loop: the OS cannot even look the file up.
        reason = (getattr(error, "strerror", None) or "a symlink loop").lower()
        if isinstance(error, ValueError):
            reason = "it holds a NUL character"
        raise UserError(f"extends: {name} is not a usable file name ({reason})", extends.location) from None
    if not inside:
        raise UserError(
            f"extends: {name} leads outside {shown_path(root)}/; bases must live inside that folder",
            extends.location,
        )
    if not found:
        raise UserError(f"extends: base file {name} not found next to {shown_path(child)}", extends.location)
    if real in resolved:
        cycle = " -> ".join([*(shown_path(p) for p in chain), shown_path(target)])
        raise UserError(f"extends: cycle {cycle}", extends.location)
    return target


def _shortened(text: str, limit: int = 80) -> str:
    """``text`` quoted for a message, cut short: a hostile file can make it megabytes long."""
    return repr(text) if len(text) <= limit else f"{text[:limit]!r}... ({len(text):,} characters)"
