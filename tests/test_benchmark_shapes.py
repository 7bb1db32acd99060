"""Issue 30's benchmark shapes run end to end at a tiny size: dirty corpus, one stream, one file vs N files, findings,
patches on one workload.

No time is asserted: only that every shape is timed, exits as expected and reports its targets.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import yaml

from tests.support import REPO, kubectl

SHAPE_ROWS = {"dirty_lint", "dirty_floor_load", "dirty_floor_dump", "dirty_kubernetes_validate", "stream_lint"}
OPTIONAL_ROWS = {"dirty_kubernetes_validate"}


def test_every_shape_runs_on_a_tiny_fleet(tmp_path: Path) -> None:
    kubectl()
    report_path = tmp_path / "report.json"
    sizes = ["--n", "4", "--objects", "12", "--findings", "10", "--patches", "5", "--runs", "1", "--warmup", "0"]
    completed = subprocess.run(
        [sys.executable, str(REPO / "benchmarks" / "run.py"), *sizes, "--out", str(tmp_path / "out"), "--json", str(report_path)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )

    assert completed.returncode == 0, completed.stderr[-2000:]
    report = json.loads(report_path.read_text(encoding="utf-8"))
    shapes = report["sizes"][0]["shapes"]
    assert set(shapes["rows"]) == SHAPE_ROWS
    for key, row in shapes["rows"].items():
        assert row["status"] in ({"ok", "unavailable"} if key in OPTIONAL_ROWS else {"ok"}), (key, row["reason"])
    assert shapes["dirty_files_changed"] > shapes["dirty_files"] / 2, "most files of the dirty corpus must have a finding"
    assert shapes["stream_bytes"] > 0
    names = {target["name"] for target in shapes["targets"]}
    assert names == {"dirty: lint >= 15 x faster than kubernetes-validate", "stream: lint - <= 1.5 x lint of the same files"}
    (objects,) = report["objects"]
    assert objects["n"] == 12
    assert {row["status"] for row in objects["rows"].values()} == {"ok"}
    assert [target["name"] for target in objects["targets"]] == ["one file of 12 objects <= 1.5 x 12 files"]
    assert {row["status"] for row in report["findings"]["rows"].values()} == {"ok"}
    assert [target["name"] for target in report["findings"]["targets"]] == [
        "4 x the findings in one object <= 5 x the time",
        "4 x the findings in one Secret (redacted) <= 5 x the time",
        "4 x the findings in one object's placeholders <= 5 x the time",
    ]
    assert set(report["findings"]["rows"]) == {
        f"{prefix}_{size}" for prefix in ("findings", "findings_secret", "findings_placeholder") for size in ("small", "large")
    }
    assert {row["status"] for row in report["patches"]["rows"].values()} == {"ok"}
    assert [target["name"] for target in report["patches"]["targets"]] == [
        "4 x the JSON patches on one workload <= 5 x the time",
        "4 x the strategic merge patches on one workload <= 5 x the time",
    ]
    # Each render really applied every patch: the Job's container has an env variable per patch.
    rendered = tmp_path / "out" / "patches" / "patches_merge-20" / "rendered" / "dev"
    [job] = [yaml.safe_load(path.read_text(encoding="utf-8")) for path in rendered.glob("job-train-*.yaml")]
    assert len(job["spec"]["template"]["spec"]["containers"][0]["env"]) == 20
    assert "dirty corpus:" in completed.stdout
    assert "findings in one object" in completed.stdout
    # The stream really went through standard input: lint reported findings in it.
    stream_out = (tmp_path / "out" / "n4" / "logs" / "stream_lint.out").read_text(encoding="utf-8")
    assert "<stdin>" in stream_out
