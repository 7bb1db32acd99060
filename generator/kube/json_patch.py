"""JSON patches (RFC 6902) applied in place, with whether the patch changed the object.

`render` applies an environment's patches to the objects it built, and refuses a patch that changes nothing.
Asking that by copying the object before each patch and comparing it after cost time in the object's size per
patch: 4,000 one-operation patches adding env variables to one Job took 12 s, quadratic. Here the object is
patched in place (``jsonpatch``'s ``in_place``), and whether it changed is answered from what the operations do
(RFC 6902 section 4, https://www.rfc-editor.org/rfc/rfc6902#section-4):

- a patch of one ``add``, ``replace``, ``remove``, ``copy`` or ``test`` is judged by the operation alone: ``test``
  changes nothing, ``remove`` always does (its target goes), ``add`` or ``copy`` into an array inserts (a change),
  and into an object, or ``replace``, changes the document exactly when the value written differs from the one there;
- any other patch (a ``move``, several operations, which may undo each other) is judged by comparing, before and
  after, the one node every operation works inside: the deepest container holding the parents of all their
  ``path`` and ``from`` locations. No operation replaces that node or anything above it, so it is the same object
  after the patch, and the object changed exactly when that node did.

Both answer what comparing the whole object would (``tests/kube/test_json_patch.py`` holds them to it), at a cost
of the values an operation writes, or of that one node once per patch.
"""

from __future__ import annotations

import copy
from typing import Any

from jsonpointer import JsonPointer, JsonPointerException

# What resolving a pointer raises for a location the document does not have (or a malformed pointer).
UNRESOLVED = (JsonPointerException, KeyError, IndexError, TypeError)


def lone_change(document: Any, operation: dict[str, Any]) -> bool | None:
    """Whether ``operation``, the only one of its patch, will change ``document``; None when the operation alone does
    not tell (``move``, an unknown op) or its locations do not resolve (applying it then fails with the reason)."""
    op = operation.get("op")
    if op == "test":
        return False
    if op == "remove":
        return True
    if op not in ("add", "replace", "copy"):
        return None
    try:
        value = JsonPointer(operation["from"]).resolve(document) if op == "copy" else operation["value"]
        parent, part = JsonPointer(operation["path"]).to_last(document)
    except UNRESOLVED:  # reported by applying the operation
        return None
    if part is None:  # the whole document
        return bool(document != value)
    if isinstance(parent, list):
        if op != "replace":
            return True  # an insertion
        return bool(parent[part] != value) if isinstance(part, int) and 0 <= part < len(parent) else None
    if isinstance(parent, dict):
        if part not in parent:
            return None if op == "replace" else True
        return bool(parent[part] != value)
    return None


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
        return bool((document if self.whole else self.node) != self.before)


def apply_operation(document: Any, operation: dict[str, Any]) -> Any:
    """``document`` with ``operation`` applied in place; the result (a new value when the operation replaces the root).
    Raises ``jsonpatch.JsonPatchException`` or ``jsonpointer.JsonPointerException`` when it cannot apply."""
    import jsonpatch

    return jsonpatch.apply_patch(document, [operation], in_place=True)
