"""A JSON patch applied in place says whether it changed the object exactly as comparing the whole object would.

``kube.json_patch`` judges the operations of a patch by what each does when they cannot undo each other, and any
other patch by the one node its operations work in, so that render needs no copy of the object per patch (issue 30:
N patches on one object were quadratic). Hypothesis draws documents whose values are often equal in Python's sense
(``1``, ``1.0``, ``True``, one NaN read twice), and patches of one to four operations at locations that exist, new
keys, array ends and places that do not exist; each is held to ``jsonpatch`` applying the patch to a copy, and to
comparing that copy with the document before.
"""

from __future__ import annotations

import copy
from typing import Any

import jsonpatch
import jsonpointer
from hypothesis import given
from hypothesis import strategies as st

from mlgitops.kube.json_patch import PatchRun, Snapshot, apply_operation, independent, lone_change

NAN = float("nan")
"""One NaN, as a file's ``.nan`` values are: equal to itself as an item of a container, unequal by ``==``."""
LEAVES = st.sampled_from([0, 1, 1.0, True, False, "a", "b", None, float("inf"), NAN])
VALUES = st.recursive(
    LEAVES,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(["a", "b", "c"]), inner, max_size=3),
    max_leaves=8,
)
REFUSED = object()
"""What a patch that does not apply gives."""
DOCUMENTS = st.dictionaries(st.sampled_from(["a", "b", "c"]), VALUES, max_size=3)


def _pointers(node: Any, at: str = "") -> list[str]:
    """Every location in ``node``, and the places an add could go: a new key, an array's end and one past it."""
    found = [at]
    if isinstance(node, dict):
        found += [f"{at}/{key}" for key in ("a", "b", "c", "new") if key not in node]
        for key, value in node.items():
            found += _pointers(value, f"{at}/{key}")
    elif isinstance(node, list):
        found += [f"{at}/-", f"{at}/{len(node)}", f"{at}/{len(node) + 1}"]
        for index, value in enumerate(node):
            found += _pointers(value, f"{at}/{index}")
    else:
        found.append(f"{at}/x")  # inside a scalar: never resolves
    return found


@st.composite
def _patched(draw: st.DrawFn) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    document = draw(DOCUMENTS)
    pointers = _pointers(document)
    operations = []
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["add", "remove", "replace", "move", "copy", "test"]))
        operation: dict[str, Any] = {"op": op, "path": draw(st.sampled_from(pointers))}
        if op in ("add", "replace", "test"):
            # Often a value already in the document, so that a write may change nothing.
            operation["value"] = draw(VALUES | st.sampled_from(pointers).map(lambda p: _at(document, p)))
        if op in ("move", "copy"):
            operation["from"] = draw(st.sampled_from(pointers))
        operations.append(operation)
    return document, operations


@st.composite
def _rewrites(draw: st.DrawFn) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Patches of several operations that mostly apply and often write what is already there."""
    document = draw(DOCUMENTS)
    existing = [p for p in _pointers(document) if p and _at(document, p) is not None]
    if not existing:
        return document, [{"op": "test", "path": "", "value": document}]
    operations = []
    for _ in range(draw(st.integers(2, 4))):
        path = draw(st.sampled_from(existing))
        op = draw(st.sampled_from(["add", "replace", "test", "copy"]))
        value = _at(document, path) if draw(st.booleans()) else draw(LEAVES)
        operation = {"op": op, "path": path, "from": path} if op == "copy" else {"op": op, "path": path, "value": value}
        operations.append(operation)
    return document, operations


def _at(document: Any, pointer: str) -> Any:
    try:
        found = jsonpointer.resolve_pointer(document, pointer)
    except (jsonpointer.JsonPointerException, KeyError, IndexError, TypeError):
        return None
    return None if isinstance(found, jsonpointer.EndOfList) else copy.deepcopy(found)


@given(_patched() | _rewrites())
def test_a_patch_in_place_says_whether_it_changed_the_document(patched: tuple[dict[str, Any], list[dict[str, Any]]]) -> None:
    document, operations = patched
    try:
        expected: Any = jsonpatch.apply_patch(copy.deepcopy(document), copy.deepcopy(operations))
    except (jsonpatch.JsonPatchException, jsonpointer.JsonPointerException):
        expected = REFUSED  # so it must not apply in place either
    target = copy.deepcopy(document)
    run = PatchRun(target, operations)
    try:
        for operation in copy.deepcopy(operations):
            target = run.apply(target, operation)
    except (jsonpatch.JsonPatchException, jsonpointer.JsonPointerException):
        assert expected is REFUSED
        return
    assert expected is not REFUSED
    assert [target] == [expected]  # as items, so that one NaN equals itself
    assert run.changed(target) == ([expected] != [document])


def test_lone_operations_are_judged_by_what_they_do() -> None:
    document = {"spec": {"replicas": 1, "args": ["a", "b"], "flag": True}}
    assert lone_change(document, {"op": "replace", "path": "/spec/replicas", "value": 1.0}) is False
    assert lone_change(document, {"op": "replace", "path": "/spec/flag", "value": 1}) is False  # True == 1 in Python
    assert lone_change(document, {"op": "add", "path": "/spec/replicas", "value": 2}) is True
    assert lone_change(document, {"op": "add", "path": "/spec/args/-", "value": "b"}) is True  # an insertion
    assert lone_change(document, {"op": "copy", "from": "/spec/args/1", "path": "/spec/args/0"}) is True
    assert lone_change(document, {"op": "copy", "from": "/spec/replicas", "path": "/spec/replicas"}) is False
    assert lone_change(document, {"op": "remove", "path": "/spec/flag"}) is True
    assert lone_change(document, {"op": "test", "path": "/spec/flag", "value": True}) is False
    assert lone_change(document, {"op": "replace", "path": "/spec/nope", "value": 1}) is None  # applying says why
    assert lone_change(document, {"op": "move", "from": "/spec/args/0", "path": "/spec/args/1"}) is True
    assert lone_change({"l": ["a", "a", "b"]}, {"op": "move", "from": "/l/0", "path": "/l/1"}) is False
    read_twice = {"x": NAN}
    assert lone_change(read_twice, {"op": "replace", "path": "/x", "value": NAN}) is False
    assert lone_change(read_twice, {"op": "replace", "path": "/x", "value": float("nan")}) is True


def test_operations_that_cannot_undo_each_other_are_judged_one_by_one() -> None:
    document = {"metadata": {"annotations": {}}, "spec": {"env": [{"name": "A"}]}}

    def judged(*operations: tuple[str, str, Any]) -> bool:
        written = [{"op": op, "path": path, "value": value} for op, path, value in operations]
        return independent(document, [{**w, "from": "/spec"} if w["op"] == "copy" else w for w in written])

    assert judged(("add", "/spec/env/-", 1), ("add", "/metadata/annotations/a", 1))
    assert judged(("add", "/spec/env/-", 1), ("copy", "/spec/env/0", None))  # insertions only grow the array
    assert not judged(("add", "/spec/env/-", 1), ("remove", "/spec/env/0", None))
    assert not judged(("add", "/spec/env/-", 1), ("replace", "/spec/env/0/name", "B"))  # inside what the add shifts
    assert not judged(("add", "/metadata/annotations/a", 1), ("remove", "/metadata/annotations/a", None))
    assert not judged(("add", "/metadata/annotations/a", {}), ("add", "/metadata/annotations/a/b", 1))
    assert not judged(("add", "/spec/env/-", 1), ("move", "/metadata/annotations/a", None))


def test_several_operations_are_judged_by_the_node_they_share() -> None:
    document = {"spec": {"template": {"env": [{"name": "A"}]}}, "status": {"big": list(range(1000))}}
    undone = [
        {"op": "add", "path": "/spec/template/env/-", "value": {"name": "B"}},
        {"op": "remove", "path": "/spec/template/env/1"},
    ]
    snapshot = Snapshot(document, undone)
    assert snapshot.node is document["spec"]["template"]["env"]  # not the whole object
    for operation in undone:
        document = apply_operation(document, operation)
    assert snapshot.changed(document) is False
    moved = [{"op": "move", "from": "/spec/template/env/0", "path": "/status/first"}]
    snapshot = Snapshot(document, moved)
    assert snapshot.node is document  # the two locations share only the root
    assert snapshot.changed(apply_operation(document, moved[0])) is True
