"""Fixtures of the rule tests: the shipped catalog, loaded once, and in-process `mlgitops` runs."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from mlgitops.policy import Catalog, load_catalog
from tests.policy.linting import LintRun
from tests.support import run_in_process


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    """The shipped catalog: tests must not change it."""
    return load_catalog()


@pytest.fixture
def mlgitops(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., LintRun]:
    """Run the CLI in-process from ``tmp_path``: commands resolve paths and config from the working folder."""
    monkeypatch.chdir(tmp_path)

    def run(*args: str, stdin: str | None = None) -> LintRun:
        result = run_in_process(*args, stdin=stdin)
        return LintRun(result.exit_code, result.stdout, result.stderr)

    return run
