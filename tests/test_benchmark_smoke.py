"""The benchmark still runs end to end (tiny fleet, one run). No timing is asserted here."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.support import REPO, kubectl

FLEET_ROWS = {
    "render",
    "render_check",
    "lint",
    "kustomize",
    "kubernetes_validate",
    "checkov",
    "floor_load",
    "floor_dump",
    "floor_load_fast",
    "floor_dump_fast",
}
STARTUP_ROWS = {"version", "import_click"}
# Peers that are optional extras: reported as unavailable when missing, never a failure.
OPTIONAL_ROWS = {"checkov", "lint"}


def test_benchmark_runs_end_to_end_on_a_tiny_fleet(tmp_path: Path) -> None:
    kubectl()  # the benchmark compares against kubectl kustomize
    report_path = tmp_path / "report.json"

    completed = subprocess.run(
        [
            sys.executable,
            str(REPO / "benchmarks" / "run.py"),
            "--n",
            "4",
            "--runs",
            "1",
            "--warmup",
            "0",
            "--out",
            str(tmp_path / "out"),
            "--json",
            str(report_path),
            "--quiet",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )

    assert completed.returncode == 0, completed.stderr
    assert "lint <= 1.0 x PyYAML load floor" in completed.stdout
    report = json.loads(report_path.read_text(encoding="utf-8"))
    (size,) = report["sizes"]
    assert size["n"] == 4
    assert set(size["rows"]) == FLEET_ROWS
    assert set(report["startup"]["rows"]) == STARTUP_ROWS
    for key, row in {**size["rows"], **report["startup"]["rows"]}.items():
        expected = {"ok", "unavailable"} if key in OPTIONAL_ROWS else {"ok"}
        assert row["status"] in expected, (key, row["reason"])
        if row["status"] == "ok":
            assert len(row["runs"]) == 1
            assert row["peak_mb"] > 0
    rendered = list((tmp_path / "out" / "n4" / "render-run").rglob("*.yaml"))
    assert rendered, "mlgitops render wrote nothing"
    assert all(path.stat().st_size > 0 for path in rendered)
    assert size["fleet"]["objects"] > 0
    assert size["seeded_faults"], "no fault was seeded into the lint tree"
    # A seeded fault lint no longer reports is a stale seed or a lost rule: either way the benchmark's claim is wrong.
    missed = [fault["fault"] for fault in size["seeded_faults"] if not fault["found"]]
    assert not missed, missed
    assert {target["name"] for target in size["targets"]} >= {
        "lint <= 1.0 x PyYAML load floor",
        "render faster than kubectl kustomize",
        "lint finds every seeded fault",
    }
