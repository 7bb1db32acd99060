"""A strategic merge patch applied in place says whether it changed the object, and finds list items by their key.

``kube.strategic_merge`` merges into the object itself and tells a change from each write, so that render copies no
object per patch (issue 30: N patches on one workload were quadratic); ``MergeKeys`` keeps where each item of a
list merged by key is, from one patch to the next. Hypothesis draws Deployments and chains of patches over their
containers (merged by name), env variables (by name), ports (by containerPort, written as 8080 or 8080.0) and args
(replaced whole), with deletions, replacements, nulls, one NaN and items that name one key twice; each result is held to the
definitions: changed exactly when the object differs from a copy taken before, and the same object whether list
positions are kept between patches or looked up afresh.
"""

from __future__ import annotations

import copy
import math
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from mlgitops.kube.strategic_merge import MergeKeys, PatchConflict, apply_strategic_merge

VERSION = "1.32"
NAMES = st.sampled_from(["a", "b", "c"])
NAN = float("nan")
"""One NaN, as a file's ``.nan`` values are: equal to itself as an item of a container, unequal by ``==``."""
ENV = st.lists(st.fixed_dictionaries({"name": NAMES}, optional={"value": st.sampled_from(["1", "2", NAN])}), max_size=3)
PORTS = st.lists(st.fixed_dictionaries({"containerPort": st.sampled_from([80, 8080, 8080.0])}), max_size=2)
CONTAINERS = st.lists(
    st.fixed_dictionaries(
        {"name": NAMES},
        optional={"image": st.sampled_from(["x:1", "x:2"]), "env": ENV, "ports": PORTS, "args": st.lists(NAMES, max_size=2)},
    ),
    max_size=3,
)
DIRECTIVES = st.sampled_from([{}, {}, {"$patch": "delete"}, {"$patch": "replace"}])
PATCH_ENV = st.lists(
    st.builds(lambda item, directive: {**item, **directive}, ENV.map(lambda e: e[0] if e else {"name": "a"}), DIRECTIVES),
    max_size=3,
)
PATCH_CONTAINERS = st.lists(
    st.builds(
        lambda item, directive: {**item, **directive},
        st.fixed_dictionaries(
            {"name": NAMES},
            optional={
                "image": st.sampled_from(["x:1", "x:2"]) | st.none(),
                "env": PATCH_ENV,
                "ports": PORTS,
                "args": st.lists(NAMES, max_size=2),
            },
        ),
        DIRECTIVES,
    ),
    max_size=3,
)
PATCHES = st.fixed_dictionaries(
    {},
    optional={
        "spec": st.fixed_dictionaries(
            {},
            optional={
                "replicas": st.sampled_from([1, 1.0, 2]) | st.none(),
                "template": st.fixed_dictionaries({"spec": st.fixed_dictionaries({"containers": PATCH_CONTAINERS})}),
            },
        ),
        "metadata": st.fixed_dictionaries(
            {}, optional={"labels": st.dictionaries(NAMES, st.sampled_from(["1", "2"]) | st.none())}
        ),
    },
)


def _deployment(containers: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "d", "labels": {"a": "1"}},
        "spec": {"replicas": 1, "template": {"spec": {"containers": containers}}},
    }


def _merged(obj: dict[str, Any], patches: list[dict[str, Any]], keys: MergeKeys | None) -> tuple[Any, list[bool]]:
    """Each patch merged in turn into a copy of ``obj``; the result and, per patch, whether it said it changed the
    object, checked against a copy taken before it. ``keys`` is shared by the patches, or None for fresh ones."""
    obj = copy.deepcopy(obj)
    said = []
    for patch in patches:
        before = copy.deepcopy(obj)
        try:
            result = apply_strategic_merge(obj, copy.deepcopy(patch), VERSION, keys)
        except PatchConflict as conflict:
            return ("conflict", conflict.path), said
        assert result.modified == (result.obj != before), (patch, before, result.obj)
        obj = result.obj
        said.append(result.modified)
    return obj, said


@given(CONTAINERS, st.lists(PATCHES, min_size=1, max_size=4))
def test_a_merge_in_place_says_whether_it_changed_the_object(
    containers: list[dict[str, Any]], patches: list[dict[str, Any]]
) -> None:
    obj = _deployment(containers)
    kept = _merged(obj, patches, MergeKeys())
    afresh = _merged(obj, patches, None)
    assert kept == afresh


VALUES = st.sampled_from([1, 1.0, True, 0, False, "1", "a", None, math.nan, 8080, 8080.0, ("t",)])


@given(st.lists(st.one_of(VALUES.map(lambda v: {"k": v}), st.just({}), st.just("not a map")), max_size=6), VALUES)
def test_list_positions_by_key_are_the_first_item_equal_to_it(items: list[Any], value: Any) -> None:
    scanned = next((i for i, item in enumerate(items) if isinstance(item, dict) and item.get("k") == value), None)
    assert MergeKeys().position(items, "k", value) == scanned


def test_positions_follow_appends_and_deletions_between_patches() -> None:
    containers = [{"name": f"c{index}", "image": "x:1"} for index in range(5)]
    obj = _deployment(containers)
    keys = MergeKeys()
    steps = [
        {"spec": {"template": {"spec": {"containers": [{"name": "c9", "image": "x:1"}]}}}},  # appended: c9 at 5
        {"spec": {"template": {"spec": {"containers": [{"name": "c1", "$patch": "delete"}]}}}},  # after it, moved up
        {"spec": {"template": {"spec": {"containers": [{"name": "c9", "image": "x:2"}]}}}},
        {"spec": {"template": {"spec": {"containers": [{"name": "c4", "image": "x:2"}]}}}},
    ]
    for patch in steps:
        obj = apply_strategic_merge(obj, patch, VERSION, keys).obj
    assert [(c["name"], c["image"]) for c in obj["spec"]["template"]["spec"]["containers"]] == [
        ("c0", "x:1"),
        ("c2", "x:1"),
        ("c3", "x:1"),
        ("c4", "x:2"),
        ("c9", "x:2"),
    ]


def test_items_naming_one_key_twice_are_judged_as_a_whole() -> None:
    obj = _deployment([{"name": "a", "image": "x:1"}])
    undone = {"spec": {"template": {"spec": {"containers": [{"name": "a", "image": "x:2"}, {"name": "a", "image": "x:1"}]}}}}
    result = apply_strategic_merge(copy.deepcopy(obj), undone, VERSION)
    assert result.obj == obj
    assert result.modified is False
    image = ("spec", "template", "spec", "containers", 0, "image")
    assert [path for path, _ in result.changed].count(image) == 2  # both writes still say where the image came from
