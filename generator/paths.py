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
    """A path as users see it in messages: relative to the working directory when inside it."""
    display = _DISPLAY_ROOT.get()
    if display is not None:
        folder, shown = display
        try:
            return f"{shown}/{path.resolve().relative_to(folder).as_posix()}".replace("//", "/")
        except ValueError:
            pass
    try:
        relative = os.path.relpath(path)
    except ValueError:  # pragma: no cover - different drive on Windows
        return str(path)
    return str(path) if relative.startswith("..") else relative.replace(os.sep, "/")


__all__ = ["displayed_as", "shown_path"]
