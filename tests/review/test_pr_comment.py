"""`diff --output-format markdown` always fits a GitHub pull-request comment (65,536 characters).

The summary and the resource table stay whole; findings, object lists and the rendered diff are cut
with a note saying what was left out and where to see everything.
"""

from __future__ import annotations

import re
import subprocess
from decimal import Decimal
from pathlib import Path

from benchmarks.fleet import write_fleet
from mlgitops.kube.footprint import Footprint
from mlgitops.policy.severity import Severity
from mlgitops.review.changes import EnvironmentChanges, FieldChange, ObjectChange
from mlgitops.review.comment_size import COMMENT_LIMIT, comment_length
from mlgitops.review.summary import FindingNote, Review, markdown
from tests.support import run_cli

WORKLOADS = 1000


def _git(repo: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.email=ci@example.com", "-c", "user.name=ci", "-C", str(repo), *args],
        check=True,
        capture_output=True,
    )


def test_a_change_adding_1000_workloads_fits_one_comment(tmp_path: Path) -> None:
    # The base has no fleet yet; the change adds one environment of 1,000 workloads (the benchmark
    # fleet's mix of kinds): the largest comment a change of that size makes, for one render's cost.
    (tmp_path / "README.md").write_text("fleet repository\n")
    _git(tmp_path, "init", "-q", "-b", "main")
    _git(tmp_path, "add", ".")
    _git(tmp_path, "commit", "-q", "-m", "empty")
    environments = tmp_path / "environments"
    write_fleet(environments, WORKLOADS)
    for name in ("staging.yaml", "prod.yaml"):
        (environments / name).unlink()
    result = run_cli("diff", "--base", "main", cwd=tmp_path, timeout=600)
    assert result.exit_code == 0, result.stderr
    comment = result.stdout
    assert comment_length(comment) <= COMMENT_LIMIT
    lines = comment.splitlines()
    # The summary and the resource table are whole.
    added = int(next(line for line in lines if line.startswith("| dev |")).split("|")[2])
    assert added >= WORKLOADS
    assert lines[5].startswith("| environment | added | removed | changed | objects | GPUs | CPU | memory |")
    assert " | 0 → " in lines[7]
    # Details were cut, and the comment says so and where to look.
    assert "Shortened to fit a pull-request comment" in comment
    assert "mlgitops diff --output-format text" in comment
    assert re.search(r"- … [0-9,]+ more changes in dev not shown", comment)
    assert "<details><summary>Rendered diff (" in comment


def _review(objects: int, findings: int, diff_lines: int, name_length: int = 40) -> Review:
    long = "x" * name_length
    changes = [
        ObjectChange(
            "Deployment",
            f"serve-{index}-{long}",
            "changed",
            fields=[FieldChange(f"containers[serve].env[{long}].value", "a" * 80, "b" * 80, "other")],
        )
        for index in range(objects)
    ]
    notes = [
        FindingNote("image-digest", Severity.ERROR, f"image {long} {index} is not pinned", "f.yaml:1:1", "prod")
        for index in range(findings)
    ]
    footprint = Footprint(Decimal(4), Decimal(2**34), {"nvidia.com/gpu": 8})
    return Review(
        base="0123456789abcdef",
        environments=[EnvironmentChanges(name, list(changes), footprint, footprint) for name in ("dev", "staging", "prod")],
        new_findings=notes,
        file_diff="".join(f"+line {index} {'🚀' * 20}\n" for index in range(diff_lines)),
    )


def test_every_section_is_cut_to_fit_and_the_head_stays_whole() -> None:
    review = _review(objects=3000, findings=2000, diff_lines=5000)
    comment = markdown(review)
    assert comment_length(comment) <= COMMENT_LIMIT
    # Emoji are two UTF-16 units each: GitHub's count, not Python's, decides.
    assert len(comment) < comment_length(comment) or "🚀" not in comment
    for line in ("| dev | 0 | 0 | 3000 |", "| staging | 0 | 0 | 3000 |", "| prod | 0 | 0 | 3000 |"):
        assert "\n" + line in comment
    assert "| environment | added | removed | changed | objects | GPUs | CPU | memory |" in comment
    assert "left out:" in comment


def test_a_small_change_is_shown_in_full() -> None:
    comment = markdown(_review(objects=3, findings=2, diff_lines=20))
    assert "Shortened" not in comment
    assert comment.count("- **changed**") == 9
    assert comment.count("+line ") == 20


def test_the_limit_holds_at_any_limit() -> None:
    review = _review(objects=500, findings=100, diff_lines=1000)
    for limit in (4_000, 20_000, 65_536):
        assert comment_length(markdown(review, limit)) <= limit


def test_the_description_of_an_edit_pull_request_fits_too() -> None:
    from mlgitops.review.pull_request import EditedValue, pull_request_body

    review = _review(objects=3000, findings=0, diff_lines=5000)
    values = [
        EditedValue("prod", "workloads[serve].image", "registry.example/serve:1", "registry.example/serve:2", "prod.yaml:7")
    ]
    body = pull_request_body("Promote serve to prod", values, review.environments, review.file_diff, ["a note"])
    assert comment_length(body) <= COMMENT_LIMIT
    # The changed values and the resource table are whole; objects and the diff are cut with a note.
    assert "| prod | `workloads[serve].image` | `registry.example/serve:1` | `registry.example/serve:2` | `prod.yaml:7` |" in body
    assert "### Requested resources" in body
    assert "Shortened to fit a pull-request comment" in body
