"""load/extends_chain.py: the quick reader of an environment's extends: chain reads as render reads.

It served shell completion and lint's per-environment Kubernetes version with PyYAML's pure-Python loader (0.4 s
of a lint of the N = 1000 benchmark fleet); now the fast engine reads what it may, and what render refuses
(a duplicate key) ends the chain instead of being read one way here and refused there.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import mlgitops.yaml.fast_reader
from mlgitops.load.extends_chain import extends_chain, read_mapping


def test_the_chain_is_read_by_the_fast_engine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "base.yaml").write_text("kubernetesVersion: '1.33'\nworkloads: []\n")
    (tmp_path / "prod.yaml").write_text("extends: base.yaml\nworkloads:\n- name: a\n  kind: training\n")
    read: list[str] = []
    original = mlgitops.yaml.fast_reader.read

    def counted(text: str) -> object:
        read.append(text)
        return original(text)

    monkeypatch.setattr(mlgitops.yaml.fast_reader, "read", counted)
    assert extends_chain(tmp_path / "prod.yaml") == [
        {"extends": "base.yaml", "workloads": [{"name": "a", "kind": "training"}]},
        {"kubernetesVersion": "1.33", "workloads": []},
    ]
    assert len(read) == 2


@pytest.mark.parametrize(
    "text",
    ["name: a\nname: b\n", "- a\n- b\n", "key: [unclosed\n", "", "\xff"],
    ids=["duplicate key", "not a mapping", "invalid", "empty", "not text"],
)
def test_what_render_refuses_is_no_mapping(tmp_path: Path, text: str) -> None:
    path = tmp_path / "env.yaml"
    path.write_bytes(text.encode("latin-1"))
    assert read_mapping(path) is None


def test_a_missing_base_or_a_loop_ends_the_chain(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("extends: b.yaml\n")
    (tmp_path / "b.yaml").write_text("extends: a.yaml\n")
    (tmp_path / "c.yaml").write_text("extends: missing.yaml\n")
    assert len(extends_chain(tmp_path / "a.yaml")) == 2
    assert len(extends_chain(tmp_path / "c.yaml")) == 1


def test_a_name_the_system_refuses_ends_the_chain_and_completion_answers(tmp_path: Path) -> None:
    """``extends:`` (or ``-e``) naming a file longer than the system allows raised OSError out of `lint rendered`
    (exit 3) and shell completion; render reports it, located."""
    from mlgitops.commands.completion import workload_names

    long_name = "a" * 300 + ".yaml"
    (tmp_path / "dev.yaml").write_text(f"extends: {long_name}\nworkloads:\n- name: train\n")
    assert extends_chain(tmp_path / "dev.yaml") == [{"extends": long_name, "workloads": [{"name": "train"}]}]
    assert workload_names(tmp_path, "dev") == ["train"]
    assert workload_names(tmp_path, "a" * 300) == ["train"]  # unknown: every environment's
    assert workload_names(tmp_path, "nul\x00byte") == ["train"]
