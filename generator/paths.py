"""How paths appear in messages: relative to the working directory, or as a checked-out revision's."""

from __future__ import annotations

import contextlib
import contextvars
import os
from collections.abc import Iterator
from pathlib import Path

_DISPLAY_ROOT: contextvars.ContextVar[tuple[Path, str] | None] = contextvars.ContextVar("display_root", default=None)


@contextlib.contextmanager
def displayed_as(folder: Path, shown: str) -> Iterator[None]:
    """Show files under ``folder`` as if they lived at ``shown`` (a revision checked out to a scratch folder)."""
    token = _DISPLAY_ROOT.set((folder.resolve(), shown))
    try:
        yield
    finally:
        _DISPLAY_ROOT.reset(token)


def shown_path(path: Path) -> str:
    """A path as users see it in messages: relative to the working directory when inside it (``readable``)."""
    display = _DISPLAY_ROOT.get()
    if display is not None:
        folder, shown = display
        try:
            return readable(f"{shown}/{path.resolve().relative_to(folder).as_posix()}".replace("//", "/"))
        except ValueError:
            pass
    try:
        relative = os.path.relpath(path)
    except ValueError:  # pragma: no cover - different drive on Windows
        return readable(str(path))
    return readable(str(path) if relative.startswith("..") else relative.replace(os.sep, "/"))


def readable(name: str) -> str:
    """A file name as text every output can carry: bytes that are not UTF-8 written as ``\\xNN``.

    Python hands such bytes of a POSIX file name over as lone surrogates (PEP 383), which no
    UTF-8 stream, JSON parser or XML document accepts; ``\xff\xfe.yaml`` names the file for a reader.
    """
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return name.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    return name


def repository_root(start: Path) -> Path:
    """The repository ``start`` lies in: the nearest folder at or above it that holds ``.git``.

    Outside any git repository, the working directory when ``start`` is inside it, else ``start``
    itself. mlgitops reads nothing above this folder unless the user names it (config discovery,
    kustomize bases, policy folders listed in the config).
    """
    folder = start.resolve()
    if not folder.is_dir():
        folder = folder.parent
    return root_of(folder, git_root(folder))


def git_root(folder: Path) -> Path | None:
    """The nearest folder at or above ``folder`` (a resolved path) that holds ``.git``; None outside git.

    A walk down a tree asks it once and then, for each folder below, only whether that folder holds ``.git``
    (else its parent's answer holds): :class:`mlgitops.inputs.ignored.Ignored`.
    """
    for candidate in (folder, *folder.parents):
        if os.path.exists(candidate / ".git"):  # False too where the folder may not be searched
            return candidate
    return None


def root_of(folder: Path, git: Path | None) -> Path:
    """:func:`repository_root` of the resolved folder ``folder`` whose :func:`git_root` is ``git``."""
    if git is not None:
        return git
    here = Path.cwd().resolve()
    return here if folder.is_relative_to(here) else folder


def repository_of(path: Path) -> Path:
    """The repository ``path`` is written in, its own links not followed: the nearest folder above it that holds
    ``.git``; outside git, the working directory when ``path`` is written inside it, else ``path``'s parent.

    Unlike :func:`repository_root`, a folder that is a link (``environments -> ../elsewhere``) belongs to the
    repository it stands in, not to the one it leads to: :func:`is_inside` then tells whether it leads out.
    """
    absolute = Path(os.path.abspath(path))
    for candidate in absolute.parents:
        if os.path.lexists(candidate / ".git"):
            return candidate
    here = Path(os.path.abspath(os.getcwd()))
    return here if here in absolute.parents else absolute.parent


def same_file_key(path: str) -> str:
    """The name under which the file systems of macOS and Windows store ``path``: they ignore letter case (and
    macOS Unicode normalization), so two paths with the same key are one file in such a checkout."""
    import unicodedata

    return unicodedata.normalize("NFC", path).casefold()


def is_inside(path: Path, root: Path) -> bool:
    """Whether ``path`` (links resolved) is ``root`` or lies below it."""
    real, base = os.path.realpath(path), os.path.realpath(root)
    return real == base or real.startswith(base.rstrip(os.sep) + os.sep)


def is_file(path: Path) -> bool:
    """Whether ``path`` is a regular file (links followed); False, never an error, for a name the system refuses
    (too long, a NUL byte) or a place that cannot be looked at: for readers that must answer, not fail."""
    try:
        return path.is_file()
    except (OSError, ValueError):
        return False


__all__ = ["displayed_as", "is_file", "is_inside", "repository_of", "repository_root", "same_file_key", "shown_path"]
