"""The rendered/ folder: compare it with fresh output, and replace environments atomically.

Each environment folder is written in full to a hidden sibling and swapped in with renames,
under an exclusive lock on rendered/, so a failed or interrupted run leaves the previous
tree intact and two concurrent runs never mix their files. Only folders mlgitops can prove it
wrote are replaced or deleted (see ownership.py); files are created with safe_write.py, never
through a link.
The lock is the repository's (lock.py): the one `render`, `set` and `promote` hold while they read
what they then write.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from mlgitops.errors import UserError
from mlgitops.output.file_diff import file_diff
from mlgitops.output.lock import repository_lock
from mlgitops.output.ownership import owned_folders, with_marker
from mlgitops.output.safe_write import create_files, exchange, require_real_folder
from mlgitops.paths import same_file_key, shown_path
from mlgitops.yaml.text import MANIFEST_BYTES, read_capped

NEW_PREFIX = ".mlgitops-new-"
OLD_PREFIX = ".mlgitops-old-"


@dataclass(frozen=True)
class Drift:
    """One file that differs between rendered/ and fresh output."""

    path: str
    state: str  # "stale", "missing" or "extra"
    diff: str


@dataclass
class Written:
    """What `write` changed, and leftovers it could not clean up (the tree itself is whole)."""

    changed: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def check_output_root(root: Path) -> set[str]:
    """Refuse an output folder that is a link or holds anything mlgitops did not write; its owned folders."""
    if root.is_symlink():
        raise UserError(f"output folder {root} is a symbolic link; refusing to write through it")
    if root.exists() and not root.is_dir():
        raise UserError(f"output folder {root} exists and is not a folder")
    try:
        return owned_folders(root)
    except OSError as error:
        raise UserError(f"cannot read the output folder {root}: {error.strerror}") from None


def _read_tree(folder: Path) -> dict[str, str]:
    files: dict[str, str] = {}
    if not folder.is_dir():
        return files
    for relative, path, link in _entries(str(folder)):
        if link:
            # rendered/ comes from the pull request: a link to ~/.aws/credentials would be echoed
            # by --check's diff, and one to /dev/zero never ends. Show the link, never its target.
            files[relative] = f"<symbolic link to {os.readlink(path)}>\n"
            continue
        try:
            raw, size = read_capped(path, MANIFEST_BYTES)
            files[relative] = raw.decode("utf-8") if len(raw) <= MANIFEST_BYTES else f"<{size:,} bytes: too large to show>\n"
        except (OSError, UnicodeDecodeError):
            files[relative] = "<unreadable>\n"
    return files


def _entries(folder: str, prefix: tuple[str, ...] = ()) -> list[tuple[str, str, bool]]:
    """Every file and link under ``folder`` as (relative posix path, path, is a link), ordered by path parts.

    Links (to folders too) are listed, never followed; special files (fifos, sockets) are left out;
    a folder that cannot be listed lists nothing. Strings and ``os.scandir``: a fleet has thousands of files.
    """
    try:
        with os.scandir(folder) as scan:
            entries = sorted(scan, key=lambda entry: entry.name)
    except OSError:
        return []
    found: list[tuple[str, str, bool]] = []
    for entry in entries:
        parts = (*prefix, entry.name)
        if entry.is_symlink():
            found.append(("/".join(parts), entry.path, True))
        elif entry.is_dir():
            found += _entries(entry.path, parts)
        elif entry.is_file():
            found.append(("/".join(parts), entry.path, False))
    return found


def refuse_case_collisions(root: Path, wanted: Mapping[str, Mapping[str, str]]) -> None:
    """Raise UserError for two output paths that differ only in letter case (or Unicode normalization): one file
    on macOS and Windows checkouts, where one would silently replace the other."""
    seen: dict[str, str] = {}
    for folder in sorted(wanted):
        for name in sorted(["", *wanted[folder]]):
            path = f"{folder}/{name}" if name else folder
            first = seen.setdefault(same_file_key(path), path)
            if first != path:
                raise UserError(
                    f"{shown_path(root / first)} and {shown_path(root / path)} differ only in letter case: they would be "
                    "one file on macOS and Windows checkouts; rename one"
                )


def _plan(root: Path, wanted: Mapping[str, Mapping[str, str]], remove_stale: bool) -> tuple[dict[str, dict[str, str]], set[str]]:
    """Each folder's files with its ownership marker, and the owned folders no environment wants any more."""
    refuse_case_collisions(root, wanted)
    owned = check_output_root(root)
    marked = {folder: with_marker(files) for folder, files in wanted.items()}
    return marked, (owned - set(wanted) if remove_stale else set())


def drift(root: Path, wanted: Mapping[str, Mapping[str, str]], remove_stale: bool = False) -> list[Drift]:
    """Differences between ``root`` and ``wanted`` (folder → file → text), plus owned folders to remove."""
    marked, remove = _plan(root, wanted, remove_stale)
    found: list[Drift] = []
    for environment in sorted(marked):
        on_disk = _read_tree(root / environment)
        files = marked[environment]
        for name in sorted(set(files) | set(on_disk)):
            shown = f"{root.name}/{environment}/{name}"
            if name not in on_disk:
                found.append(Drift(shown, "missing", file_diff("/dev/null", shown, "", files[name])))
            elif name not in files:
                found.append(Drift(shown, "extra", file_diff(shown, "/dev/null", on_disk[name], "")))
            elif on_disk[name] != files[name]:
                found.append(Drift(shown, "stale", file_diff(shown, shown, on_disk[name], files[name])))
    for environment in sorted(remove):
        for name, text in _read_tree(root / environment).items():
            shown = f"{root.name}/{environment}/{name}"
            found.append(Drift(shown, "extra", file_diff(shown, "/dev/null", text, "")))
    return found


def _discard(folder: Path, warnings: list[str]) -> None:
    """Delete a folder mlgitops no longer needs; what cannot be deleted is reported, never fatal."""
    try:
        shutil.rmtree(folder)
    except OSError as error:
        warnings.append(
            f"could not remove {shown_path(folder)}: {error.strerror or error} (remove it by hand; the next render tries again)"
        )


def _recover(root: Path, warnings: list[str]) -> None:
    """Undo what an interrupted run left: restore a moved-away folder, drop half-written ones."""
    leftovers = sorted(child for child in root.iterdir() if child.name.startswith((NEW_PREFIX, OLD_PREFIX)))
    for leftover in leftovers:
        # Runs leave only folders; a file under the name (committed by mistake or on purpose) would
        # otherwise crash rmtree, or be renamed into place as an environment "folder".
        if leftover.is_symlink() or not leftover.is_dir():
            raise UserError(f"{leftover} is not a folder an interrupted render left behind; remove it and render again")
    for leftover in leftovers:
        if leftover.name.startswith(OLD_PREFIX):
            environment = leftover.name[len(OLD_PREFIX) :].rsplit("-", 1)[0]
            target = root / environment
            if environment and not target.exists() and not target.is_symlink():
                leftover.rename(target)
                continue
        _discard(leftover, warnings)


def _undeletable(folder: Path) -> Path | None:
    """A folder under ``folder`` (or itself) whose entries this process may not delete, or None."""
    for current, folders, _ in os.walk(folder):
        if not os.access(current, os.W_OK | os.X_OK):
            return Path(current)
        folders[:] = [name for name in folders if not os.path.islink(os.path.join(current, name))]
    return None


def _preflight(root: Path, replaced: list[str]) -> None:
    """Refuse, before anything changes, a swap whose old folders could not be deleted afterwards."""
    if not os.access(root, os.W_OK | os.X_OK):
        raise UserError(f"cannot write to the output folder {shown_path(root)}: permission denied; nothing was changed")
    for name in replaced:
        blocked = _undeletable(root / name) if (root / name).exists() else None
        if blocked is not None:
            raise UserError(
                f"cannot replace {shown_path(root / name)}: {shown_path(blocked)} is read-only (make it writable and "
                "render again); nothing was changed"
            )


@contextlib.contextmanager
def output_root(root: Path) -> Iterator[None]:
    """The output folder of a run that will write into it: checked (``check_output_root``) and created before the
    run takes the repository lock (outside git the lock lives beside it), and removed again when the run leaves
    it as it found it: missing (a render refused for bad input creates nothing)."""
    check_output_root(root)
    created = not os.path.lexists(root)
    _create_root(root)
    try:
        yield
    finally:
        if created:
            with contextlib.suppress(OSError):
                root.rmdir()  # only when still empty


def _create_root(root: Path) -> None:
    try:
        require_real_folder(root)
        root.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise UserError(f"cannot create the output folder {root}: {error.strerror or error}") from None


@dataclass
class StagedTree:
    """Output folders written in full beside the ones they replace, not yet swapped in (see :func:`stage`)."""

    root: Path
    folders: list[tuple[str, Path]] = field(default_factory=list)
    """(environment, its staged folder), in order; after the swap, the staged path holds the previous folder."""
    remove: list[str] = field(default_factory=list)
    swapped: list[tuple[str, Path, bool]] = field(default_factory=list)
    """(environment, where its previous folder is now, whether the target existed) for each folder swapped in."""
    result: Written = field(default_factory=Written)
    created_root: bool = False


def stage(root: Path, wanted: Mapping[str, Mapping[str, str]], remove_stale: bool = False, durable: bool = False) -> StagedTree:
    """Write every folder whose content differs to a hidden sibling; nothing in ``root`` changes yet.

    Call under the repository lock (``lock.repository_lock``): leftovers of an interrupted run are cleaned
    first. ``durable`` flushes every staged file to disk. Raises UserError, with nothing left behind, when a
    folder cannot be written or an old one could not be deleted after the swap.
    """
    staged = StagedTree(root, created_root=not os.path.lexists(root))
    _create_root(root)
    _recover(root, staged.result.warnings)
    marked, remove = _plan(root, wanted, remove_stale)
    changing = [name for name in sorted(marked) if _read_tree(root / name) != marked[name]]
    _preflight(root, [*changing, *sorted(remove)])
    staged.remove = sorted(remove)
    try:
        for environment in changing:
            folder = Path(tempfile.mkdtemp(prefix=f"{NEW_PREFIX}{environment}-", dir=root))
            staged.folders.append((environment, folder))
            create_files(folder, sorted(marked[environment].items()), durable=durable)
    except (OSError, UserError) as error:
        discard(staged)
        reason = error.message if isinstance(error, UserError) else error.strerror or str(error)
        raise UserError(f"cannot write to {root}: {reason}; nothing was changed") from None
    return staged


def commit(staged: StagedTree) -> None:
    """Swap every staged folder in; if one swap fails, swap back those done and raise UserError."""
    try:
        for environment, folder in staged.folders:
            target = staged.root / environment
            if not target.exists():
                folder.rename(target)
                staged.swapped.append((environment, folder, False))
            elif exchange(folder, target):
                # The folders swapped places in one step: the stage now holds the previous content.
                staged.swapped.append((environment, folder, True))
            else:
                old = staged.root / f"{OLD_PREFIX}{environment}-{os.getpid()}"
                target.rename(old)
                try:
                    folder.rename(target)
                except OSError:
                    old.rename(target)
                    raise
                staged.swapped.append((environment, old, True))
    except OSError as error:
        undo(staged)
        raise UserError(f"cannot write to {staged.root}: {error.strerror or error}; nothing was changed") from None


def undo(staged: StagedTree) -> None:
    """Put back the folders :func:`commit` swapped in (newest first), and drop every staged folder."""
    for environment, previous, existed in reversed(staged.swapped):
        target = staged.root / environment
        with contextlib.suppress(OSError):
            if not existed:
                target.rename(previous)
            elif not exchange(previous, target):
                aside = staged.root / f"{NEW_PREFIX}{environment}-undo-{os.getpid()}"
                target.rename(aside)
                previous.rename(target)
                previous = aside
        staged.folders = [(name, previous if name == environment else path) for name, path in staged.folders]
    staged.swapped = []
    discard(staged)


def discard(staged: StagedTree) -> None:
    """Remove the staged folders of a tree that is not (or no longer) swapped in."""
    for _, folder in staged.folders:
        shutil.rmtree(folder, ignore_errors=True)
    if staged.created_root and not staged.swapped:
        with contextlib.suppress(OSError):
            staged.root.rmdir()  # only when empty


def finish(staged: StagedTree) -> Written:
    """After :func:`commit`: delete the previous folders and the owned folders no longer wanted."""
    result = staged.result
    for environment, previous, existed in staged.swapped:
        if existed:
            _discard(previous, result.warnings)
        result.changed.append(environment)
    for environment in staged.remove:
        _discard(staged.root / environment, result.warnings)
        result.changed.append(environment)
    return result


def write(root: Path, wanted: Mapping[str, Mapping[str, str]], remove_stale: bool = False) -> Written:
    """Replace each folder whose content differs, delete owned folders no longer wanted (``remove_stale``).

    All or nothing: every folder is written before the first is swapped in, and a failed swap puts the
    others back.
    """
    refuse_case_collisions(root, wanted)
    check_output_root(root)
    with repository_lock(root):
        staged = stage(root, wanted, remove_stale)
        commit(staged)
        return finish(staged)
