"""JSON patches (RFC 6902) applied in place, with whether the patch changed the object.

`render` applies an environment's patches to the objects it built, and refuses a patch that changes nothing.
Asking that by copying the object before each patch and comparing it after cost time in the object's size per
patch: 4,000 one-operation patches adding env variables to one Job took 13 s, quadratic. Here the object is
patched in place (``jsonpatch``'s ``in_place``), and whether it changed is answered from what the operations do
(RFC 6902 section 4, https://www.rfc-editor.org/rfc/rfc6902#section-4), each judged just before it applies:

- ``test`` changes nothing, ``remove`` always does (its target goes), ``add`` or ``copy`` into an array inserts (a
  change), and into an object, or ``replace``, changes the document exactly when the value written differs from the
  one there (Python's ``==``, an object always equal to itself, as comparing containers does: ``.nan`` over the same
  ``.nan`` is no change);
- that answers for the patch when its operations cannot undo each other: no operation writes at or inside a location
  another one writes (a write into an array counts as writing the whole array, whose items it shifts), unless all the
  writes to one array are insertions, which only grow it;
- any other patch (a ``move``; operations that may undo each other, such as an add and a remove of one key) is
  judged by comparing, before and after, the one node every operation works inside: the deepest container holding
  the parents of all their ``path`` and ``from`` locations. No operation replaces that node or anything above it, so
  it is the same object after the patch, and the object changed exactly when that node did.

Both answer what comparing the whole object would, for objects that share no map or list between two places (render
copies each object apart first), ``tests/kube/test_json_patch.py`` holds them to it; the cost is that of the values
an operation writes, or of that one node once per patch.
"""

from __future__ import annotations

import copy
from typing import Any

from jsonpointer import JsonPointer, JsonPointerException

# What resolving a pointer raises for a location the document does not have (or a malformed pointer).
UNRESOLVED = (JsonPointerException, KeyError, IndexError, TypeError)


def differs(before: Any, after: Any) -> bool:
    """Whether two values differ as items of two containers compared with ``==`` would: an object is equal to itself
    (one NaN float read twice from a file is no change)."""
    return before is not after and bool(before != after)


def lone_change(document: Any, operation: dict[str, Any]) -> bool | None:
    """Whether ``operation``, applied next, will change ``document``; None when it does not tell (an unknown op) or its
    locations do not resolve (applying it then fails with the reason)."""
    op = operation.get("op")
    if op == "test":
        return False
    if op == "remove":
        return True
    if op == "move":
        return _move_changes(document, operation)
    if op not in ("add", "replace", "copy"):
        return None
    try:
        value = JsonPointer(operation["from"]).resolve(document) if op == "copy" else operation["value"]
        parent, part = JsonPointer(operation["path"]).to_last(document)
    except UNRESOLVED:  # reported by applying the operation
        return None
    if part is None:  # the whole document
        return differs(document, value)
    if isinstance(parent, list):
        if op != "replace":
            return True  # an insertion
        return differs(parent[part], value) if isinstance(part, int) and 0 <= part < len(parent) else None
    if isinstance(parent, dict):
        if part not in parent:
            return None if op == "replace" else True
        return differs(parent[part], value)
    return None


def _move_changes(document: Any, operation: dict[str, Any]) -> bool | None:
    """Whether a ``move`` changes ``document``: not to its own place; out of a map always (its key goes, and the value
    cannot come back under it); within one array exactly when the items from one index to the other are not all equal
    (item i taken out and put at j shifts those between, RFC 6902 section 4.4); out of an array elsewhere always."""
    if operation.get("from") == operation.get("path"):
        return False
    try:
        source, taken = JsonPointer(str(operation["from"])).to_last(document)
        target, put = JsonPointer(str(operation["path"])).to_last(document)
    except UNRESOLVED:
        return None
    if not isinstance(source, list) or target is not source or not isinstance(taken, int):
        return True
    at = len(source) - 1 if put == "-" else put
    if not isinstance(at, int) or not 0 <= taken < len(source) or not 0 <= at < len(source):
        return None  # it does not apply
    low, high = min(taken, at), max(taken, at)
    return any(differs(source[index], source[index + 1]) for index in range(low, high))


def independent(document: Any, operations: list[dict[str, Any]]) -> bool:
    """Whether no operation of the patch can undo another's write, so that each one's ``lone_change`` just before it
    applies answers for the patch: only ``add``, ``copy``, ``replace``, ``remove`` and ``test``, and no location written
    at or inside another, where a write into an array (resolved in ``document``) writes the whole array, and writes to
    one array that are all insertions (``add``, ``copy``) may share it. A lone operation (a ``move`` too) always is."""
    if len(operations) == 1:
        return True
    written: dict[tuple[str, ...], bool] = {}  # location -> all insertions into an array there
    around: set[tuple[str, ...]] = set()  # the locations holding a written one
    for operation in operations:
        op = operation.get("op")
        if op == "test":
            continue
        if op not in ("add", "copy", "replace", "remove"):
            return False
        try:
            parts = tuple(JsonPointer(str(operation["path"])).parts)
            parent = JsonPointer.from_parts(parts[:-1]).resolve(document) if parts else None
        except UNRESOLVED:
            return False  # a parent an earlier operation makes, or none: applying tells
        in_array = isinstance(parent, list)
        location = parts[:-1] if in_array else parts
        inserting = in_array and op in ("add", "copy")
        if location in written:
            if not (inserting and written[location]):
                return False
            continue
        holders = [location[:length] for length in range(len(location))]
        if location in around or any(holder in written for holder in holders):
            return False  # one written inside the other
        written[location] = inserting
        around.update(holders)
    return True


class Snapshot:
    """The node all of a patch's operations work inside, copied before the patch, to compare with after it."""

    def __init__(self, document: Any, operations: list[dict[str, Any]]) -> None:
        common: list[str] = []
        try:
            parents = [
                JsonPointer(str(operation[field])).parts[:-1]
                for operation in operations
                for field in ("path", "from")
                if isinstance(operation.get(field), str)
            ]
            common = list(parents[0]) if parents else []
            for parts in parents[1:]:
                length = 0
                while length < min(len(common), len(parts)) and common[length] == parts[length]:
                    length += 1
                del common[length:]
            self.node = JsonPointer.from_parts(common).resolve(document) if common else document
        except UNRESOLVED:  # a location that does not resolve (applying fails): compare the whole document
            common, self.node = [], document
        self.whole = not common
        self.before = copy.deepcopy(self.node)

    def changed(self, document: Any) -> bool:
        """Whether the patch changed ``document`` (the patched document, a new one when the root was replaced)."""
        return differs(self.before, document if self.whole else self.node)


class PatchRun:
    """One patch applied operation by operation (``apply``), and then whether it changed the document (``changed``):
    judged by the operations when they are ``independent``, else by a ``Snapshot``."""

    def __init__(self, document: Any, operations: list[dict[str, Any]]) -> None:
        self.snapshot = None if independent(document, operations) else Snapshot(document, operations)
        self.changes = False

    def apply(self, document: Any, operation: dict[str, Any]) -> Any:
        """``apply_operation``, judged first: the result, raising as it does."""
        if self.snapshot is None and not self.changes:
            self.changes = lone_change(document, operation) is not False  # None: it does not apply, and raises
        return apply_operation(document, operation)

    def changed(self, document: Any) -> bool:
        """Whether the patch, now applied, changed the document (``document``: the result of the last ``apply``)."""
        return self.snapshot.changed(document) if self.snapshot is not None else self.changes


def apply_operation(document: Any, operation: dict[str, Any]) -> Any:
    """``document`` with ``operation`` applied in place; the result (a new value when the operation replaces the root).
    Raises ``jsonpatch.JsonPatchException`` or ``jsonpointer.JsonPointerException`` when it cannot apply."""
    import jsonpatch

    return jsonpatch.apply_patch(document, [operation], in_place=True)
