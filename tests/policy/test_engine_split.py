"""policy/engine.py: checking, then wording and locating, each split over two processes, does each thing once.

Counted across processes (the forked child appends to the same file): each document with findings is composed
for positions once, whichever rules found something in it and whichever process checked them; and the findings
are exactly those of a run in one process.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import mlgitops.yaml.positions
from mlgitops.inputs.collect import collect
from mlgitops.policy import PolicyContext, engine, evaluate, load_catalog
from mlgitops.processes import parallel

# Three rules find something in each: an invalid label value (api-validation), no requests, no limits.
DEPLOYMENT = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: app-{index}
  namespace: team-a
  labels:
    cost-center: ML Platform
spec:
  selector:
    matchLabels:
      app: app-{index}
  template:
    metadata:
      labels:
        app: app-{index}
    spec:
      containers:
      - name: main
        image: ghcr.io/acme/app@sha256:{digest}
"""
COUNT = 40


@pytest.fixture
def composed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A file that gets one line per composition, from this process and from forked children."""
    record = tmp_path / "composed.txt"
    original = mlgitops.yaml.positions.compose_positions

    def counted(text: str) -> list[object]:
        with record.open("a") as stream:
            stream.write(f"{len(text)}\n")
        return original(text)  # type: ignore[return-value]

    monkeypatch.setattr(mlgitops.yaml.positions, "compose_positions", counted)
    return record


def _lint(folder: Path) -> list[tuple[str, str, int, int, str]]:
    found = collect([str(folder)])
    findings = evaluate(found.manifests, load_catalog(), PolicyContext())
    return [(f.rule, f.location.file, f.location.line, f.location.column, f.message) for f in findings]


def test_each_document_is_composed_once_across_both_processes(
    tmp_path: Path, composed: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for index in range(COUNT):
        (tmp_path / "m").mkdir(exist_ok=True)
        (tmp_path / "m" / f"app-{index:02}.yaml").write_text(DEPLOYMENT.format(index=index, digest=f"{index:064x}"))
    monkeypatch.setenv(parallel.SERIAL_SWITCH, "1")
    serial = _lint(tmp_path / "m")
    serial_compositions = len(composed.read_text().splitlines())
    composed.unlink()
    monkeypatch.delenv(parallel.SERIAL_SWITCH)
    monkeypatch.setattr(parallel, "_cores", lambda: 2)
    monkeypatch.setattr(engine, "EVALUATE_IN_TWO_FROM", 0)
    monkeypatch.setattr(engine, "LOCATE_IN_TWO_FROM", 0, raising=False)
    split = _lint(tmp_path / "m")
    rules = {rule for rule, *_ in split}
    assert {"api-validation", "resources-requests", "resources-limits"} <= rules
    assert split == serial
    assert serial_compositions == COUNT
    assert len(composed.read_text().splitlines()) == COUNT


def test_nothing_keeps_the_objects_of_a_run_once_it_is_done(tmp_path: Path) -> None:
    """A module-level cache (the GitOps engines of the run) held every object of the last run: lint of a 10,000-
    workload fleet could not let go of the fleet before loading environments for sources (1.8 GB at its peak)."""
    import gc
    import weakref

    folder = tmp_path / "m"
    folder.mkdir()
    for index in range(2):
        (folder / f"app-{index}.yaml").write_text(DEPLOYMENT.format(index=index, digest=f"{index:064x}"))
    # A claim of a GitOps-managed object: its rules ask which engines the run's objects name.
    (folder / "claim.yaml").write_text(
        "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata:\n  name: data\n  namespace: team-a\n"
        "  labels: {app.kubernetes.io/managed-by: mlgitops}\n"
        "spec:\n  accessModes: [ReadWriteOnce]\n  resources: {requests: {storage: 1Gi}}\n"
    )
    found = collect([str(folder)])
    assert evaluate(found.manifests, load_catalog(), PolicyContext())
    kept = [weakref.ref(manifest) for manifest in found.manifests]
    enabled = gc.isenabled()
    gc.disable()  # as the CLI runs: only reference counting frees, so a cycle or a cache would show
    try:
        found.manifests.clear()
        assert [ref() for ref in kept] == [None, None, None]
    finally:
        if enabled:
            gc.enable()
