"""Creating files without ever writing through a symbolic link or over a file that is already there.

Every writer of mlgitops (the rendered tree's staging folders, `init`, `diff`'s scratch checkout)
creates files with this module: each folder on the way is created or must be a real folder (not a
link), and each file is opened with ``O_CREAT | O_EXCL | O_NOFOLLOW``, so a link planted under the
name (even a dangling one) makes the write fail instead of landing wherever the link points.
`set` and `promote` replace an environment file the same way: the new text goes to a new hidden
sibling, is flushed to disk and renamed over the file, which must be a regular file (not a link).
"""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
from collections.abc import Iterable
from pathlib import Path, PurePosixPath

from mlgitops.errors import UserError
from mlgitops.paths import shown_path

_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)


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


def create_files(base: Path, files: Iterable[tuple[str, str | bytes]]) -> None:
    """``create_file`` for each (relative posix path, content), each folder on the way checked and created once.

    A render writes thousands of files into a handful of folders of a fresh staging folder:
    the folders are looked at once each, not once per file. Raises as ``create_file`` does.
    """
    folders: dict[str, str] = {}
    for relative, content in files:
        parent, _, name = relative.rpartition("/")
        folder = folders.get(parent)
        if folder is None:
            folder = folders[parent] = os.fspath(make_folders(base, PurePosixPath(parent)))
        if name in ("", ".", ".."):
            raise UserError(f"{relative} is not a plain relative path")
        _write_new(os.path.join(folder, name), content)


def _write_new(target: str, content: str | bytes) -> None:
    data = content.encode("utf-8") if isinstance(content, str) else content
    descriptor = os.open(target, _FLAGS, 0o644)
    try:
        _write_all(descriptor, data)
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


def replace_file(path: Path, content: bytes) -> None:
    """Replace ``path`` so that readers (and a crash) see the old file or the new one, never half of it.

    Its permissions are kept. A link, or anything but a regular file, under the name is refused.
    """
    status = check_replaceable(path)
    temporary = path.parent / f".{path.name}.{secrets.token_hex(6)}.mlgitops"
    try:
        descriptor = os.open(temporary, _FLAGS, stat.S_IMODE(status.st_mode) if status else 0o644)
        try:
            with os.fdopen(descriptor, "wb", closefd=False) as stream:
                stream.write(content)
                stream.flush()
                os.fsync(stream.fileno())
        finally:
            os.close(descriptor)
        if status is not None:
            os.chmod(temporary, stat.S_IMODE(status.st_mode))
        os.replace(temporary, path)
    except OSError as error:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise UserError(f"cannot write {shown_path(path)}: {error.strerror}; the file is unchanged") from None


__all__ = [
    "check_replaceable",
    "create_file",
    "create_files",
    "make_folders",
    "refuse_links_on_the_way",
    "replace_file",
    "require_real_folder",
]
