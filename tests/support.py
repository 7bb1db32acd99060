"""Helpers shared by tests: running the CLI in a fresh process, writing files."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent


@dataclass
class CliResult:
    exit_code: int
    stdout: str
    stderr: str
    seconds: float | None = None
    """Wall-clock time of the run (forked runs only)."""
    grown_mb: float | None = None
    """Peak memory the run added to the process it ran in, in MB (forked runs only)."""


def run_cli(*args: str, cwd: Path, env: dict[str, str] | None = None, timeout: float = 120) -> CliResult:
    """Run `mlgitops` in a fresh process, as a user or CI would."""
    completed = subprocess.run(
        [sys.executable, "-m", "mlgitops.cli", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
        check=False,
    )
    return CliResult(completed.returncode, completed.stdout, completed.stderr)


def run_here(monkeypatch: Any, folder: Path, *args: str) -> CliResult:
    """`mlgitops ARGS` run in this process from ``folder``: the command's own code path without a fresh
    interpreter's imports (about a second per call on a loaded machine)."""
    from click.testing import CliRunner

    from mlgitops.cli import cli

    monkeypatch.chdir(folder)
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return CliResult(result.exit_code, result.stdout, result.stderr)


def kubectl() -> str:
    """kubectl's path: tests that prove output builds with kustomize skip without it, except in CI."""
    import shutil

    import pytest

    found = shutil.which("kubectl")
    if found is None:
        if os.environ.get("CI") == "true":
            pytest.fail("kubectl is required in CI to prove output builds with kubectl kustomize")
        pytest.skip("kubectl is not installed")
    return found


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def shared_dir() -> Path:
    """../shared (upstream CRDs and schemas); tests that need it skip elsewhere but must run in CI."""
    import pytest

    shared = REPO.parent / "shared"
    if not shared.is_dir():
        # GitHub's runners (ci.yml, release.yml) have no ../shared: they say so explicitly.
        if os.environ.get("CI") == "true" and os.environ.get("MLGITOPS_SKIP_SHARED") != "1":
            pytest.fail(f"{shared} is missing; CI must validate against the upstream CRDs and schemas there")
        pytest.skip(f"{shared} not present (a clone outside the workplace): upstream CRD checks skipped")
    return shared
