"""Each environment's kubernetesVersion, through extends:, for lint of rendered/ (load/kubernetes_versions.py)."""

from __future__ import annotations

from pathlib import Path

from mlgitops.load.kubernetes_versions import kubernetes_versions
from tests.support import REPO


def test_the_example_fleet_versions_follow_extends() -> None:
    # base.yaml writes 1.32 and is abstract; staging and prod write their own; dev inherits the base's.
    assert kubernetes_versions(REPO / "environments") == {"dev": "1.32", "prod": "1.35", "staging": "1.34"}


def test_unreadable_and_versionless_environments_are_left_out(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("extends: b.yaml\n")
    (tmp_path / "b.yaml").write_text("extends: a.yaml\n")  # a loop names no version
    (tmp_path / "broken.yaml").write_text("kubernetesVersion: [\n")
    (tmp_path / "v.yaml").write_text('kubernetesVersion: "v1.33.2"\n')
    assert kubernetes_versions(tmp_path) == {"v": "1.33"}
    assert kubernetes_versions(tmp_path / "missing") == {}
