"""Fixtures shared by the test suite: the repository and a scratch copy of the example fleet."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import REPO


@pytest.fixture
def repo_root() -> Path:
    return REPO


@pytest.fixture
def fleet(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A copy of the example environments/ and rendered/ in a temporary working directory."""
    shutil.copytree(REPO / "environments", tmp_path / "environments")
    shutil.copytree(REPO / "rendered", tmp_path / "rendered")
    monkeypatch.chdir(tmp_path)
    return tmp_path
