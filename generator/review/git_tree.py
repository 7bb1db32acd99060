"""Environment files as they were at a git revision, copied into a scratch folder (read-only use of git)."""

from __future__ import annotations

import contextlib
import subprocess
from pathlib import Path, PurePosixPath

from mlgitops.errors import UserError
from mlgitops.output.safe_write import create_file
from mlgitops.yaml.text import ENVIRONMENT_FILE_BYTES


def _git(repo: Path, *args: str) -> str:
    try:
        completed = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, check=False, timeout=60)
    except FileNotFoundError:
        raise UserError("git is not installed; `mlgitops diff` compares with a git revision") from None
    if completed.returncode != 0:
        raise UserError(f"git {' '.join(args)}: {completed.stderr.strip() or 'failed'}")
    return completed.stdout


def repository_root(start: Path) -> Path:
    """The git repository ``start`` is in; outside one, a UserError saying what `mlgitops diff` needs."""
    try:
        return Path(_git(start, "rev-parse", "--show-toplevel").strip())
    except UserError:
        raise UserError(
            f"{start} is not inside a git repository: `mlgitops diff` compares the rendered manifests of two git "
            "revisions; run it in the repository (or pass --base REF there)"
        ) from None


def default_base(repo: Path) -> str:
    """The merge base of HEAD with the default branch (origin's HEAD, else main or master)."""
    candidates = []
    with contextlib.suppress(UserError):
        candidates.append(_git(repo, "rev-parse", "--abbrev-ref", "origin/HEAD").strip())
    candidates += ["origin/main", "origin/master", "main", "master"]
    for candidate in candidates:
        try:
            _git(repo, "rev-parse", "--verify", "--quiet", f"{candidate}^{{commit}}")
        except UserError:
            continue
        return _git(repo, "merge-base", "HEAD", candidate).strip()
    raise UserError("cannot find the default branch (origin/HEAD, main or master): pass --base REF")


def resolve_revision(repo: Path, revision: str) -> str:
    """The commit a branch, tag or commit name stands for."""
    try:
        return _git(repo, "rev-parse", "--verify", "--quiet", f"{revision}^{{commit}}").strip()
    except UserError:
        raise UserError(f"unknown revision {revision!r}: pass a branch, tag or commit with --base") from None


def checkout_folder(repo: Path, revision: str, folder: str, target: Path) -> bool:
    """Copy ``folder`` (relative to the repository root) as it was at ``revision`` into ``target``.

    Returns False when the folder did not exist at that revision. Only regular files inside the
    folder are written, so a hostile tree cannot place files elsewhere.
    """
    commit = resolve_revision(repo, revision)
    listing = _git(repo, "ls-tree", "-r", "-l", "-z", "--full-tree", commit, "--", folder)
    entries = [entry for entry in listing.split("\0") if entry]
    if not entries:
        return False
    target.mkdir(parents=True, exist_ok=True)
    prefix = PurePosixPath(folder)
    for entry in entries:
        meta, _, path = entry.partition("\t")
        mode, kind, _, size = meta.split()
        relative = PurePosixPath(path).relative_to(prefix)
        if kind != "blob" or mode not in ("100644", "100755") or ".." in relative.parts:
            continue
        if int(size) > ENVIRONMENT_FILE_BYTES:
            # Never read whole into memory: the same cap as an environment file in the working tree.
            raise UserError(
                f"{path} at {revision} is {int(size):,} bytes; environment files are limited to {ENVIRONMENT_FILE_BYTES:,} bytes"
            )
        content = subprocess.run(
            ["git", "-C", str(repo), "cat-file", "blob", f"{commit}:{path}"],
            capture_output=True,
            check=True,
            timeout=60,
        ).stdout
        create_file(target, relative.as_posix(), content)
    return True
