"""The indentation a YAML file uses for nested block collections, read from libyaml's node positions.

ruamel.yaml writes one indentation per file: nested mappings, sequences under a key (where
their items start) and the dash's offset. A file shows its own in its nesting; a file with
none (`extends: base.yaml` and a namespace) takes its base file's, so that an override added to
it looks like the base it overrides. Reading positions with libyaml is quick, and a file that
does not parse simply shows nothing.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Indentation:
    """ruamel.yaml's indentation settings: nested mappings, sequence items, and the dash's offset."""

    mapping: int = 2
    sequence: int = 4
    offset: int = 2


DEFAULT_INDENTATION = Indentation()
"""The example fleet's and `init`'s style: two spaces, sequences indented under their key."""


@dataclass(frozen=True)
class Observed:
    """The most common indentation of a file's nested mappings and of its sequences, where it has any."""

    mapping: int | None = None
    sequence: tuple[int, int] | None = None
    """(where items start, where the dash stands), both relative to the key."""


def observe(text: str) -> Observed:
    """What ``text`` shows of its indentation (nothing, for text that is not YAML)."""
    import yaml

    from mlgitops.yaml.reader import compose_all

    try:
        documents = compose_all(text)
    except yaml.YAMLError:
        return Observed()
    mappings: Counter[int] = Counter()
    sequences: Counter[tuple[int, int]] = Counter()
    seen: set[int] = set()
    for document in documents[:1]:
        _walk(document, mappings, sequences, seen)
    return Observed(
        mappings.most_common(1)[0][0] if mappings else None,
        sequences.most_common(1)[0][0] if sequences else None,
    )


def _column(node: Any) -> int:
    """Where a node's content starts: a block mapping's first key (its own mark may be an anchor's)."""
    import yaml

    if isinstance(node, yaml.MappingNode) and node.value and not node.flow_style:
        return int(node.value[0][0].start_mark.column)
    return int(node.start_mark.column)


def _walk(node: Any, mappings: Counter[int], sequences: Counter[tuple[int, int]], seen: set[int]) -> None:
    import yaml

    if id(node) in seen:  # an alias: its positions are those of the anchored node
        return
    seen.add(id(node))
    if isinstance(node, yaml.MappingNode) and not node.flow_style:
        for key, value in node.value:
            column = key.start_mark.column
            if id(value) not in seen and value.value and isinstance(value, yaml.CollectionNode) and not value.flow_style:
                if isinstance(value, yaml.MappingNode):
                    mappings[_column(value) - column] += 1
                else:
                    sequences[(_column(value.value[0]) - column, value.start_mark.column - column)] += 1
            _walk(value, mappings, sequences, seen)
    elif isinstance(node, yaml.SequenceNode) and not node.flow_style:
        for item in node.value:
            _walk(item, mappings, sequences, seen)


def indentation(own: Observed, base: Callable[[], Observed]) -> Indentation:
    """The file's own indentation, completed from its base file's (read only when needed), else the default."""
    mapping, sequence = own.mapping, own.sequence
    if mapping is None or sequence is None:
        inherited = base()
        if mapping is None:
            mapping = inherited.mapping
        if sequence is None:
            sequence = inherited.sequence
            if sequence is None and mapping is not None:
                sequence = (mapping + 2, mapping)
    mapping = mapping if mapping is not None else DEFAULT_INDENTATION.mapping
    sequence = sequence or (DEFAULT_INDENTATION.sequence, DEFAULT_INDENTATION.offset)
    return Indentation(mapping, sequence[0], sequence[1])


__all__ = ["DEFAULT_INDENTATION", "Indentation", "Observed", "indentation", "observe"]
