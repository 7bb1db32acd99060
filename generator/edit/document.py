"""Set and remove values in a round-trip tree, keeping comments, blank lines, quoting and anchors where they belong.

ruamel.yaml attaches the comment lines and blank lines *after* a value to that value (to the
last scalar of a block collection), so a key inserted after it would land below the next
section's comment. Every insertion and removal therefore moves that trailing text along: the
value keeps its end-of-line comment, and what followed it stays in front of whatever now
comes next. A value shared through a YAML anchor is never changed in place (that would change
every use): the edit is refused at its line, except an alias (`*name`), which is replaced by
the new value alone.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

from mlgitops.edit.roundtrip import RoundTrip
from mlgitops.edit.trailing import blank_line_separated, give, lead, open_gap, own_keys, take_rest
from mlgitops.errors import Location, UserError
from mlgitops.spec.paths import MISSING, FieldPath, Item, show

KeyOrder = Callable[[FieldPath], list[str]]
"""The keys of the mapping at a path, in the order the spec models declare them."""


def _classes() -> Any:
    from ruamel.yaml import comments, scalarstring

    return comments, scalarstring


class Document:
    """One environment file being edited; ``text()`` is the file as it will be written."""

    def __init__(self, roundtrip: RoundTrip, order: KeyOrder) -> None:
        self.roundtrip = roundtrip
        self.shown = roundtrip.shown
        self._order = order
        self._uses: Counter[int] = Counter()
        self._first: dict[int, tuple[int, Any]] = {}
        self._counted: list[Any] = []
        """The nodes counted, kept alive so that no new node of an edit can take an id counted here."""
        self._quotes: Counter[str] = Counter()
        self._pending: list[tuple[Any, Any, str]] = []
        """Trailing text taken for a collection created by the current edit, given to it once it is filled."""
        self._count(roundtrip.data)

    def text(self) -> str:
        return self.roundtrip.dump()

    # --- reading the tree -------------------------------------------------------------------

    def _count(self, node: Any, parent: Any = None, key: Any = None) -> None:
        """Occurrences of every collection and anchored scalar (an alias is a second occurrence)."""
        comments, scalarstring = _classes()
        anchored = getattr(getattr(node, "anchor", None), "value", None)
        if isinstance(node, (comments.CommentedMap, comments.CommentedSeq)) or anchored:
            self._uses[id(node)] += 1
            self._first.setdefault(id(node), (id(parent), key))
            self._counted.append(node)
            if self._uses[id(node)] > 1:
                return
        if isinstance(node, scalarstring.DoubleQuotedScalarString):
            self._quotes['"'] += 1
        elif isinstance(node, scalarstring.SingleQuotedScalarString):
            self._quotes["'"] += 1
        if isinstance(node, comments.CommentedMap):
            for source in getattr(node, "merge", None) or ():
                # `<<: *name` shares the named mapping with this one.
                self._count(source[1] if isinstance(source, tuple) else source, node, "<<")
            for child_key, child in node.non_merged_items():
                self._count(child, node, child_key)
        elif isinstance(node, comments.CommentedSeq):
            for index, child in enumerate(node):
                self._count(child, node, index)

    def _where(self, node: Any, key: Any) -> Location:
        comments, _ = _classes()
        try:
            line, column = node.lc.key(key) if isinstance(node, comments.CommentedMap) else node.lc.item(key)
        except (AttributeError, KeyError, IndexError, TypeError):
            return Location(self.shown, 1, 1)
        return Location(self.shown, line + 1, column + 1)

    def _shared(self, value: Any, parent: Any, key: Any, path: FieldPath, *, alias_ok: bool = False) -> None:
        """Refuse to change ``value`` in place when a YAML anchor shares it with another place."""
        if self._uses[id(value)] < 2:
            return
        if alias_ok and self._first.get(id(value)) != (id(parent), key):
            return  # an alias (`*name`): replacing it changes this place only
        anchor = getattr(getattr(value, "anchor", None), "value", None)
        through = f"the YAML anchor &{anchor}" if anchor else "a YAML merge key (<<)"
        raise UserError(
            f"{show(path)} is shared through {through} with other places in this file: changing it here would change "
            "every use; write this one out in full, then run the command again",
            self._where(parent, key),
        )

    def _index(self, sequence: Any, name: str) -> int | None:
        comments, _ = _classes()
        for index, item in enumerate(sequence):
            if isinstance(item, comments.CommentedMap) and "name" in item and str(item["name"]) == name:
                return index
        return None

    # --- edits ---------------------------------------------------------------------------------

    def set(self, path: FieldPath, value: Any) -> None:
        """Make ``path`` hold ``value``, creating the mappings and named items on the way."""
        comments, _ = _classes()
        parent = self._descend(path[:-1], create=True)
        key = path[-1]
        if isinstance(key, Item) or not isinstance(parent, comments.CommentedMap):
            raise UserError(f"{show(path)}: cannot set a list item as a value", Location(self.shown, 1, 1))
        flow = bool(parent.fa.flow_style())
        if key in own_keys(parent):
            self._replace(parent, key, value, path)
        else:
            self._insert(parent, key, self._node(value, MISSING, flow), path[:-1])
        while self._pending:
            container, place, rest = self._pending.pop()
            give(container, place, rest)

    def remove(self, path: FieldPath) -> None:
        """Remove the value at ``path``, and the mappings and named items that removal leaves empty."""
        trail = self._trail(path)
        if trail is None:
            return
        rest = ""
        while trail:
            container, key, at = trail.pop()
            keys = own_keys(container) if hasattr(container, "non_merged_items") else list(range(len(container)))
            position = keys.index(key)
            self._shared(container[key], container, key, at, alias_ok=True)
            rest = take_rest(container, key) + rest
            del container[key]
            if trail and self._emptied(container, trail[-1][1]):
                continue
            if position > 0:
                give(container, keys[position - 1], rest)
            else:
                lead(container, rest)
            return
        if rest:
            lead(self.roundtrip.data, rest)

    def _trail(self, path: FieldPath) -> list[tuple[Any, Any, FieldPath]] | None:
        """(collection, key or index, path) from the top down to the value at ``path``; None if it is absent."""
        comments, _ = _classes()
        trail: list[tuple[Any, Any, FieldPath]] = []
        node = self.roundtrip.data
        for depth, segment in enumerate(path):
            at = path[: depth + 1]
            if isinstance(segment, Item):
                index = self._index(node, segment.name) if isinstance(node, comments.CommentedSeq) else None
                if index is None:
                    return None
                trail.append((node, index, at))
                node = node[index]
            elif isinstance(node, comments.CommentedMap) and segment in node:
                if segment not in own_keys(node):
                    raise self._merged(node, segment, at)
                trail.append((node, segment, at))
                node = node[segment]
            else:
                return None
        return trail

    @staticmethod
    def _emptied(container: Any, key: Any) -> bool:
        """Whether a removal left ``container`` with nothing worth keeping (``key``: its place in its parent)."""
        if hasattr(container, "non_merged_items"):
            own = [k for k, _ in container.non_merged_items()]
            return not own or (isinstance(key, int) and own == ["name"])
        return not container

    def _merged(self, node: Any, key: str, path: FieldPath) -> UserError:
        return UserError(
            f"{show(path)} comes from a YAML merge key (<<) here: write it out in this mapping, then run the command again",
            Location(self.shown, node.lc.line + 1, node.lc.col + 1),
        )

    def _descend(self, path: FieldPath, *, create: bool) -> Any:
        comments, _ = _classes()
        node = self.roundtrip.data
        for depth, segment in enumerate(path):
            at = path[: depth + 1]
            following = path[depth + 1] if depth + 1 < len(path) else None
            if isinstance(segment, Item):
                if not isinstance(node, comments.CommentedSeq):
                    raise UserError(f"{show(at[:-1])} is not a list of named items here", Location(self.shown, 1, 1))
                index = self._index(node, segment.name)
                if index is None:
                    if not create:
                        return None
                    item = comments.CommentedMap()
                    item["name"] = self._node(segment.name, MISSING, False)
                    self._append(node, item)
                    node = item
                else:
                    child = node[index]
                    self._shared(child, node, index, at)
                    node = child
                continue
            if not isinstance(node, comments.CommentedMap):
                raise UserError(f"{show(at[:-1])} is not a mapping here", Location(self.shown, 1, 1))
            if segment in own_keys(node):
                child = node[segment]
                if child is None:
                    child = self._container(following, bool(node.fa.flow_style()))
                    self._replace(node, segment, child, at)
                elif isinstance(child, comments.CommentedSeq) and not child and create:
                    # `workloads: []` about to get its first item: a block list, like the rest of the file.
                    if not node.fa.flow_style():
                        self._pending.append((node, segment, take_rest(node, segment)))
                        child.fa.set_block_style()
                elif isinstance(child, (comments.CommentedMap, comments.CommentedSeq)):
                    self._shared(child, node, segment, at)
                node = child
            elif segment in node:
                raise self._merged(node, segment, at)
            elif not create:
                return None
            else:
                child = self._container(following, bool(node.fa.flow_style()))
                self._insert(node, segment, child, path[:depth])
                node = child
        return node

    def _container(self, following: Any, flow: bool) -> Any:
        comments, _ = _classes()
        container = comments.CommentedSeq() if isinstance(following, Item) else comments.CommentedMap()
        if flow:
            container.fa.set_flow_style()
        return container

    def _insert(self, mapping: Any, key: str, value: Any, path: FieldPath) -> None:
        """Add ``key`` where the spec models order it (at the end of the file's top level), moving trailing text along."""
        own = own_keys(mapping)
        if path and own:
            order = self._order(path)
            rank = {name: index for index, name in enumerate(order)}
            after = [index for index, name in enumerate(own) if rank.get(name, len(order)) <= rank.get(key, len(order))]
            position = after[-1] + 1 if after else 0
        else:
            position = len(own)
        # ruamel.yaml counts a `<<` merge key among the positions it inserts at.
        merge_position = getattr(getattr(mapping, "merge", None), "merge_pos", -1)
        at = position + 1 if 0 <= merge_position <= position else position
        if mapping.fa.flow_style():
            mapping.insert(at, key, value)
            return
        separated = position == len(own) and blank_line_separated(mapping, own)
        rest = take_rest(mapping, own[position - 1]) if position else ""
        mapping.insert(at, key, value)
        if separated:
            open_gap(mapping, own[position - 1])
        self._give_when_filled(mapping, key, rest)

    def _append(self, sequence: Any, item: Any) -> None:
        count = len(sequence)
        if sequence.fa.flow_style():
            sequence.append(item)
            return
        separated = blank_line_separated(sequence, list(range(count)))
        rest = take_rest(sequence, count - 1) if count else ""
        sequence.append(item)
        if separated:
            open_gap(sequence, count - 1)
        self._give_when_filled(sequence, count, rest)

    def _give_when_filled(self, container: Any, key: Any, rest: str) -> None:
        """Trailing text for a new value; a collection this edit is still filling gets it at the end of the edit."""
        comments, _ = _classes()
        if isinstance(container[key], (comments.CommentedMap, comments.CommentedSeq)):
            self._pending.append((container, key, rest))
        else:
            give(container, key, rest)

    def _replace(self, mapping: Any, key: str, value: Any, path: FieldPath) -> None:
        comments, _ = _classes()
        old = mapping[key]
        collection = isinstance(old, (comments.CommentedMap, comments.CommentedSeq))
        self._shared(old, mapping, key, path, alias_ok=not collection)
        alias = self._uses[id(old)] > 1
        new = self._node(value, MISSING if alias else old, bool(mapping.fa.flow_style()))
        rest = take_rest(mapping, key) if collection and old and not old.fa.flow_style() else ""
        if alias:
            # ruamel.yaml hands an alias the comment of its anchor's line; it is not this line's.
            entry = mapping.ca.items.get(key)
            mark = getattr(entry[2], "start_mark", None) if entry and len(entry) > 2 and entry[2] is not None else None
            if mark is not None and mark.line != mapping.lc.key(key)[0]:
                entry[2] = None
        else:
            self._keep_anchor(old, new)
        mapping[key] = new
        give(mapping, key, rest)

    def _keep_anchor(self, old: Any, new: Any) -> None:
        anchor = getattr(getattr(old, "anchor", None), "value", None)
        if anchor and hasattr(new, "yaml_set_anchor"):
            new.yaml_set_anchor(anchor, always_dump=True)

    def _node(self, value: Any, old: Any, flow: bool) -> Any:
        """``value`` as a round-trip node, in the style of the value it replaces (or of its surroundings)."""
        comments, _ = _classes()
        if isinstance(value, (comments.CommentedMap, comments.CommentedSeq)):
            return value
        if isinstance(value, dict):
            mapping = comments.CommentedMap()
            for key, child in value.items():
                mapping[key] = self._node(child, MISSING, flow)
            if flow:
                mapping.fa.set_flow_style()
            return mapping
        if isinstance(value, list):
            sequence = comments.CommentedSeq(self._node(item, MISSING, True) for item in value)
            block = isinstance(old, comments.CommentedSeq) and not old.fa.flow_style()
            if flow or (not block and all(not isinstance(item, (dict, list)) for item in value)):
                sequence.fa.set_flow_style()
            return sequence
        if isinstance(value, str):
            return self._text(value, old)
        return value

    def _text(self, value: str, old: Any) -> Any:
        _, scalarstring = _classes()
        if isinstance(old, (scalarstring.DoubleQuotedScalarString, scalarstring.SingleQuotedScalarString)):
            return type(old)(value)
        if isinstance(old, (scalarstring.LiteralScalarString, scalarstring.FoldedScalarString)) and "\n" in value:
            return type(old)(value)
        if read_as_other_than_text(value):
            single = self._quotes["'"] > self._quotes['"']
            return scalarstring.SingleQuotedScalarString(value) if single else scalarstring.DoubleQuotedScalarString(value)
        return scalarstring.PlainScalarString(value)


def read_as_other_than_text(text: str) -> bool:
    """Whether ``text`` written plain would be read as something else: by PyYAML (YAML 1.1, which
    mlgitops loads with) or by Go's YAML readers (kubectl, kustomize, Argo CD, Flux)."""
    import yaml

    from mlgitops.yaml.ambiguity import go_reading

    tag = yaml.resolver.Resolver().resolve(yaml.ScalarNode, text, (True, False))  # type: ignore[no-untyped-call]
    return tag != "tag:yaml.org,2002:str" or go_reading(text) is not None
