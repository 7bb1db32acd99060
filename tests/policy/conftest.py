"""Fixtures of the policy engine tests: in-process `mlgitops` runs (the shipped catalog is tests/conftest.py's)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.support import CliResult, run_in_process


@pytest.fixture
def mlgitops(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., CliResult]:
    """Run the CLI in-process from ``tmp_path``: commands resolve paths and config from the working folder."""
    monkeypatch.chdir(tmp_path)

    def run(*args: str, stdin: str | None = None) -> CliResult:
        return run_in_process(*args, stdin=stdin)

    return run
