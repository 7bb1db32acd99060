"""Environment-file YAML as a tree in which every value remembers the file, line and column it came from.

libyaml's composer gives each key and value its position (as a round-trip parser would, at a
fraction of the cost). The tree is turned into ``SourceNode``s right away, so that after
``extends:`` merging an inherited value still points at the base file it was written in.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlgitops.errors import Location, UserError
from mlgitops.yaml.text import ENVIRONMENT_FILE_BYTES, decode, read_capped

Scalar = str | int | float | bool | None
# Spec files are small; anything larger is a mistake or an attack on the parser.
MAX_FILE_BYTES = ENVIRONMENT_FILE_BYTES
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

    @classmethod
    def from_plain(cls, value: Any, location: Location) -> SourceNode:
        """A tree of plain values, every node at ``location`` (for merging trees that were never files)."""
        if isinstance(value, dict):
            return cls({str(key): cls.from_plain(child, location) for key, child in value.items()}, location)
        if isinstance(value, list):
            return cls([cls.from_plain(child, location) for child in value], location)
        return cls(value, location)

    def plain(self) -> Any:
        """The value without positions, as plain dicts, lists and scalars."""
        if isinstance(self.value, dict):
            return {key: child.plain() for key, child in self.value.items()}
        if isinstance(self.value, list):
            return [child.plain() for child in self.value]
        return self.value


def read_text(path: Path, shown: str) -> str:
    """Read a spec file as UTF-8, refusing binary, oversized or undecodable content (bounded memory)."""
    try:
        raw, size = read_capped(path, MAX_FILE_BYTES)
    except FileNotFoundError:
        raise UserError("file not found", Location(shown, 1, 1)) from None
    except IsADirectoryError:
        raise UserError("is a directory, not a YAML file", Location(shown, 1, 1)) from None
    except OSError as error:
        raise UserError(f"cannot read file: {error.strerror}", Location(shown, 1, 1)) from None
    if len(raw) > MAX_FILE_BYTES:
        raise UserError(
            f"file is {size:,} bytes; environment files are limited to {MAX_FILE_BYTES:,} bytes "
            "(split it, or move data out of the spec)",
            Location(shown, 1, 1),
        )
    return decode(raw, shown, "environment files must be UTF-8 text", ": save the file as UTF-8")


def parse(text: str, shown: str) -> SourceNode:
    """Parse one YAML document into a SourceNode tree (empty file: an empty mapping).

    libyaml composes the document (every key and value keeps its line and column) and only
    YAML's safe tags are constructed; that is ~15x faster than a round-trip parse, which
    matters for fleets whose base file lists hundreds of workloads.
    """
    from mlgitops.yaml.reader import iter_documents

    if "\t" in text:
        for number, line in enumerate(text.splitlines(), start=1):
            indent = line[: len(line) - len(line.lstrip(" \t"))]
            if "\t" in indent:
                raise UserError(
                    "a tab in the indentation: YAML indents with spaces only",
                    Location(shown, number, indent.index("\t") + 1),
                )
    documents = list(iter_documents(text, shown))
    if len(documents) > 1:
        raise UserError("an environment file holds one YAML document; found several ('---')", Location(shown, 1, 1))
    if not documents or documents[0][2] is None:
        return SourceNode({}, Location(shown, 1, 1))
    _, node, value = documents[0]
    return _from_node(node, value, None, shown, 0, _Budget(shown))


def _from_node(node: Any, value: Any, key_where: Location | None, shown: str, depth: int, budget: _Budget) -> SourceNode:
    import yaml

    where = Location(shown, node.start_mark.line + 1, node.start_mark.column + 1)
    budget.spend(where)
    if depth > MAX_DEPTH:
        raise UserError(f"YAML nested deeper than {MAX_DEPTH} levels", where)
    if node.tag in _UNSUPPORTED_TAGS:
        # Safe to construct, but they would reach the spec as Python reprs ("b'...'", "{'x'}")
        # and end up in labels or image names.
        raise UserError(
            f"the YAML tag !!{node.tag.rpartition(':')[2]} is not supported in environment files; "
            "write plain text, lists and mappings",
            where,
        )
    if isinstance(node, yaml.MappingNode) and isinstance(value, dict):
        entries: dict[str, SourceNode] = {}
        for key_node, value_node in node.value:
            key_at = Location(shown, key_node.start_mark.line + 1, key_node.start_mark.column + 1)
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag != "tag:yaml.org,2002:str":
                raise UserError(f"mapping keys must be text; {key_node.value!r} is not", key_at)
            entries[key_node.value] = _from_node(value_node, value[key_node.value], key_at, shown, depth + 1, budget)
        return SourceNode(entries, where, key_where)
    if isinstance(node, yaml.SequenceNode) and isinstance(value, list):
        items = [_from_node(child, item, None, shown, depth + 1, budget) for child, item in zip(node.value, value, strict=True)]
        return SourceNode(items, where, key_where)
    if node.tag == _TIMESTAMP:
        # An unquoted `2024-01-01 10:00:00` is a timestamp to YAML; Python would render it back as
        # '2024-01-01T10:00:00'. Keep exactly what the user wrote (env values, args are text).
        return SourceNode(str(node.value), where, key_where)
    return SourceNode(_scalar(value), where, key_where)


_TIMESTAMP = "tag:yaml.org,2002:timestamp"
_UNSUPPORTED_TAGS = frozenset(f"tag:yaml.org,2002:{name}" for name in ("binary", "set", "omap", "pairs"))


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


def _label(value: object) -> str:
    """A list item's name as a field path shows it; quoted when it is empty or holds spaces, brackets, quotes or controls."""
    text = str(value)
    plain = text.isprintable() and not any(ch.isspace() or ch in "[]'\"" for ch in text)
    return text if text and plain else repr(text)


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
            shown += (
                f"[{_label(name.value)}]" if name is not None and not (name.is_mapping or name.is_sequence) else f"[{segment}]"
            )
            target = node.location
        else:
            if last:
                shown = f"{shown}.{segment}" if shown else str(segment)
            continue
    return target, shown
