"""Creating files without ever writing through a symbolic link or over a file that is already there.

Every writer of mlgitops (the rendered tree's staging folders, `init`, `diff`'s scratch checkout)
creates files with this module: each folder on the way is created or must be a real folder (not a
link), and each file is opened with ``O_CREAT | O_EXCL | O_NOFOLLOW``, so a link planted under the
name (even a dangling one) makes the write fail instead of landing wherever the link points.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path, PurePosixPath

from generator.errors import UserError
from generator.paths import shown_path

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
    data = content.encode("utf-8") if isinstance(content, str) else content
    descriptor = os.open(target, _FLAGS, 0o644)
    try:
        with os.fdopen(descriptor, "wb", closefd=False) as stream:
            stream.write(data)
    finally:
        os.close(descriptor)
    return target


__all__ = ["create_file", "make_folders", "refuse_links_on_the_way", "require_real_folder"]
