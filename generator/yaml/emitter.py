"""Block-style YAML text for plain objects, byte for byte what libyaml's emitter writes for them.

``yaml.dump`` with PyYAML's C dumper spends most of its time in Python before libyaml sees
anything: the representer builds a node per value, the serializer resolves every scalar's tag
with regular expressions and turns nodes into events. Rendered manifests are dicts, lists,
text, integers and booleans in block style, and repeat the same keys and values thousands of
times, so this module writes them directly, remembering each distinct scalar's written form.

No YAML library writes exactly the bytes `rendered/` already holds (yaml-rs and rapidyaml
indent sequences and quote differently), and changed bytes would rewrite every user's
rendered tree once; hence this small emitter, which reproduces libyaml 0.2.5's choices
(emitter.c: ``yaml_emitter_analyze_scalar``, ``yaml_emitter_select_scalar_style``,
``yaml_emitter_check_simple_key``) for printable ASCII text on one line. Every other scalar
(non-ASCII, line breaks, tabs, floats) is written by libyaml itself, once per distinct value,
and a value whose written form would span lines, any type outside plain data, keys over 128
characters and nesting over ``MAX_DEPTH`` raise :class:`Unsupported`: the caller then dumps the
whole object with PyYAML, so the bytes never depend on which path wrote them.
"""

from __future__ import annotations

from typing import Any

import yaml
from yaml.nodes import ScalarNode

from mlgitops.yaml.ambiguity import go_reading

MAX_DEPTH = 100
MAX_SIMPLE_KEY = 128
"""libyaml writes a longer key as an explicit `? key` entry (yaml_emitter_check_simple_key)."""
MAX_TOKEN = 1000
"""Longer scalars could reach libyaml's line width (4096) and be folded: left to libyaml."""

_STR = "tag:yaml.org,2002:str"
_RESOLVER = yaml.resolver.Resolver()
_INDICATORS = frozenset("#,[]{}&*!|>'\"%@`")
_PRINTABLE_ASCII = frozenset(chr(code) for code in range(0x20, 0x7F))
_CACHE_LIMIT = 200_000


class Unsupported(Exception):
    """The object holds something this emitter does not reproduce; dump it with PyYAML instead."""


def _plain_is_text(value: str) -> bool:
    """Whether ``value`` written plain reads back as text (PyYAML's serializer: ``implicit[0]``)."""
    return bool(_RESOLVER.resolve(ScalarNode, value, (True, False)) == _STR)  # type: ignore[no-untyped-call]


def _block_plain_allowed(value: str) -> bool:
    """libyaml's ``block_plain_allowed`` for printable ASCII on one line."""
    if not value or value[0] == " " or value[-1] == " " or value.startswith(("---", "...")):
        return False
    first = value[0]
    if first in _INDICATORS or (first in "?:-" and (len(value) == 1 or value[1] == " ")):
        return False
    return not (": " in value or value.endswith(":") or " #" in value)


def _single_quoted(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _ascii_scalar(value: str, key: bool) -> str:
    if go_reading(value) is not None:  # the writer's rule: text to us, a number or boolean to Go readers
        return _single_quoted(value)
    if value and _block_plain_allowed(value) and _plain_is_text(value):
        return value
    return _single_quoted(value)


def _written_by_libyaml(value: Any, key: bool, dumper: type) -> str:
    """How libyaml writes ``value`` as a block mapping key or a block sequence item (one line only)."""
    document = {value: None} if key else [value]
    text: str = yaml.dump(document, Dumper=dumper, default_flow_style=False, allow_unicode=True, width=4096, indent=2)
    body = text[: -len(": null\n")] if key else text[2:-1]
    if not text.endswith("\n") or "\n" in body or (key and not text.endswith(": null\n")) or text.startswith("? "):
        raise Unsupported(f"{value!r} is written on several lines")
    return body


class BlockEmitter:
    """Writes dicts, lists, text, integers, booleans and None in libyaml's block style (indent 2)."""

    def __init__(self, dumper: type) -> None:
        self._dumper = dumper
        self._values: dict[str, str] = {}
        self._keys: dict[str, str] = {}

    def _text(self, value: str, key: bool) -> str:
        cache = self._keys if key else self._values
        token = cache.get(value)
        if token is None:
            if len(value) > (MAX_SIMPLE_KEY if key else MAX_TOKEN):
                raise Unsupported("long scalar")
            if _PRINTABLE_ASCII.issuperset(value):
                token = _ascii_scalar(value, key)
            else:
                token = _written_by_libyaml(value, key, self._dumper)
            if len(cache) < _CACHE_LIMIT:
                cache[value] = token
        return token

    def _scalar(self, value: Any, key: bool) -> str:
        kind = type(value)
        if kind is str:
            return self._text(value, key)
        if kind is bool:
            return "true" if value else "false"
        if kind is int:
            return str(value)
        if value is None:
            return "null"
        if kind is float:
            return _written_by_libyaml(value, key, self._dumper)
        raise Unsupported(f"cannot write {kind.__name__}")

    def document(self, value: Any) -> str:
        """One document's text (no `---`), as ``yaml.dump(value, default_flow_style=False, indent=2)`` writes it."""
        lines: list[str] = []
        if type(value) is dict and value:
            self._mapping(value, 0, "", lines)
        elif type(value) is list and value:
            self._sequence(value, 0, "", lines)
        else:
            raise Unsupported("only non-empty mappings and sequences are written here")
        lines.append("")
        return "\n".join(lines)

    def _mapping(self, mapping: dict[Any, Any], depth: int, prefix: str, lines: list[str]) -> None:
        """Entries of ``mapping``; the first line starts with ``prefix`` (a sequence's "- "), the rest with spaces."""
        if depth > MAX_DEPTH:
            raise Unsupported("nested too deep")
        pad = " " * len(prefix)
        lead = prefix
        keys, values, append = self._keys, self._values, lines.append
        # The cache lookups are inlined: this loop runs once per mapping entry of the whole fleet.
        for key, value in mapping.items():
            token = keys.get(key) if key.__class__ is str else None
            if token is None:
                token = self._scalar(key, True)
            kind = value.__class__
            if kind is str:
                text = values.get(value)
                append(f"{lead}{token}: {self._text(value, False) if text is None else text}")
            elif kind is dict:
                if value:
                    append(f"{lead}{token}:")
                    self._mapping(value, depth + 1, pad + "  ", lines)
                else:
                    append(f"{lead}{token}: {{}}")
            elif kind is list:
                if value:
                    append(f"{lead}{token}:")
                    self._sequence(value, depth + 1, pad, lines)
                else:
                    append(f"{lead}{token}: []")
            else:
                append(f"{lead}{token}: {self._scalar(value, False)}")
            lead = pad

    def _sequence(self, items: list[Any], depth: int, prefix: str, lines: list[str]) -> None:
        """Items of ``items`` at the indentation of ``prefix`` (a mapping's sequences are not indented)."""
        if depth > MAX_DEPTH:
            raise Unsupported("nested too deep")
        pad = " " * len(prefix)
        lead = prefix
        for item in items:
            kind = item.__class__
            if kind is dict:
                if item:
                    self._mapping(item, depth + 1, lead + "- ", lines)
                else:
                    lines.append(f"{lead}- {{}}")
            elif kind is list:
                if item:
                    self._sequence(item, depth + 1, lead + "- ", lines)
                else:
                    lines.append(f"{lead}- []")
            else:
                lines.append(f"{lead}- {self._scalar(item, False)}")
            lead = pad


__all__ = ["MAX_DEPTH", "BlockEmitter", "Unsupported"]
