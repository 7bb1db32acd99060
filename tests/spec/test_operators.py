"""Operator releases an environment declares: parsed, compared, and refused at their line when malformed."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlgitops.spec.operators import Operators, release_tuple
from tests.support import run_here, write


@pytest.mark.parametrize(
    ("text", "parsed"), [("0.19", (0, 19, 0)), ("v0.19.2", (0, 19, 2)), ("1.14.1", (1, 14, 1)), ("v2.3", (2, 3, 0))]
)
def test_a_release_reads_as_numbers(text: str, parsed: tuple[int, int, int]) -> None:
    assert release_tuple(text) == parsed


@pytest.mark.parametrize("text", ["0", "0.19.2.1", "latest", "0.019", "1.x", " 0.19", "v"])
def test_a_release_that_is_not_major_minor_patch_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="is not a release"):
        release_tuple(text)


def test_at_least_compares_numbers_not_text() -> None:
    operators = Operators(kserve="0.9", kueue="v0.19.2")
    assert not operators.at_least("kserve", "0.16")  # "0.9" < "0.16" as releases, though not as text
    assert operators.at_least("kueue", "0.19")
    assert operators.at_least("kueue", "0.19.2")
    assert not operators.at_least("kueue", "0.19.3")


def test_a_malformed_release_is_a_located_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(
        tmp_path / "environments" / "dev.yaml",
        "namespace: ml\nkubernetesVersion: '1.32'\noperators:\n  kueue: latest\n",
    )
    result = run_here(monkeypatch, tmp_path, "render")
    assert result.exit_code == 2
    assert "environments/dev.yaml:4:10:" in result.stderr
    assert "operators.kueue" in result.stderr
    assert "'latest' is not a release" in result.stderr
