"""Creating files without ever writing through a symbolic link or over a file that is already there.

Every writer of mlgitops (the rendered tree's staging folders, `init`, `diff`'s scratch checkout)
creates files with this module: each folder on the way is created or must be a real folder (not a
link), and each file is opened with ``O_CREAT | O_EXCL | O_NOFOLLOW``, so a link planted under the
name (even a dangling one) makes the write fail instead of landing wherever the link points.
`set` and `promote` replace an environment file the same way: the new text goes to a new hidden
sibling (``.NAME.<hex>.mlgitops``), is flushed to disk and swapped with the file, which must be a
regular file (not a link). An edit that replaces several files stages every one of them first
(:func:`stage_file`), then swaps them in (:func:`commit_file`), and swaps back what it had swapped
(:func:`undo_file`) if a later step fails: all of it, or none. Siblings a killed run left behind are
found by :func:`leftovers` and removed under the repository lock by the next run.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import os
import re
import secrets
import shutil
import stat
import sys
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from mlgitops.errors import UserError
from mlgitops.paths import shown_path

_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
TEMPORARY_SUFFIX = ".mlgitops"
_TEMPORARY = re.compile(r"^\.(?P<name>.+)\.[0-9a-f]{12}\.mlgitops$", re.DOTALL)


def require_real_folder(path: Path) -> None:
    """Raise unless ``path`` is missing or a real folder (a link to one is refused)."""
    try:
        status = os.lstat(path)
    except FileNotFoundError:
        return
    if stat.S_ISLNK(status.st_mode):
        raise UserError(f"{shown_path(path)} is a symbolic link; mlgitops never writes through links (remove it)")
    if not stat.S_ISDIR(status.st_mode):
        raise UserError(f"{shown_path(path)} exists and is not a folder")


def refuse_links_on_the_way(base: Path, relative: str) -> None:
    """Raise if ``base`` or any existing folder between it and ``base/relative`` is a link."""
    folder = base
    require_real_folder(folder)
    for part in PurePosixPath(relative).parent.parts:
        folder = folder / part
        require_real_folder(folder)


def make_folders(base: Path, relative: PurePosixPath) -> Path:
    """``base/relative`` as a real folder, creating what is missing; ``base`` must exist."""
    folder = base
    for part in relative.parts:
        if part in ("", ".", "..") or "/" in part:
            raise UserError(f"{relative} is not a plain relative path")
        folder = folder / part
        require_real_folder(folder)
        if not folder.exists():
            os.mkdir(folder)
    return folder


def create_file(base: Path, relative: str, content: str | bytes) -> Path:
    """Write a new file at ``base/relative``; folders on the way are created (never followed if links).

    Raises FileExistsError when anything (a file, a link, even a dangling one) already has the name,
    UserError when a folder on the way is a link, and OSError for what the file system refuses.
    """
    path = PurePosixPath(relative)
    folder = make_folders(base, path.parent) if path.parent != PurePosixPath(".") else base
    target = folder / path.name
    _write_new(os.fspath(target), content)
    return target


def create_files(base: Path, files: Iterable[tuple[str, str | bytes]], durable: bool = False) -> None:
    """``create_file`` for each (relative posix path, content), each folder on the way checked and created once.

    A render writes thousands of files into a handful of folders of a fresh staging folder:
    the folders are looked at once each, not once per file. ``durable`` flushes each file to disk
    (an edit's few folders; a render's thousands of files are not worth the wait). Raises as ``create_file`` does.
    """
    folders: dict[str, str] = {}
    for relative, content in files:
        parent, _, name = relative.rpartition("/")
        folder = folders.get(parent)
        if folder is None:
            folder = folders[parent] = os.fspath(make_folders(base, PurePosixPath(parent)))
        if name in ("", ".", ".."):
            raise UserError(f"{relative} is not a plain relative path")
        _write_new(os.path.join(folder, name), content, durable)


def _write_new(target: str, content: str | bytes, durable: bool = False) -> None:
    data = content.encode("utf-8") if isinstance(content, str) else content
    descriptor = os.open(target, _FLAGS, 0o644)
    try:
        _write_all(descriptor, data)
        if durable:
            os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _write_all(descriptor: int, data: bytes) -> None:
    """Write every byte (os.write may write fewer): no file object per file, a render writes thousands."""
    view = memoryview(data)
    while view:
        view = view[os.write(descriptor, view) :]


def check_replaceable(path: Path) -> os.stat_result | None:
    """The file's status if it may be replaced (a regular file in a real folder, or none yet); else a UserError."""
    shown = shown_path(path)
    require_real_folder(path.parent)
    try:
        status = os.lstat(path)
    except FileNotFoundError:
        return None
    except OSError as error:
        raise UserError(f"{shown}: cannot read file status: {error.strerror}") from None
    if stat.S_ISLNK(status.st_mode):
        raise UserError(f"{shown} is a symbolic link; mlgitops never writes through links (edit the file it points to)")
    if not stat.S_ISREG(status.st_mode):
        raise UserError(f"{shown} is not a regular file")
    return status


def temporary_sibling(path: Path) -> Path:
    """A new hidden name next to ``path`` for its next content (or its previous one, during a swap)."""
    return path.parent / f".{path.name}.{secrets.token_hex(6)}{TEMPORARY_SUFFIX}"


def leftovers(folder: Path, name: str | None = None) -> list[Path]:
    """Temporary siblings an interrupted run left in ``folder`` (of the file ``name`` only, when given), sorted.

    Only regular files are listed (a link under such a name is someone else's). Call it under the
    repository lock: then no other mlgitops process is writing one.
    """
    try:
        with os.scandir(folder) as scan:
            entries = [entry for entry in scan if entry.name.endswith(TEMPORARY_SUFFIX)]
    except OSError:
        return []
    found = []
    for entry in entries:
        matched = _TEMPORARY.match(entry.name)
        if matched and (name is None or matched.group("name") == name) and entry.is_file(follow_symlinks=False):
            found.append(Path(entry.path))
    return sorted(found)


def remove_leftovers(folder: Path, name: str | None = None) -> list[str]:
    """Remove what :func:`leftovers` finds; one warning per file (removed, or why it could not be)."""
    warnings = []
    for path in leftovers(folder, name):
        try:
            os.unlink(path)
            warnings.append(f"removed {shown_path(path)}, left by an interrupted mlgitops run")
        except OSError as error:
            warnings.append(f"could not remove {shown_path(path)}, left by an interrupted mlgitops run: {error.strerror}")
    return warnings


@dataclass
class StagedFile:
    """A file's new content, written and flushed next to it, and what swapping it in did (to undo it)."""

    target: Path
    temporary: Path
    """Holds the new content until the swap; after an atomic swap, the previous content."""
    existed: bool
    backup: Path | None = None
    """Where the previous content went when no atomic swap was available."""
    swapped: bool = False
    committed: bool = False


def stage_file(path: Path, content: bytes) -> StagedFile:
    """Write ``content`` to a new hidden sibling of ``path`` and flush it to disk; ``path`` is not touched yet.

    A link, or anything but a regular file, under the name is refused (UserError); OSError passes,
    with the sibling removed.
    """
    status = check_replaceable(path)
    temporary = temporary_sibling(path)
    mode = stat.S_IMODE(status.st_mode) if status else 0o644
    try:
        descriptor = os.open(temporary, _FLAGS, mode)
        try:
            _write_all(descriptor, content)
            os.fsync(descriptor)
        finally:
            os.close(descriptor)
        if status is not None:
            os.chmod(temporary, mode)
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    return StagedFile(path, temporary, existed=status is not None)


def commit_file(staged: StagedFile) -> None:
    """Put the staged content in place: one atomic swap where the system has one, else two renames."""
    if staged.existed and exchange(staged.temporary, staged.target):
        staged.swapped = True
    elif staged.existed:
        backup = temporary_sibling(staged.target)
        os.rename(staged.target, backup)
        staged.backup = backup
        os.rename(staged.temporary, staged.target)
    else:
        if os.path.lexists(staged.target):
            raise FileExistsError(0, "created meanwhile by another program", str(staged.target))
        os.rename(staged.temporary, staged.target)
    staged.committed = True


def undo_file(staged: StagedFile) -> None:
    """Put the previous content (or absence) of a staged file back; what it staged is removed."""
    with contextlib.suppress(OSError):
        if staged.swapped:
            exchange(staged.temporary, staged.target)
        elif staged.backup is not None:
            os.replace(staged.backup, staged.target)
            staged.backup = None
        elif staged.committed:
            os.unlink(staged.target)
    staged.swapped = staged.committed = False
    finish_file(staged)


def finish_file(staged: StagedFile) -> None:
    """Remove what a staged file leaves beside it (its previous content, or an uncommitted new one)."""
    for leftover in (staged.temporary if not staged.committed or staged.swapped else None, staged.backup):
        if leftover is not None:
            with contextlib.suppress(OSError):
                os.unlink(leftover)


def replace_file(path: Path, content: bytes) -> None:
    """Replace ``path`` so that readers (and a crash) see the old file or the new one, never half of it.

    Its permissions are kept. A link, or anything but a regular file, under the name is refused.
    """
    staged = None
    try:
        staged = stage_file(path, content)
        commit_file(staged)
    except OSError as error:
        if staged is not None:
            undo_file(staged)
        raise UserError(f"cannot write {shown_path(path)}: {error.strerror}; the file is unchanged") from None
    finish_file(staged)


STAGING_PREFIX = ".mlgitops-init-"


def create_new_files(base: Path, files: dict[str, str]) -> list[str]:
    """Create every file of ``files`` (relative posix path → text) under ``base``, all of them or none.

    Everything is written (and flushed) into a hidden staging folder in ``base`` first, then moved into
    place, none over an existing name; if anything fails, what was moved and the folders made for it are
    removed again and OSError (or UserError, for a link on the way) passes. A staging folder an
    interrupted run left is removed first; returns a warning for each.
    """
    warnings = []
    for leftover in sorted(base.glob(f"{STAGING_PREFIX}*")):
        if leftover.is_dir() and not leftover.is_symlink():
            shutil.rmtree(leftover, ignore_errors=True)
            warnings.append(f"removed {shown_path(leftover)}, left by an interrupted mlgitops init")
    stage = Path(tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=base))
    moved: list[Path] = []
    made: list[Path] = []
    try:
        create_files(stage, sorted(files.items()), durable=True)
        for relative in sorted(files):
            folder = base
            for part in PurePosixPath(relative).parent.parts:
                folder = folder / part
                require_real_folder(folder)
                if not folder.exists():
                    os.mkdir(folder)
                    made.append(folder)
            target = base / relative
            rename_new(stage / relative, target)
            moved.append(target)
    except (OSError, UserError):
        for path in reversed(moved):
            with contextlib.suppress(OSError):
                os.unlink(path)
        for folder in reversed(made):
            with contextlib.suppress(OSError):
                os.rmdir(folder)
        raise
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    return warnings


_RENAME_NOREPLACE = 1
_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def _renameat2(first: Path, second: Path, flags: int) -> int | None:
    """Linux's renameat2: 0 on success, the errno on failure, None where the call does not exist."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return None
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    result = renameat2(_AT_FDCWD, os.fsencode(first), _AT_FDCWD, os.fsencode(second), flags)
    return 0 if result == 0 else ctypes.get_errno()


def exchange(first: Path, second: Path) -> bool:
    """Swap two paths atomically with Linux's renameat2(RENAME_EXCHANGE); False where it is unavailable.

    A reader (or a crash) then sees either the old file or folder or the new one, never neither.
    """
    return _renameat2(first, second, _RENAME_EXCHANGE) == 0


def rename_new(source: Path, target: Path) -> None:
    """Move ``source`` to ``target``, which must not exist (FileExistsError if anything, even a link, has the name)."""
    failed = _renameat2(source, target, _RENAME_NOREPLACE)
    if failed == 0:
        return
    if failed in (errno.EEXIST, errno.ENOTEMPTY):
        raise FileExistsError(failed, os.strerror(failed), str(target))
    if failed not in (None, errno.EINVAL, errno.ENOSYS):  # EINVAL/ENOSYS: the file system has no such rename
        raise OSError(failed, os.strerror(failed), str(target))
    if os.path.lexists(target):
        raise FileExistsError(errno.EEXIST, os.strerror(errno.EEXIST), str(target))
    os.rename(source, target)


__all__ = [
    "StagedFile",
    "check_replaceable",
    "commit_file",
    "create_file",
    "create_files",
    "create_new_files",
    "exchange",
    "finish_file",
    "leftovers",
    "make_folders",
    "refuse_links_on_the_way",
    "remove_leftovers",
    "rename_new",
    "replace_file",
    "require_real_folder",
    "stage_file",
    "temporary_sibling",
    "undo_file",
]
