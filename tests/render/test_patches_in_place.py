"""Patches applied in place give what copying and comparing the whole object gave, where a new-user test of the
first version differed: a map render places twice, a NaN read twice, a name a patch takes away and gives back."""

from __future__ import annotations

import copy
import math
from typing import Any

import pytest

from mlgitops.render.patches import APP_LABEL, PatchError, apply_patches
from mlgitops.spec.overrides import Patch

AT = ("workloads", 0, "patches")


def _deployment() -> dict[str, Any]:
    """A Deployment as render builds it for a server of two replicas: one labelSelector in both spread constraints."""
    selector = {"matchLabels": {APP_LABEL: "serve"}}
    constraints = [
        {"maxSkew": 1, "topologyKey": key, "whenUnsatisfiable": "ScheduleAnyway", "labelSelector": selector}
        for key in ("topology.kubernetes.io/zone", "kubernetes.io/hostname")
    ]
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "serve", "labels": {APP_LABEL: "serve"}},
        "spec": {
            "template": {"spec": {"containers": [{"name": "serve", "image": "x:1"}], "topologySpreadConstraints": constraints}}
        },
    }


def _spread(*entries: dict[str, Any]) -> Patch:
    return Patch.model_validate(
        {
            "target": {"kind": "Deployment"},
            "strategicMerge": {"spec": {"template": {"spec": {"topologySpreadConstraints": list(entries)}}}},
        }
    )


def _patched(obj: dict[str, Any], *patches: Patch) -> dict[str, Any]:
    [item] = apply_patches([obj], list(patches), "1.32", at=AT, workload="serve")
    return item.obj


def test_a_patch_of_a_map_render_placed_twice_changes_that_place_only() -> None:
    zone = {"topologyKey": "topology.kubernetes.io/zone", "labelSelector": {"matchLabels": {"tier": "web"}}}
    constraints = _patched(_deployment(), _spread(zone))["spec"]["template"]["spec"]["topologySpreadConstraints"]
    assert constraints[0]["labelSelector"]["matchLabels"] == {APP_LABEL: "serve", "tier": "web"}
    assert constraints[1]["labelSelector"]["matchLabels"] == {APP_LABEL: "serve"}  # it leaked here before


def test_writes_through_both_places_are_two_changes_not_one_undone() -> None:
    # Setting a label through one constraint and removing it through the other: as a tree, both constraints change.
    zone = {"topologyKey": "topology.kubernetes.io/zone", "labelSelector": {"matchLabels": {"tier": "web"}}}
    host = {"topologyKey": "kubernetes.io/hostname", "labelSelector": {"matchLabels": {APP_LABEL: None}}}
    constraints = _patched(_deployment(), _spread(zone, host))["spec"]["template"]["spec"]["topologySpreadConstraints"]
    assert [c["labelSelector"]["matchLabels"] for c in constraints] == [{APP_LABEL: "serve", "tier": "web"}, {}]
    same = {"topologyKey": "kubernetes.io/hostname", "labelSelector": {"matchLabels": {APP_LABEL: "serve"}}}
    with pytest.raises(PatchError, match="patch changes nothing in Deployment 'serve'"):
        _patched(_deployment(), _spread(same))


@pytest.mark.parametrize(
    "rewrite",
    [
        {"strategicMerge": {"metadata": {"annotations": {"x": math.nan}}}},
        {"jsonPatch": [{"op": "replace", "path": "/metadata/annotations/x", "value": math.nan}]},
        {"jsonPatch": [{"op": "copy", "from": "/metadata/annotations/x", "path": "/metadata/annotations/x"}]},
        {
            "jsonPatch": [
                {"op": "test", "path": "/spec", "value": {}},
                {"op": "add", "path": "/metadata/annotations/x", "value": math.nan},
            ]
        },
    ],
    ids=["merge", "replace", "copy", "two-operations"],
)
def test_a_nan_written_over_itself_changes_nothing(rewrite: dict[str, Any]) -> None:
    # A file's `.nan` values are one float object: equal to itself as an item, as comparing the objects found.
    first = Patch.model_validate(
        {"target": {"kind": "Deployment"}, "strategicMerge": {"metadata": {"annotations": {"x": math.nan}}}}
    )
    again = Patch.model_validate({"target": {"kind": "Deployment"}, **rewrite})
    obj = _deployment()
    obj["spec"] = {}
    with pytest.raises(PatchError, match="patch changes nothing in Deployment 'serve'") as raised:
        _patched(obj, first, again)
    assert raised.value.path == (*AT, 1)


def test_a_name_taken_away_and_given_back_by_later_patches() -> None:
    taken = Patch.model_validate({"target": {"kind": "Deployment"}, "jsonPatch": [{"op": "remove", "path": "/metadata/name"}]})
    between = Patch.model_validate({"target": {"kind": "Deployment"}, "strategicMerge": {"spec": {"paused": True}}})
    given = Patch.model_validate({"target": {"kind": "Deployment"}, "strategicMerge": {"metadata": {"name": "serve"}}})
    obj = _patched(_deployment(), taken, between, given)
    assert obj["metadata"]["name"] == "serve"
    assert obj["spec"]["paused"] is True
    nothing = Patch.model_validate({"target": {"kind": "Deployment"}, "strategicMerge": {"spec": {"paused": True}}})
    with pytest.raises(PatchError, match="patch changes nothing in a Deployment without a name"):
        _patched(_deployment(), taken, between, nothing)


def test_the_object_given_is_not_changed_and_its_shared_map_stays_shared() -> None:
    obj = _deployment()
    before = copy.deepcopy(obj)
    _patched(obj, _spread({"topologyKey": "kubernetes.io/hostname", "maxSkew": 2}))
    assert obj == before
    constraints = obj["spec"]["template"]["spec"]["topologySpreadConstraints"]
    assert constraints[0]["labelSelector"] is constraints[1]["labelSelector"]
