"""One lock per repository, taken by every mlgitops process that reads what it then writes there.

`render` holds it from before it reads the environment files until ``rendered/`` is written, and
`set`/`promote` from before they read the files they edit until the edit is written: a render that
overlaps an edit renders the edited files, and two edits of one file take turns. The lock is a file
*inside* the repository, so every process working on it sees the same one whatever its user, ``TMPDIR``
or working directory: ``mlgitops.lock`` in git's own folder (``.git/``, or the folder a worktree's
``.git`` file names), which git never commits; outside git, ``.mlgitops.lock`` next to the folder it
guards (the output or environments folder).

The lock itself is filelock's (``flock`` on POSIX, ``LockFileEx`` on Windows; it opens the file with
``O_NOFOLLOW``). A link, a folder or anything but a regular file planted under the name is refused with
one line instead of being followed. Within one process the lock is re-entrant: ``tree.write`` takes it too,
for callers of the Python API, and a command already holding it just goes on.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from mlgitops.errors import UserError
from mlgitops.paths import shown_path

LOCK_NAME = "mlgitops.lock"
OUTSIDE_GIT_NAME = ".mlgitops.lock"
# How long to wait quietly before saying that another run holds the lock.
_QUIET_SECONDS = 0.5
# A `.git` file (a worktree, a submodule) is one short line: `gitdir: <path>`.
_GIT_FILE_BYTES = 4096

_held: dict[str, tuple[object, int]] = {}
"""Locks this process holds, by the real path of their file: (the filelock, how many holders)."""


def lock_file(folder: Path) -> Path:
    """The lock file of the repository ``folder`` (an output or environments folder) lies in."""
    absolute = Path(os.path.abspath(folder))
    for candidate in (absolute, *absolute.parents):
        dot_git = candidate / ".git"
        if os.path.isdir(dot_git) and not os.path.islink(dot_git):
            return dot_git / LOCK_NAME
        if os.path.isfile(dot_git):
            linked = _git_file_target(dot_git)
            if linked is not None:
                return linked / LOCK_NAME
        if os.path.lexists(dot_git):
            break
    return absolute.parent / OUTSIDE_GIT_NAME


def _git_file_target(dot_git: Path) -> Path | None:
    """The folder a ``.git`` file names (``gitdir: PATH``, relative to the file's folder), when it exists."""
    try:
        with open(dot_git, "rb") as stream:
            text = stream.read(_GIT_FILE_BYTES).decode("utf-8", "replace")
    except OSError:
        return None
    if not text.startswith("gitdir:"):
        return None
    target = dot_git.parent / text[len("gitdir:") :].strip()
    return target if target.is_dir() else None


def _refuse_planted(path: Path) -> None:
    """Raise unless ``path`` is missing or a regular file: a link or folder there is someone else's."""
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return
    except OSError as error:
        raise UserError(f"cannot use the lock file {shown_path(path)}: {error.strerror}") from None
    if stat.S_ISREG(mode):
        return
    what = "a symbolic link" if stat.S_ISLNK(mode) else "a folder" if stat.S_ISDIR(mode) else "not a regular file"
    raise UserError(
        f"the lock file {shown_path(path)} is {what}; mlgitops takes its lock on a regular file of its own there "
        "(remove it and run again)"
    )


@contextlib.contextmanager
def _hold(path: Path, waiting: Callable[[str], None] | None, optional: bool) -> Iterator[None]:
    key = os.path.join(os.path.realpath(path.parent), path.name)
    if key in _held:
        lock, holders = _held[key]
        _held[key] = (lock, holders + 1)
        try:
            yield
        finally:
            lock, holders = _held[key]
            if holders > 1:
                _held[key] = (lock, holders - 1)
            else:
                del _held[key]
        return
    _refuse_planted(path)
    lock = _acquire(key, path, waiting, optional)
    if lock is None:
        yield  # optional, and no lock file a writer made (or a read-only checkout, which nothing writes either)
        return
    _held[key] = (lock, 1)
    try:
        yield
    finally:
        _held.pop(key, None)
        lock.release()


def _acquire(key: str, path: Path, waiting: Callable[[str], None] | None, optional: bool) -> Any:
    """The acquired filelock of ``path`` (None when ``optional`` and there is none to take); UserError otherwise."""
    from filelock import FileLock, Timeout

    if optional and (not os.path.lexists(path) or not os.access(path, os.W_OK)):
        return None  # a run that only reads creates nothing: no lock file yet means no writer has run here
    lock = FileLock(key)
    try:
        if not optional:
            os.makedirs(path.parent, exist_ok=True)  # outside git, the folder the output goes into
        if not os.path.lexists(path):
            _probe(path.parent)
        try:
            lock.acquire(timeout=_QUIET_SECONDS)
        except Timeout:
            if waiting is not None:
                waiting(shown_path(path))
            lock.acquire()
    except OSError as error:
        _refuse_planted(path)  # planted while we waited: say so
        if optional:
            return None
        raise UserError(f"cannot take the lock {shown_path(path)}: {error.strerror or error}") from None
    return lock


def _probe(folder: Path) -> None:
    """Raise OSError unless a file can be created in ``folder`` (filelock waits forever on some that cannot: /proc)."""
    probe = folder / f".mlgitops-probe-{secrets.token_hex(6)}"
    descriptor = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
    os.close(descriptor)
    os.unlink(probe)


@contextlib.contextmanager
def repository_lock(*folders: Path, waiting: Callable[[str], None] | None = None, optional: bool = False) -> Iterator[None]:
    """Hold the lock of every repository ``folders`` lie in (usually one), blocking until each is free.

    ``waiting(lock file)`` is called once when another process holds a lock for more than half a second.
    Locks are taken in one order (sorted paths), so two processes never wait for each other. ``optional``
    (a run that only reads, ``render --check``) creates nothing: it waits for a lock file a writer made,
    and goes on without one where there is none or it cannot be opened (a read-only checkout). Raises
    UserError for a lock file that is a link, a folder or (unless ``optional``) cannot be created.
    """
    paths = sorted({lock_file(folder) for folder in folders}, key=str)
    with contextlib.ExitStack() as stack:
        for path in paths:
            stack.enter_context(_hold(path, waiting, optional))
        yield


__all__ = ["LOCK_NAME", "OUTSIDE_GIT_NAME", "lock_file", "repository_lock"]
