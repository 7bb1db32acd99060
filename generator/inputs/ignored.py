"""Which files a folder walk of `lint` leaves out: what git ignores, and what `--exclude` names.

Git's rules (git-scm.com/docs/gitignore): every ``.gitignore`` from the repository's root down to a path's folder
applies, patterns relative to the folder of the file that holds them; a deeper file's match overrides a shallower
one, and within a file the last matching pattern wins (``!`` re-includes). ``.git/info/exclude`` applies like a
root ``.gitignore``. A folder that is ignored is not entered, so nothing below it can be re-included (as in git).
The matching itself is pathspec's ``GitIgnoreSpec`` (a well-kept implementation of git's wildmatch), not ours.

``--exclude GLOB`` patterns use the same syntax, relative to the working directory: ``charts/``, ``**/*.tmpl.yaml``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from pathspec import GitIgnoreSpec

from mlgitops.errors import UserError
from mlgitops.paths import repository_root


class Ignored:
    """Answers "does a folder walk leave this out?" for paths under the repository of the folders walked.

    ``excludes`` are ``--exclude`` patterns (gitignore syntax, relative to ``cwd``). ``.gitignore`` files are read
    once each (a file that cannot be read or decoded is a UserError naming it).
    """

    def __init__(self, excludes: Sequence[str] = (), cwd: Path | None = None) -> None:
        self._cwd = (cwd or Path.cwd()).resolve()
        self._excludes = GitIgnoreSpec.from_lines(excludes) if excludes else None
        self._specs: dict[Path, GitIgnoreSpec | None] = {}
        self._roots: dict[Path, Path] = {}

    def excluded(self, path: Path, is_dir: bool) -> bool:
        """Whether ``--exclude`` names ``path`` (also used for files named on the command line)."""
        if self._excludes is None:
            return False
        relative = _relative(path.resolve() if not path.is_symlink() else path.absolute(), self._cwd)
        return relative is not None and self._excludes.match_file(relative + ("/" if is_dir else ""))

    def ignored(self, path: Path, is_dir: bool) -> bool:
        """Whether git ignores ``path`` (by the .gitignore files from its repository's root down) or --exclude names it."""
        if self.excluded(path, is_dir):
            return True
        absolute = path.absolute()
        if absolute.parent not in self._roots:
            self._roots[absolute.parent] = repository_root(absolute.parent)
        root = self._roots[absolute.parent]
        if root not in absolute.parents:
            return False
        verdict: bool | None = None
        folder = root
        for part in (*absolute.relative_to(root).parent.parts, ""):
            spec = self._spec(folder)
            if spec is not None:
                relative = absolute.relative_to(folder).as_posix() + ("/" if is_dir else "")
                result = spec.check_file(relative)
                if result.include is not None:
                    verdict = bool(result.include)
            if not part:
                break
            folder = folder / part
        return bool(verdict)

    def _spec(self, folder: Path) -> GitIgnoreSpec | None:
        if folder not in self._specs:
            lines: list[str] = []
            for source in (folder / ".gitignore", folder / ".git" / "info" / "exclude"):
                if source.is_file():
                    try:
                        lines += source.read_text(encoding="utf-8").splitlines()
                    except (OSError, UnicodeDecodeError) as error:
                        raise UserError(f"{source}: cannot read the ignore rules ({error}); fix or remove the file") from None
            self._specs[folder] = GitIgnoreSpec.from_lines(lines) if lines else None
        return self._specs[folder]


def _relative(path: Path, base: Path) -> str | None:
    try:
        return path.relative_to(base).as_posix()
    except ValueError:
        return None


__all__ = ["Ignored"]
