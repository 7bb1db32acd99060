"""The code base stays ruff- and mypy-clean (configured in pyproject.toml)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.support import REPO


def test_ruff_finds_nothing() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "generator", "tests", "benchmarks", "docs"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def mypy_path() -> Path:
    """A folder holding `mlgitops`, a link to generator/: the package under its import name, for mypy.

    The editable install's import hook is invisible to mypy; the link sits in mypy's own (ignored) cache
    folder at a fixed place, so the cache stays valid from run to run.
    """
    folder = REPO / ".mypy_cache" / "import-name"
    folder.mkdir(parents=True, exist_ok=True)
    link = folder / "mlgitops"
    if not link.is_symlink():
        link.symlink_to(REPO / "generator", target_is_directory=True)
    return folder


def test_mypy_strict_finds_nothing() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "-p", "mlgitops"],
        cwd=REPO,
        capture_output=True,
        text=True,
        env={**os.environ, "MYPYPATH": str(mypy_path())},
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_strict_finds_nothing_in_the_documentation_hook() -> None:
    # docs/hooks.py is not part of the package (MkDocs loads it by path); strict like the package.
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "docs/hooks.py"],
        cwd=REPO,
        capture_output=True,
        text=True,
        env={**os.environ, "MYPYPATH": str(mypy_path())},
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
