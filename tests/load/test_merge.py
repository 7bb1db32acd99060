"""`extends:` merge rules, as the documentation describes them (docs/rendering.md)."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlgitops.errors import UserError
from mlgitops.load.environments import load_environments
from tests.support import write

BASE = """\
abstract: true
kubernetesVersion: "1.32"
labels:
  team: vision
  tier: batch
cluster:
  nodePools:
    - name: cpu
      allocatable: {cpu: "16", memory: 64Gi}
volumes:
  - name: data
    claim: {size: 10Gi}
workloads:
  - name: train
    kind: training
    image: registry.example/train:1
    args: [--epochs=1, --lr=0.1]
    resources: {cpu: "2", memory: 4Gi}
    env:
      - name: A
        value: "1"
      - name: B
        value: "2"
  - name: serve
    kind: serving
    image: registry.example/serve:1
    ports: [{port: 8080}]
    resources: {cpu: "1", memory: 1Gi}
"""


def _load(tmp_path: Path, child: str, name: str = "dev") -> object:
    write(tmp_path / "base.yaml", BASE)
    write(tmp_path / f"{name}.yaml", child)
    [loaded] = load_environments(tmp_path)
    return loaded.spec


def test_mappings_merge_key_by_key_and_scalars_override(tmp_path: Path) -> None:
    spec = _load(tmp_path, "extends: base.yaml\nnamespace: ml-dev\nlabels:\n  tier: online\n")
    assert spec.labels == {"team": "vision", "tier": "online"}  # type: ignore[attr-defined]
    assert spec.namespace == "ml-dev"  # type: ignore[attr-defined]


def test_named_lists_merge_by_name_and_plain_lists_are_replaced(tmp_path: Path) -> None:
    spec = _load(
        tmp_path,
        """\
extends: base.yaml
namespace: ml-dev
workloads:
  - name: train
    args: [--epochs=90]
    env:
      - name: B
        value: "20"
      - name: C
        value: "3"
  - name: extra
    kind: batch
    image: registry.example/batch:1
    schedule: "0 3 * * *"
    resources: {cpu: "1", memory: 1Gi}
""",
    )
    workloads = {w.name: w for w in spec.workloads}  # type: ignore[attr-defined]
    assert [w.name for w in spec.workloads] == ["train", "serve", "extra"]  # type: ignore[attr-defined]
    assert workloads["train"].args == ["--epochs=90"]
    assert [(e.name, e.value) for e in workloads["train"].env] == [("A", "1"), ("B", "20"), ("C", "3")]
    assert workloads["train"].image == "registry.example/train:1"


def test_patch_delete_removes_inherited_items_and_fields(tmp_path: Path) -> None:
    spec = _load(
        tmp_path,
        """\
extends: base.yaml
namespace: ml-dev
labels:
  tier: {$patch: delete}
workloads:
  - name: serve
    $patch: delete
""",
    )
    assert [w.name for w in spec.workloads] == ["train"]  # type: ignore[attr-defined]
    assert spec.labels == {"team": "vision"}  # type: ignore[attr-defined]


def test_deleting_something_not_inherited_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(UserError) as raised:
        _load(tmp_path, "extends: base.yaml\nnamespace: ml-dev\nworkloads:\n  - name: nope\n    $patch: delete\n")
    assert raised.value.one_line() == (
        f"{tmp_path}/dev.yaml:4:5: '$patch: delete' of 'nope', but nothing named 'nope' is inherited"
    )


def test_abstract_files_are_not_environments_and_abstract_is_not_inherited(tmp_path: Path) -> None:
    write(tmp_path / "base.yaml", BASE)
    write(tmp_path / "dev.yaml", "extends: base.yaml\nnamespace: ml-dev\n")
    write(tmp_path / "prod.yaml", "extends: base.yaml\nnamespace: ml-prod\n")
    assert [env.name for env in load_environments(tmp_path)] == ["dev", "prod"]


def test_values_inherited_from_the_base_point_at_the_base_file(tmp_path: Path) -> None:
    write(tmp_path / "base.yaml", BASE.replace("memory: 4Gi}", "memory: 4GB}"))
    write(tmp_path / "dev.yaml", "extends: base.yaml\nnamespace: ml-dev\n")
    with pytest.raises(UserError) as raised:
        load_environments(tmp_path)
    assert raised.value.one_line() == (
        f"{tmp_path}/base.yaml:18:35: workloads[train].resources.memory: '4GB' is not a Kubernetes quantity "
        "(did you mean '4Gi'?) (breaks environment dev)"
    )


def test_extends_cycles_are_rejected(tmp_path: Path) -> None:
    write(tmp_path / "a.yaml", "extends: b.yaml\nnamespace: a\n")
    write(tmp_path / "b.yaml", "extends: a.yaml\nnamespace: b\n")
    with pytest.raises(UserError) as raised:
        load_environments(tmp_path, ["a"])
    assert raised.value.one_line() == (
        f"{tmp_path}/b.yaml:1:10: extends: cycle {tmp_path}/a.yaml -> {tmp_path}/b.yaml -> {tmp_path}/a.yaml "
        "(breaks environment a)"
    )


def test_extends_may_not_leave_the_environments_folder(tmp_path: Path) -> None:
    folder = tmp_path / "environments"
    write(tmp_path / "outside.yaml", "namespace: x\n")
    write(folder / "dev.yaml", "extends: ../outside.yaml\nnamespace: ml-dev\n")
    with pytest.raises(UserError) as raised:
        load_environments(folder)
    assert "leads outside" in raised.value.one_line()
    assert raised.value.location is not None
    assert (raised.value.location.line, raised.value.location.column) == (1, 10)


def test_a_symlinked_base_pointing_outside_is_rejected(tmp_path: Path) -> None:
    folder = tmp_path / "environments"
    write(tmp_path / "outside.yaml", BASE)
    folder.mkdir()
    (folder / "base.yaml").symlink_to(tmp_path / "outside.yaml")
    write(folder / "dev.yaml", "extends: base.yaml\nnamespace: ml-dev\n")
    with pytest.raises(UserError) as raised:
        load_environments(folder, ["dev"])
    assert "extends: 'base.yaml' leads outside" in raised.value.one_line()


def test_a_name_twice_in_one_file_is_an_error_not_a_silent_merge(tmp_path: Path) -> None:
    write(
        tmp_path / "dev.yaml",
        BASE.replace("abstract: true\n", "namespace: ml-dev\n").replace("  - name: serve\n", "  - name: train\n"),
    )
    with pytest.raises(UserError) as raised:
        load_environments(tmp_path)
    assert raised.value.one_line() == (
        f"{tmp_path}/dev.yaml:24:11: workloads[train]: duplicate name 'train' (first defined at line 14); names must be unique"
    )
