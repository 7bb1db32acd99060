"""Each environment's kubernetesVersion, through extends:, for lint of rendered/ (load/kubernetes_versions.py)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from mlgitops.load import extends_chain
from mlgitops.load.extends_chain import Read
from mlgitops.load.kubernetes_versions import environment_version, kubernetes_versions
from tests.support import REPO, run_in_process


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


def test_lint_reads_each_environment_file_once_for_the_versions(monkeypatch: pytest.MonkeyPatch) -> None:
    """Lint looks up versions twice (by each generated file's header, by each object's environment label) and every
    environment extends one base: each file is read once per run (three environments extending a 650 KB base read it
    six times, 0.4 s of a lint of the N = 1000 benchmark fleet)."""
    read: list[str] = []
    original = extends_chain.read_mapping

    def counted(path: Path) -> dict[str, Any] | None:
        read.append(path.name)
        return original(path)

    monkeypatch.setattr(extends_chain, "read_mapping", counted)
    result = run_in_process("lint", "-q", "-o", "json", "rendered", cwd=REPO)
    assert result.exit_code in (0, 1), result.stderr
    assert read  # the versions were looked up
    assert Counter(read) == Counter(set(read)), Counter(read)
    assert "base.yaml" in read


def test_a_shared_read_gives_the_versions_of_separate_reads() -> None:
    shared: Read = {}
    assert kubernetes_versions(REPO / "environments", shared) == kubernetes_versions(REPO / "environments")
    assert environment_version(REPO / "environments" / "prod.yaml", shared) == "1.35"
    assert len(shared) == len(list((REPO / "environments").glob("*.yaml")))


def test_a_shared_read_follows_links_as_the_system_opens_them(tmp_path: Path) -> None:
    """`extends: link/../base.yaml` opens sub/base.yaml when link points into sub/inner: keyed by the text of the
    path, the shared read gave dev the version of ./base.yaml instead (found by a new-user test)."""
    (tmp_path / "base.yaml").write_text('abstract: true\nkubernetesVersion: "1.32"\n')
    (tmp_path / "sub" / "inner").mkdir(parents=True)
    (tmp_path / "sub" / "base.yaml").write_text('abstract: true\nkubernetesVersion: "1.27"\n')
    (tmp_path / "link").symlink_to("sub/inner")
    (tmp_path / "dev.yaml").write_text("extends: link/../base.yaml\n")
    (tmp_path / "prod.yaml").write_text("extends: base.yaml\n")
    alone = kubernetes_versions(tmp_path)
    assert alone == {"dev": "1.27", "prod": "1.32"}
    assert kubernetes_versions(tmp_path, {}) == alone
