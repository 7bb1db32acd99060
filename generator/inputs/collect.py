"""What `mlgitops lint` reads: files, folders, stdin and kustomize roots, as located manifests."""

from __future__ import annotations

import contextlib
import os
import shlex
import sys
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from mlgitops.errors import Location, UserError
from mlgitops.inputs.ignored import Ignored
from mlgitops.inputs.kustomize_roots import KUSTOMIZATION_NAMES, kustomization_file, leads_inside, needs_build
from mlgitops.inputs.kustomize_sources import check_sources
from mlgitops.kube.manifest import Manifest, ManifestsRead, load_manifests, read_manifests
from mlgitops.paths import readable, repository_root
from mlgitops.processes.parallel import map_in_two
from mlgitops.yaml.reader import load_documents
from mlgitops.yaml.text import MANIFEST_BYTES, decode, read_capped, read_stream_capped

MANIFEST_SUFFIXES = (".yaml", ".yml", ".json")
# A kustomization using any of these changes objects, so its files alone do not say what is applied.
MAX_FILE_BYTES = MANIFEST_BYTES
STDIN = "<stdin>"
# Bytes of YAML from which parsing is split over two processes (a fork and a pickle cost ~10 ms).
PARSE_IN_TWO_FROM = 256 * 1024
ENVIRONMENT_LABEL = "mlgitops.io/environment"
# From about this much YAML a lint takes a second or more: a progress line is worth showing.
PROGRESS_FROM_BYTES = 4_000_000
Progress = Callable[[int, str, int], AbstractContextManager[Callable[[int], None]]]
"""Opens a progress line: (total units, label, minimum units worth showing) → advance(units)."""


@dataclass
class LintInput:
    """What lint read: the manifests, how many files, notes for stderr, and the inputs it could not read.

    ``errors`` do not stop the run: the rest is linted and reported, and the command exits 2.
    """

    manifests: list[Manifest] = field(default_factory=list)
    files: int = 0
    notes: list[str] = field(default_factory=list)
    errors: list[UserError] = field(default_factory=list)
    skipped: dict[str, int] = field(default_factory=dict)
    """Documents that are not Kubernetes objects, by file (only when walking folders)."""
    left_out: dict[int, int] = field(default_factory=dict)
    """Files and folders a walk left out (.gitignore, --exclude), by argument: named when it finds nothing to lint."""


def _shown(path: Path) -> str:
    from mlgitops.paths import shown_path

    return shown_path(path)


def _read(path: Path | str, shown: str) -> str:
    try:
        # Bounded: a link to /dev/zero or a huge file must not exhaust memory before it is refused.
        raw, size = read_capped(path, MAX_FILE_BYTES)
    except OSError as error:
        raise UserError(f"cannot read: {error.strerror}", Location(shown, 1, 1)) from None
    return _decoded(raw, size, shown)


def _decoded(raw: bytes, size: int | None, shown: str) -> str:
    if len(raw) > MAX_FILE_BYTES:
        amount = f"{size:,} bytes" if size is not None and size > len(raw) else f"more than {MAX_FILE_BYTES:,} bytes"
        raise UserError(f"file is {amount}; mlgitops lints files up to {MAX_FILE_BYTES:,} bytes", Location(shown, 1, 1))
    return decode(raw, shown, "not a YAML file")


def read_stdin() -> str:
    """Standard input as text, capped like a file (a pipe may never end)."""
    return _decoded(read_stream_capped(sys.stdin.buffer, MAX_FILE_BYTES), None, STDIN)


_OUTSIDE = "a symbolic link leading outside {root}/ is not followed; name its target on the command line to lint it"


def _kustomization_settings(path: Path) -> Manifest:
    """The kustomization's fields (an empty mapping when it holds none), with their positions."""
    shown = _shown(path)
    text = _read(path, shown)
    documents = load_documents(text, shown)
    if documents and isinstance(documents[0], dict):
        # Positions are composed from ``text`` only if a message needs one.
        return Manifest(obj=documents[0], file=shown, text=text)
    return Manifest(obj={}, file=shown)


def _build_with_kustomize(folder: Path, allow_remote: bool) -> tuple[str, str | None]:
    """The built stream, and the scratch folder its origin annotations are relative to (None: no origins)."""
    from mlgitops.inputs.kustomize_build import build

    raw, scratch = build(folder, _shown(folder), MAX_FILE_BYTES, allow_remote)
    return _decoded(raw, None, f"{_shown(folder)} (built)"), scratch


def _readable_origin(path: Path) -> tuple[str, str] | None:
    """A file a built object came from, if lint may read it: a regular file under the working directory."""
    if not path.is_file() or not leads_inside(path, os.path.realpath(os.getcwd())):
        return None
    shown = _shown(path)
    try:
        return shown, _read(path, shown)
    except UserError:
        return None


def _built_manifests(
    folder: Path, kustomization: Path, settings: dict[str, Any], found: LintInput, allow_remote: bool
) -> list[Manifest]:
    from mlgitops.kube.kustomize_origin import point_at_origins

    text, scratch = _build_with_kustomize(folder, allow_remote)
    manifests = load_manifests(text, f"{_shown(kustomization)} (built)")
    build_metadata = settings.get("buildMetadata")
    keep = isinstance(build_metadata, list) and "originAnnotations" in build_metadata
    moved = point_at_origins(manifests, scratch, _readable_origin, keep) if scratch is not None else 0
    if moved < len(manifests):
        found.notes.append(
            f"{_shown(folder)}: linted the output of kubectl kustomize; {len(manifests) - moved} object(s) "
            "are located in the built stream (no file of theirs to point at)"
        )
    return manifests


def _environment(manifest: Manifest) -> None:
    labels = (manifest.obj.get("metadata") or {}).get("labels") if isinstance(manifest.obj.get("metadata"), dict) else None
    if isinstance(labels, dict) and isinstance(labels.get(ENVIRONMENT_LABEL), str):
        manifest.environment = labels[ENVIRONMENT_LABEL]


def _default_namespace(manifests: list[Manifest], namespace: str | None) -> None:
    if not namespace:
        return
    for manifest in manifests:
        metadata = manifest.obj.setdefault("metadata", {})
        if isinstance(metadata, dict) and not metadata.get("namespace") and manifest.obj.get("kind") != "Namespace":
            metadata["namespace"] = namespace


class _Found(NamedTuple):
    """The file a path leads to, (device, inode), so that one file reached twice is read once; and its size."""

    identity: tuple[int, int]
    size: int


def _stat(path: Path | os.DirEntry[str]) -> _Found | None:
    try:
        status = path.stat()
    except OSError:
        return None
    return _Found((status.st_dev, status.st_ino), status.st_size)


@dataclass(frozen=True)
class _FileToLoad:
    path: str
    shown: str
    namespace: str | None
    strict: bool
    """Named on the command line: every document must be a Kubernetes object. Found in a folder: others are skipped."""
    root: int
    """Which command-line argument led here."""


def _load_file(job: _FileToLoad) -> ManifestsRead | UserError:
    """One file's manifests, or the error that stops it (returned: it may cross a process boundary)."""
    try:
        read = read_manifests(_read(job.path, job.shown), job.shown, strict=job.strict)
    except UserError as error:
        return error
    _default_namespace(read.manifests, job.namespace)
    return read


def collect(
    paths: list[str], allow_remote: bool = False, progress: Progress | None = None, excludes: Sequence[str] = ()
) -> LintInput:
    """Every manifest under ``paths``, and every input that could not be read (``LintInput.errors``).

    Files named on the command line (and stdin) must hold Kubernetes objects only; in folders,
    other documents (CI workflows, Helm values, package.json) are skipped and counted. A file
    that is not valid YAML is an error for that file alone; a folder with no manifest at all is
    an error too. ``allow_remote`` lets kubectl kustomize fetch remote resources and read bases
    outside the repository (helm and plugins never run: see ``kustomize_sources``).
    ``progress(total_bytes, label, minimum)`` opens a progress line that parsing advances by each file's size.
    Folder walks leave out what git ignores and what ``excludes`` (``--exclude``, gitignore syntax) names; a file
    named on the command line is left out only when ``excludes`` names it (``inputs/ignored.py``).
    """
    found = LintInput()
    skip = Ignored(excludes)
    errors = found.errors
    seen: set[tuple[int, int]] = set()
    folders: set[tuple[int, int]] = set()
    broken: set[int] = set()  # arguments under which something could not be read
    again: set[int] = set()  # arguments that reach files or folders an earlier argument already lints
    # In input order: files still to parse, and manifests already read (stdin, kustomize output), by argument.
    parts: list[tuple[int, _FileToLoad | list[Manifest]]] = []
    sizes: list[int] = []
    named_kustomizations: list[tuple[Path, str]] = []

    def add_file(path: str, shown: str, namespace: str | None, stat: _Found | None, *, strict: bool, root: int) -> None:
        if os.path.basename(path) in KUSTOMIZATION_NAMES:
            if strict:
                named_kustomizations.append((Path(path), shown))
            return
        if stat is not None and stat.identity in seen:
            again.add(root)
            return
        if stat is not None:
            seen.add(stat.identity)
        found.files += 1
        parts.append((root, _FileToLoad(path, shown, namespace, strict, root)))
        sizes.append(stat.size if stat is not None else 0)

    def add_folder(folder: Path, shown_folder: str, namespace: str | None, root: str, argument: int) -> None:
        before = len(errors)
        # A folder named on the command line is linted even when git ignores it (as `git add -f` would add it).
        gitignore = not skip.ignored(folder, is_dir=True)
        try:
            walk_folder(folder, shown_folder, namespace, root, argument, gitignore)
        except RecursionError:  # each folder level is a frame of the walk: Python's limit is about 1,000
            errors.append(
                UserError(f"{shown_folder}: folders nested too deep to walk (hundreds of levels); lint the deepest ones by name")
            )
        if len(errors) > before:
            broken.add(argument)

    def walk_folder(
        folder: Path, shown_folder: str, namespace: str | None, root: str, argument: int, gitignore: bool = True
    ) -> None:
        stat = _stat(folder)
        if stat is not None:
            if stat.identity in folders:
                again.add(argument)
                return  # reached again through a link: a loop, or a folder already linted
            folders.add(stat.identity)
        kustomization = kustomization_file(folder)
        if kustomization is not None and kustomization.is_symlink() and not leads_inside(kustomization, root):
            shown = f"{shown_folder.rstrip('/')}/{kustomization.name}" if shown_folder != "." else kustomization.name
            errors.append(UserError(_OUTSIDE.format(root=_shown(Path(root))), Location(shown, 1, 1)))
            return
        if kustomization is not None:
            try:
                located = _kustomization_settings(kustomization)
                settings = located.obj
            except UserError as error:
                errors.append(error)
                return
            if needs_build(folder, settings):
                seen.update(linked.identity for child in folder.rglob("*") if (linked := _stat(child)) is not None)
                try:
                    check_sources(folder, located, repository_root(folder), _kustomization_settings, allow_remote)
                    parts.append((argument, _built_manifests(folder, kustomization, settings, found, allow_remote)))
                except UserError as error:
                    errors.append(error)
                    return
                found.files += 1
                return
            namespace = settings.get("namespace") if isinstance(settings.get("namespace"), str) else namespace
        try:
            with os.scandir(folder) as scan:
                entries = sorted(scan, key=lambda entry: entry.name)
        except OSError as error:
            errors.append(UserError(f"{shown_folder}: cannot read this folder: {error.strerror}"))
            return
        rules = skip.rules(folder, gitignore)
        for entry in entries:
            if entry.name.startswith("."):
                continue
            if rules.leaves_out(entry.name, is_dir=entry.is_dir(), is_symlink=entry.is_symlink(), gitignore=gitignore):
                found.left_out[argument] = found.left_out.get(argument, 0) + 1
                continue
            name = readable(entry.name)
            shown = f"{shown_folder.rstrip('/')}/{name}" if shown_folder != "." else name
            if entry.is_symlink() and not leads_inside(Path(entry.path), root):
                errors.append(UserError(_OUTSIDE.format(root=_shown(Path(root))), Location(shown, 1, 1)))
                continue
            if entry.is_dir():
                walk_folder(Path(entry.path), shown, namespace, root, argument, gitignore)
            elif entry.name.endswith(MANIFEST_SUFFIXES) and entry.is_file():
                add_file(entry.path, shown, namespace, _stat(entry), strict=False, root=argument)

    folder_arguments: dict[int, str] = {}
    for argument, raw in enumerate(paths):
        if raw == "-":
            found.files += 1
            try:
                parts.append((argument, load_manifests(read_stdin(), STDIN)))
            except UserError as error:
                errors.append(error)
            continue
        path = Path(raw)
        if skip.excluded(path, path.is_dir()):
            continue
        if path.is_dir():
            folder_arguments[argument] = _shown(path)
            add_folder(path, _shown(path), None, os.path.realpath(path), argument)
        elif path.is_file():
            add_file(str(path), _shown(path), None, _stat(path), strict=True, root=argument)
        elif path.exists():
            errors.append(UserError(f"{raw}: not a regular file or folder; name YAML files or folders of them"))
        else:
            errors.append(UserError(f"{raw}: no such file or folder"))
    if named_kustomizations and not parts and not errors:  # a kustomization named alone: say what it is
        errors.extend(_kustomization_named(path, shown) for path, shown in named_kustomizations)
    _load_parts(found, parts, sizes, {a: f for a, f in folder_arguments.items() if a not in broken | again}, progress)
    for manifest in found.manifests:
        _environment(manifest)
    return found


def _load_parts(
    found: LintInput,
    parts: list[tuple[int, _FileToLoad | list[Manifest]]],
    sizes: list[int],
    folders: dict[int, str],
    progress: Progress | None,
) -> None:
    """Parse the files (in two processes when it pays), in input order; note what was skipped and empty folders."""
    files = [part for _, part in parts if isinstance(part, _FileToLoad)]
    with progress(sum(sizes), "reading", PROGRESS_FROM_BYTES) if progress else contextlib.nullcontext(None) as advance:
        loaded = iter(map_in_two(_load_file, files, sizes, min_weight=PARSE_IN_TWO_FROM, advance=advance))
    per_argument: dict[int, int] = {}
    failed: set[int] = set()
    for argument, part in parts:
        result = next(loaded) if isinstance(part, _FileToLoad) else part
        if isinstance(result, UserError):
            found.errors.append(result)
            failed.add(argument)
            continue
        manifests = result.manifests if isinstance(result, ManifestsRead) else result
        if isinstance(result, ManifestsRead) and result.skipped and isinstance(part, _FileToLoad):
            found.skipped[part.shown] = result.skipped
        per_argument[argument] = per_argument.get(argument, 0) + len(manifests)
        found.manifests += manifests
    if found.skipped:
        documents = sum(found.skipped.values())
        names = sorted(found.skipped)
        shown = ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
        found.notes.append(
            f"skipped {documents} document(s) in {len(names)} file(s) that are not Kubernetes objects "
            f"(no apiVersion and kind): {shown}"
        )
    for argument, folder in folders.items():
        if not per_argument.get(argument) and argument not in failed:
            in_folder = sum(1 for root, part in parts if root == argument and isinstance(part, _FileToLoad))
            found.errors.append(_nothing_to_lint(in_folder, folder, found.left_out.get(argument, 0)))
    if not found.manifests and not found.errors:  # files named one by one, none with an object
        found.errors.append(
            _nothing_to_lint(found.files, ", ".join(sorted({p.shown for _, p in parts if isinstance(p, _FileToLoad)})))
        )


def _kustomization_named(path: Path, shown: str) -> UserError:
    """A kustomization file named on its own: what it is, and that its folder is what to lint."""
    folder = _shown(Path(shown).parent)
    try:
        built = needs_build(path.parent, _kustomization_settings(path).obj)
    except UserError as error:
        return error
    how = (
        "lint builds it with kubectl kustomize, as Argo CD and Flux do (it transforms what it lists), and lints the result"
        if built
        else "lint reads the files it lists"
    )
    return UserError(
        f"{path.name} is a kustomization (what kustomize builds), not Kubernetes objects: lint its folder instead "
        f"(mlgitops lint {shlex.quote(folder)}): {how}",
        Location(shown, 1, 1),
    )


def _nothing_to_lint(files: int, where: str, left_out: int = 0) -> UserError:
    """The error for an input that holds nothing to lint; ``left_out`` entries a walk skipped are named as the cause."""
    what = "no .yaml, .yml or .json files" if not files else f"{files} file(s) but no Kubernetes object"
    why = (
        f"{left_out} file(s) or folder(s) there are left out by .gitignore or --exclude; "
        if left_out
        else "manifests are YAML or JSON documents with apiVersion and kind; "
    )
    return UserError(f"nothing to lint: found {what} in {where or 'the input'} ({why}name the files or folders that hold them)")
