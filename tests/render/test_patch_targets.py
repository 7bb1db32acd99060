"""Each patch looks only at the objects its target can match, kept up to date as patches change them (issue 30).

``render.patches`` tried every patch's target on every rendered object: an environment with a patch per Deployment,
each naming one, took time in their number squared (measured before: 1,000 / 2,000 / 4,000 one-operation JSON
patches 2.3 / 6.1 / 33.1 s). The objects are now filed by kind, by name and by app label (``_Targets``), and filed
again after each patch, since a patch may rename an object or take its name away; an object a patch leaves without a
kind or a name is a located error (it was an internal error where a later step needed the name).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from mlgitops.processes.parallel import SERIAL_SWITCH
from mlgitops.render.patches import APP_LABEL, PatchError, apply_patches
from mlgitops.spec.overrides import Patch
from tests.support import render_growth

AT = ("patches",)


def _deployment(name: str) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "labels": {APP_LABEL: name}},
        "spec": {"template": {"spec": {"containers": [{"name": name, "image": "x:1"}]}}},
    }


def _patched(objects: list[dict[str, Any]], *patches: dict[str, Any]) -> list[dict[str, Any]]:
    models = [Patch.model_validate(patch) for patch in patches]
    return [item.obj for item in apply_patches(objects, models, "1.32", at=AT)]


def test_a_patch_finds_an_object_by_the_name_an_earlier_patch_gave_it() -> None:
    rename = {
        "target": {"kind": "Deployment", "name": "a"},
        "jsonPatch": [{"op": "replace", "path": "/metadata/name", "value": "c"}],
    }
    annotate = {"target": {"kind": "Deployment", "name": "c"}, "strategicMerge": {"metadata": {"annotations": {"x": "y"}}}}
    first, second = _patched([_deployment("a"), _deployment("b")], rename, annotate)
    assert first["metadata"] == {"name": "c", "labels": {APP_LABEL: "a"}, "annotations": {"x": "y"}}
    assert "annotations" not in second["metadata"]
    by_old_name = {"target": {"kind": "Deployment", "name": "a"}, "strategicMerge": {"spec": {"paused": True}}}
    with pytest.raises(PatchError, match="patch matches nothing: no Deployment 'a' is rendered") as raised:
        _patched([_deployment("a")], rename, by_old_name)
    assert raised.value.path == (*AT, 1, "target")


def test_patches_of_every_kind_of_target_reach_the_objects_they_reached() -> None:
    objects = [_deployment("a"), _deployment("b"), {**_deployment("c"), "kind": "StatefulSet"}]
    every = {"target": {"kind": "Deployment"}, "strategicMerge": {"spec": {"paused": True}}}
    owned = {"target": {"kind": "Deployment", "workload": "b"}, "strategicMerge": {"spec": {"replicas": 3}}}
    named = {"target": {"kind": "StatefulSet", "name": "c"}, "strategicMerge": {"spec": {"replicas": 2}}}
    a, b, c = _patched(objects, every, owned, named)
    assert (a["spec"].get("paused"), a["spec"].get("replicas")) == (True, None)
    assert (b["spec"].get("paused"), b["spec"].get("replicas")) == (True, 3)
    assert (c["spec"].get("paused"), c["spec"].get("replicas")) == (None, 2)


@pytest.mark.parametrize(
    ("path", "left"),
    [
        ("/metadata/name", "a Deployment without a name"),
        ("/metadata", "a Deployment without a name"),
        ("/kind", "'a' without a kind"),
    ],
)
def test_a_patch_that_leaves_an_object_without_kind_or_name_is_refused_at_its_line(path: str, left: str) -> None:
    taken = {"target": {"kind": "Deployment", "name": "a"}, "jsonPatch": [{"op": "remove", "path": path}]}
    later = {"target": {"kind": "Deployment", "name": "b"}, "strategicMerge": {"spec": {"paused": True}}}
    with pytest.raises(PatchError, match=f"the patches leave {left}: every object needs its kind and metadata.name") as raised:
        _patched([_deployment("a"), _deployment("b")], taken, later)
    assert raised.value.path == (*AT, 0)


def _environment(count: int) -> str:
    lines = ["namespace: ml", 'kubernetesVersion: "1.32"', "networkPolicy: {}", "workloads:"]
    for index in range(count):
        lines += [f"  - name: s{index}", "    kind: serving", '    image: "registry.example/serve:1"']
        lines += ["    ports: [{port: 8080}]", '    resources: {cpu: "1", memory: 1Gi}']
    lines.append("patches:")
    for index in range(count):
        lines += [f"  - target: {{kind: Deployment, name: s{index}}}"]
        lines += [f"    jsonPatch: [{{op: add, path: /metadata/annotations, value: {{example.com/owner: o{index}}}}}]"]
    return "\n".join(lines) + "\n"


def test_a_patch_per_deployment_costs_linear_work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SERIAL_SWITCH, "1")
    assert render_growth(tmp_path, _environment, 100) < 2.3  # 2.0 measured; 2.7 before


def test_a_patch_of_a_kind_nothing_renders_says_so() -> None:
    absent = {"target": {"kind": "Service", "workload": "a"}, "strategicMerge": {"spec": {"type": "ClusterIP"}}}
    with pytest.raises(
        PatchError, match=r"^patch matches nothing: no Service of workload 'a' is rendered \(there are: Deployment\)$"
    ):
        _patched([_deployment("a")], absent)
