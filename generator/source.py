"""Environment-file YAML as a tree in which every value remembers the file, line and column it came from.

ruamel.yaml's round-trip loader gives each key and value its position. The tree is turned
into ``SourceNode``s right away, so that after ``extends:`` merging an inherited value still
points at the base file it was written in.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from generator.errors import Location, UserError

Scalar = str | int | float | bool | None
# Spec files are small; anything larger is a mistake or an attack on the parser.
MAX_FILE_BYTES = 1_000_000
MAX_NODES = 100_000
MAX_DEPTH = 64


@dataclass
class SourceNode:
    """A YAML value with its position: a mapping, a sequence, or a scalar."""

    value: dict[str, SourceNode] | list[SourceNode] | Scalar
    location: Location
    key_location: Location | None = None
    """For a mapping entry: where its key stands (the place to point at for an unknown field)."""

    @property
    def is_mapping(self) -> bool:
        return isinstance(self.value, dict)

    @property
    def is_sequence(self) -> bool:
        return isinstance(self.value, list)

    def mapping(self) -> dict[str, SourceNode]:
        assert isinstance(self.value, dict)
        return self.value

    def sequence(self) -> list[SourceNode]:
        assert isinstance(self.value, list)
        return self.value

    def plain(self) -> Any:
        """The value without positions, as plain dicts, lists and scalars."""
        if isinstance(self.value, dict):
            return {key: child.plain() for key, child in self.value.items()}
        if isinstance(self.value, list):
            return [child.plain() for child in self.value]
        return self.value


def read_text(path: Path, shown: str) -> str:
    """Read a spec file as UTF-8, refusing binary, oversized or undecodable content."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise UserError("file not found", Location(shown, 1, 1)) from None
    except IsADirectoryError:
        raise UserError("is a directory, not a YAML file", Location(shown, 1, 1)) from None
    except OSError as error:
        raise UserError(f"cannot read file: {error.strerror}", Location(shown, 1, 1)) from None
    if len(raw) > MAX_FILE_BYTES:
        raise UserError(
            f"file is {len(raw):,} bytes; environment files are limited to {MAX_FILE_BYTES:,} bytes "
            "(split it, or move data out of the spec)",
            Location(shown, 1, 1),
        )
    if b"\x00" in raw:
        line, column = _position(raw, raw.index(b"\x00"))
        raise UserError("binary content (a NUL byte): environment files must be UTF-8 text", Location(shown, line, column))
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as error:
        line, column = _position(raw, error.start)
        raise UserError(
            f"byte 0x{raw[error.start]:02x} is not valid UTF-8: save the file as UTF-8",
            Location(shown, line, column),
        ) from None


def _position(raw: bytes, offset: int) -> tuple[int, int]:
    before = raw[:offset]
    line = before.count(b"\n") + 1
    column = offset - (before.rfind(b"\n") + 1) + 1
    return line, column


def parse(text: str, shown: str) -> SourceNode:
    """Parse one YAML document into a SourceNode tree (empty file: an empty mapping)."""
    from ruamel.yaml import YAML
    from ruamel.yaml.error import MarkedYAMLError, YAMLError

    if "\t" in text:
        for number, line in enumerate(text.splitlines(), start=1):
            indent = line[: len(line) - len(line.lstrip(" \t"))]
            if "\t" in indent:
                raise UserError(
                    "a tab in the indentation: YAML indents with spaces only",
                    Location(shown, number, indent.index("\t") + 1),
                )
    loader = YAML(typ="rt")
    try:
        documents = list(loader.load_all(text))
    except MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        where = Location(shown, mark.line + 1, mark.column + 1) if mark else Location(shown, 1, 1)
        problem = (error.problem or error.context or "invalid YAML").strip()
        if "duplicate key" in problem:
            problem = problem.split(" with value")[0] + ": each key may appear once in a mapping"
        raise UserError(f"invalid YAML: {problem}", where) from None
    except RecursionError:
        raise UserError(f"YAML nested deeper than {MAX_DEPTH} levels", Location(shown, 1, 1)) from None
    except YAMLError as error:
        raise UserError(f"invalid YAML: {error}", Location(shown, 1, 1)) from None
    if len(documents) > 1:
        raise UserError("an environment file holds one YAML document; found several ('---')", Location(shown, 1, 1))
    root = documents[0] if documents else None
    if root is None:
        return SourceNode({}, Location(shown, 1, 1))
    budget = _Budget(shown)
    return _convert(root, Location(shown, *_start(root, (0, 0))), None, shown, 0, budget)


@dataclass
class _Budget:
    shown: str
    nodes: int = 0

    def spend(self, where: Location) -> None:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise UserError(
                f"the document expands to more than {MAX_NODES:,} values (an alias bomb?); "
                "write the values out instead of multiplying them with anchors and aliases",
                where,
            )


def _start(value: Any, fallback: tuple[int, int]) -> tuple[int, int]:
    lc = getattr(value, "lc", None)
    if lc is not None and getattr(lc, "line", None) is not None:
        return lc.line + 1, lc.col + 1
    return fallback[0] + 1, fallback[1] + 1


def _check_tag(value: Any, where: Location) -> None:
    tag = getattr(value, "tag", None)
    tag_text = getattr(tag, "value", tag) if tag is not None else None
    if isinstance(tag_text, str) and tag_text and not tag_text.startswith("tag:yaml.org,2002:"):
        raise UserError(f"unsupported YAML tag {tag_text!r}: only plain YAML values are accepted", where)
    if isinstance(tag_text, str) and tag_text.startswith("tag:yaml.org,2002:python/"):
        raise UserError(f"unsupported YAML tag {tag_text!r}: only plain YAML values are accepted", where)


def _convert(value: Any, where: Location, key_where: Location | None, shown: str, depth: int, budget: _Budget) -> SourceNode:
    from ruamel.yaml.comments import CommentedMap, CommentedSeq, TaggedScalar

    budget.spend(where)
    if depth > MAX_DEPTH:
        raise UserError(f"YAML nested deeper than {MAX_DEPTH} levels", where)
    _check_tag(value, where)
    if isinstance(value, TaggedScalar):
        raise UserError(f"unsupported YAML tag {value.tag.value!r}: only plain YAML values are accepted", where)
    if isinstance(value, CommentedMap):
        entries: dict[str, SourceNode] = {}
        for key in value:
            key_at = Location(shown, *_pair(value.lc.key(key)))
            if not isinstance(key, str):
                raise UserError(f"mapping keys must be text; {key!r} is a {type(key).__name__}", key_at)
            value_at = Location(shown, *_pair(value.lc.value(key)))
            child = value[key]
            entries[key] = _convert(child, Location(shown, *_start(child, _zero(value_at))), key_at, shown, depth + 1, budget)
        return SourceNode(entries, where, key_where)
    if isinstance(value, CommentedSeq):
        items = []
        for index, child in enumerate(value):
            item_at = Location(shown, *_pair(value.lc.item(index)))
            items.append(_convert(child, Location(shown, *_start(child, _zero(item_at))), None, shown, depth + 1, budget))
        return SourceNode(items, where, key_where)
    return SourceNode(_scalar(value), where, key_where)


def _pair(position: Sequence[int] | None) -> tuple[int, int]:
    if not position:
        return 1, 1
    return position[0] + 1, position[1] + 1


def _zero(location: Location) -> tuple[int, int]:
    return location.line - 1, location.column - 1


def _scalar(value: Any) -> Scalar:
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat()
    return str(value)


def locate(tree: SourceNode, path: tuple[str | int, ...], *, key: bool = False) -> tuple[Location, str]:
    """The location of ``path`` in ``tree`` (or its nearest existing parent) and a readable field path.

    Segments that are not in the tree (a discriminated union's tag, say) are skipped. Named list
    items are shown by name: ``workloads[resnet-serve].resources.memory``.
    """
    node = tree
    shown = ""
    target = node.location
    for index, segment in enumerate(path):
        last = index == len(path) - 1
        if node.is_mapping and isinstance(segment, str):
            child = node.mapping().get(segment)
            shown = f"{shown}.{segment}" if shown else segment
            if child is None:
                if last:
                    break
                shown = shown.rpartition(".")[0] if "." in shown else ""
                continue
            node = child
            target = child.key_location if (last and key and child.key_location) else child.location
        elif node.is_sequence and isinstance(segment, int):
            items = node.sequence()
            if not 0 <= segment < len(items):
                shown += f"[{segment}]"
                break
            node = items[segment]
            name = node.mapping().get("name") if node.is_mapping else None
            shown += f"[{name.value}]" if name is not None and not (name.is_mapping or name.is_sequence) else f"[{segment}]"
            target = node.location
        else:
            if last:
                shown = f"{shown}.{segment}" if shown else str(segment)
            continue
    return target, shown
