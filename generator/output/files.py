"""Replacing one file in place: atomically, never through a symbolic link, with its permissions kept."""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from pathlib import Path

from generator.errors import UserError
from generator.paths import shown_path


def check_replaceable(path: Path) -> os.stat_result | None:
    """The file's status if it may be replaced (a regular file, or none yet); a UserError for a link or anything else."""
    shown = shown_path(path)
    try:
        status = os.lstat(path)
    except FileNotFoundError:
        return None
    except OSError as error:
        raise UserError(f"{shown}: cannot read file status: {error.strerror}") from None
    if stat.S_ISLNK(status.st_mode):
        raise UserError(f"{shown} is a symbolic link; mlgitops does not write through links (edit the file it points to)")
    if not stat.S_ISREG(status.st_mode):
        raise UserError(f"{shown} is not a regular file")
    return status


def replace_file(path: Path, content: bytes) -> None:
    """Write ``content`` to ``path`` so that readers (and a crash) see the old file or the new one, never half of it.

    The new text goes to a hidden sibling, is flushed to disk and renamed over the file. A
    symbolic link is refused: writing through it would change a file elsewhere (perhaps outside
    the repository), and replacing it would silently turn the link into a copy.
    """
    shown = shown_path(path)
    status = check_replaceable(path)
    descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".mlgitops", dir=path.parent)
    try:
        with os.fdopen(descriptor, "wb") as stream:
            stream.write(content)
            stream.flush()
            os.fsync(stream.fileno())
        if status is not None:
            os.chmod(temporary, stat.S_IMODE(status.st_mode))
        os.replace(temporary, path)
    except OSError as error:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise UserError(f"cannot write {shown}: {error.strerror}; the file is unchanged") from None


__all__ = ["check_replaceable", "replace_file"]
