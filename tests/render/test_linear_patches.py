"""N patches on one workload cost work linear in N: counted, not timed (issue 30).

Render copied the whole object for every patch (and ``jsonpatch`` copied it again for every operation) and compared
it with the copy, to refuse a patch that changes nothing; and merging an item into a list by key scanned the list.
So N patches adding an env variable each to one Job took time in N squared (measured before: 1,000 / 4,000 one-line
JSON patches 1.5 / 12.2 s, strategic merge patches 1.4 / 15.6 s; after: 0.7 / 1.0 s and 0.7 / 1.2 s). Here every
value a patch writes is a string that counts each time it is copied or compared: over N, 2N and 4N patches the extra
count must double, not quadruple.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from mlgitops.render.patches import APP_LABEL, PatchError, apply_patches
from mlgitops.spec.overrides import Patch
from tests.support import growth


class Counted(str):
    """A value that counts how often it is compared or copied (``touched``)."""

    touched = 0

    def __eq__(self, other: object) -> bool:
        Counted.touched += 1
        return str.__eq__(self, other)

    def __ne__(self, other: object) -> bool:
        Counted.touched += 1
        return str.__ne__(self, other)

    __hash__ = str.__hash__

    def __deepcopy__(self, memo: dict[int, Any]) -> Counted:
        Counted.touched += 1
        return Counted(str(self))


def _job() -> dict[str, Any]:
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": "train", "labels": {APP_LABEL: "train"}},
        "spec": {"template": {"spec": {"containers": [{"name": "train", "image": "x:1", "env": []}]}}},
    }


def _env(index: int) -> dict[str, Any]:
    return {"name": Counted(f"V{index}"), "value": Counted("x")}


TARGET = {"kind": "Job"}
ENV_END = "/spec/template/spec/containers/0/env/-"


def _json_patches(count: int) -> list[Patch]:
    return [
        Patch.model_validate({"target": TARGET, "jsonPatch": [{"op": "add", "path": ENV_END, "value": _env(i)}]})
        for i in range(count)
    ]


def _one_json_patch(count: int) -> list[Patch]:
    operations = [{"op": "add", "path": ENV_END, "value": _env(i)} for i in range(count)]
    return [Patch.model_validate({"target": TARGET, "jsonPatch": operations})]


def _merge_patches(count: int) -> list[Patch]:
    def merge(env: list[dict[str, Any]]) -> dict[str, Any]:
        return {"spec": {"template": {"spec": {"containers": [{"name": "train", "env": env}]}}}}

    return [Patch.model_validate({"target": TARGET, "strategicMerge": merge([_env(i)])}) for i in range(count)]


def _touched(patches: Callable[[int], list[Patch]]) -> Callable[[int], int]:
    def work(count: int) -> int:
        made = patches(count)
        Counted.touched = 0
        [patched] = apply_patches([_job()], made, "1.32", at=("workloads", 0, "patches"), workload="train")
        assert len(patched.obj["spec"]["template"]["spec"]["containers"][0]["env"]) == count
        return Counted.touched

    return work


@pytest.mark.parametrize("patches", [_json_patches, _one_json_patch, _merge_patches], ids=["json", "one-json", "merge"])
def test_patches_on_one_object_cost_work_linear_in_their_number(patches: Callable[[int], list[Patch]]) -> None:
    assert growth(_touched(patches), 200) < 2.6


def test_the_objects_given_are_left_as_they_were() -> None:
    job = _job()
    before = copy.deepcopy(job)
    made = _json_patches(3) + _merge_patches(5)  # the merges of V0-V2 set what the JSON patches added: V3, V4 change
    with pytest.raises(PatchError, match="patch changes nothing in Job 'train'"):
        apply_patches([job], made, "1.32", at=("patches",), workload="train")
    [patched] = apply_patches([job], made[:3] + made[-2:], "1.32", at=("patches",), workload="train")
    assert job == before
    assert [env["name"] for env in patched.obj["spec"]["template"]["spec"]["containers"][0]["env"]] == [f"V{i}" for i in range(5)]
