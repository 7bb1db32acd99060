"""The upstream files vendored in tests/upstream are what SOURCES.md says, and ../shared is required honestly.

Tests that validate against an upstream CRD or the SARIF schema read the copies in tests/upstream, so
they run on every clone. Tests that need the rest of ../shared (the YAML test suite, the real-world
manifests, every CRD) are marked needs_shared: they skip where it cannot be (MLGITOPS_SKIP_SHARED=1,
GitHub's runners) or outside CI, and fail in a CI run without it.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest

from tests import support
from tests.support import REPO, UPSTREAM, require_shared, shared_dir

SOURCES = UPSTREAM / "SOURCES.md"


def listed() -> dict[str, tuple[int, str]]:
    """File → (bytes, SHA-256) as SOURCES.md's table lists them."""
    rows: dict[str, tuple[int, str]] = {}
    for line in SOURCES.read_text(encoding="utf-8").splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) == 8 and re.fullmatch(r"[0-9a-f]{64}", cells[7]):
            rows[cells[0]] = (int(cells[6]), cells[7])
    return rows


def vendored() -> list[str]:
    files = (path for path in UPSTREAM.rglob("*") if path.is_file() and path.suffix != ".md")
    return sorted(path.relative_to(UPSTREAM).as_posix() for path in files)


def test_every_vendored_file_is_listed_with_its_origin_and_unchanged() -> None:
    rows = listed()
    assert sorted(rows) == vendored()
    for name, (size, digest) in rows.items():
        data = (UPSTREAM / name).read_bytes()
        assert (len(data), hashlib.sha256(data).hexdigest()) == (size, digest), name
    text = SOURCES.read_text(encoding="utf-8")
    for named in ("Apache-2.0", "OASIS", "NOTICE of kubernetes-sigs/karpenter"):  # the licences and the one NOTICE
        assert named in text


def test_every_crd_a_test_names_is_vendored() -> None:
    named = set()
    for path in (REPO / "tests").rglob("test_*.py"):
        named |= set(re.findall(r'"([a-z0-9.-]+_[a-z]+\.yaml)"', path.read_text(encoding="utf-8")))
    crds = {name for name in named if re.fullmatch(r"[a-z0-9-]+(\.[a-z0-9-]+)+_[a-z]+\.yaml", name)}
    assert crds, "no test names an upstream CRD"
    assert sorted(crds - {name.removeprefix("crds/") for name in vendored()}) == []


@pytest.mark.needs_shared
def test_the_vendored_files_are_the_ones_in_shared() -> None:
    shared = shared_dir()
    for name in vendored():
        assert (UPSTREAM / name).read_bytes() == (shared / name).read_bytes(), name


@pytest.mark.parametrize(
    ("ci", "skip_shared", "outcome"),
    [("true", "", pytest.fail.Exception), ("true", "1", pytest.skip.Exception), ("", "", pytest.skip.Exception)],
)
def test_a_missing_shared_folder_skips_where_expected_but_fails_in_ci(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, ci: str, skip_shared: str, outcome: type[BaseException]
) -> None:
    monkeypatch.setenv("CI", ci)
    monkeypatch.setenv(support.SKIP_SHARED_VARIABLE, skip_shared)
    with pytest.raises(outcome, match="shared"):
        require_shared(tmp_path / "no-shared")
    assert require_shared(tmp_path) == tmp_path


def test_only_tests_marked_needs_shared_may_read_it() -> None:
    with pytest.raises(AssertionError, match="needs_shared"):
        shared_dir()
