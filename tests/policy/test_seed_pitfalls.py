"""The seed's "Common Pitfalls": each wrong manifest fails with exactly its rules; each correct one passes them."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from mlgitops.policy import Catalog
from tests.policy.linting import SEED_PITFALLS, findings_in, positions
from tests.support import CliResult

# pitfall → (rules the wrong manifest breaks and the correct one fixes, where the wrong one is reported)
PITFALLS: dict[str, tuple[set[str], list[tuple[str, int, int]]]] = {
    "resources": (
        {"resources-requests", "resources-limits"},
        [("resources-limits", 8, 5), ("resources-requests", 8, 5)],
    ),
    "emptydir": ({"emptydir-data"}, [("emptydir-data", 11, 18)]),
    "hpa": ({"hpa-metrics"}, [("hpa-metrics", 6, 1)]),
}


def _pair(pitfall: str) -> tuple[str, str]:
    return (
        (SEED_PITFALLS / f"{pitfall}-wrong.yaml").read_text(encoding="utf-8"),
        (SEED_PITFALLS / f"{pitfall}-correct.yaml").read_text(encoding="utf-8"),
    )


@pytest.mark.parametrize("pitfall", sorted(PITFALLS))
def test_the_wrong_manifest_fails_with_exactly_the_pitfalls_rules(catalog: Catalog, pitfall: str) -> None:
    wrong, correct = _pair(pitfall)
    expected, _ = PITFALLS[pitfall]
    wrong_rules = {f.rule for f in findings_in(wrong, catalog)}
    correct_rules = {f.rule for f in findings_in(correct, catalog)}
    # Other rules (an untagged image, a missing NetworkPolicy…) fire on both; the fix removes exactly these.
    assert wrong_rules - correct_rules == expected
    assert correct_rules & expected == set()


@pytest.mark.parametrize("pitfall", sorted(PITFALLS))
def test_the_wrong_manifest_is_reported_at_the_offending_field(catalog: Catalog, pitfall: str) -> None:
    wrong, _ = _pair(pitfall)
    expected, located = PITFALLS[pitfall]
    found = [f for f in findings_in(wrong, catalog, file=f"{pitfall}-wrong.yaml") if f.rule in expected]
    assert positions(found) == located
    assert {f.severity for f in found} == {"error"}


@pytest.mark.parametrize("pitfall", sorted(PITFALLS))
def test_lint_exits_1_on_the_wrong_manifest_and_0_on_the_correct_one(
    tmp_path: Path, catalog: Catalog, mlgitops: Callable[..., CliResult], pitfall: str
) -> None:
    expected, _ = PITFALLS[pitfall]
    others = sorted(set(catalog.policies) - expected)
    (tmp_path / ".mlgitops.yaml").write_text(
        "rules:\n" + "".join(f"  {rule}:\n    enabled: false\n" for rule in others), encoding="utf-8"
    )
    wrong, correct = _pair(pitfall)
    (tmp_path / "wrong.yaml").write_text(wrong, encoding="utf-8")
    (tmp_path / "correct.yaml").write_text(correct, encoding="utf-8")
    failing = mlgitops("lint", "wrong.yaml")
    assert failing.exit_code == 1, failing.stderr
    assert {line.split()[2].rstrip(":") for line in failing.stdout.splitlines()} == expected
    passing = mlgitops("lint", "correct.yaml")
    assert (passing.exit_code, passing.stdout) == (0, "")
