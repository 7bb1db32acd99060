"""JSON Schema as reference Markdown: a field table per object, each field's type written out in words.

The schema is pydantic's (``Model.model_json_schema(by_alias=True)``, as ``load/editor_schema.py`` builds it for
environment files): objects under ``$defs``, ``$ref`` links between them, ``anyOf`` with ``{"type": "null"}`` for
an optional field, ``default``, ``description`` (the model's docstrings and ``Field(description=…)``), and the
JSON Schema 2020-12 validation keywords (``enum``, ``const``, ``pattern``, ``minimum``, ``maxLength``…).
Descriptions are made inert (``output/inert.py``): their ```code``` spans stay code, nothing else acts. Tables are
Python-Markdown's (MkDocs'): a ``|`` inside a code span stays in its cell, so code spans are not escaped for tables
(GitHub's tables would need a backslash before it); ``|`` in prose is escaped.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from mlgitops.output import inert

Link = Callable[[str], str]
"""The URL (relative to the page) of the documentation of one ``$defs`` name."""

_BOUNDS = (
    ("minimum", "≥"),
    ("exclusiveMinimum", ">"),
    ("maximum", "≤"),
    ("exclusiveMaximum", "<"),
)
_SIZES = (
    ("minLength", "at least {} characters"),
    ("maxLength", "at most {} characters"),
    ("minItems", "at least {} items"),
    ("maxItems", "at most {} items"),
    ("minProperties", "at least {} keys"),
)


def definition_name(reference: str) -> str:
    """The ``$defs`` name a local ``$ref`` (``#/$defs/Probe``) points at."""
    return reference.rsplit("/", 1)[-1]


def anchor(name: str) -> str:
    """The anchor of the heading ``## name`` (MkDocs' toc slug of a class name: lowercase word characters)."""
    return "".join(character for character in name.lower() if character.isalnum() or character in "_-")


def _code(value: Any) -> str:
    return inert.markdown_code(value if isinstance(value, str) else json.dumps(value, sort_keys=True))


def _constraints(node: dict[str, Any]) -> list[str]:
    found = [f"{sign} {node[key]}" for key, sign in _BOUNDS if key in node]
    found += [words.format(node[key]) for key, words in _SIZES if key in node]
    if "pattern" in node:
        found.append(f"matching {_code(node['pattern'])}")
    if "format" in node:
        found.append(f"format {_code(node['format'])}")
    return found


def type_text(node: Any, link: Link) -> str:
    """The type of a schema node in words (``list of [Probe](…)``, ``integer, ≥ 1``), as inert table-cell Markdown."""
    if not isinstance(node, dict):
        return "any"
    if "$ref" in node:
        name = definition_name(str(node["$ref"]))
        return f"[{inert.markdown_text(name)}]({link(name)})"
    if "const" in node:
        return _code(node["const"])
    if "enum" in node:
        return "one of " + ", ".join(_code(value) for value in node["enum"])
    for key in ("anyOf", "oneOf"):
        if key in node:
            choices = [choice for choice in node[key] if choice != {"type": "null"}]
            return " or ".join(type_text(choice, link) for choice in choices) or "null"
    kind = node.get("type")
    if kind == "array":
        words = f"list of {type_text(node['items'], link)}" if "items" in node else "list"
    elif kind == "object":
        values = node.get("additionalProperties")
        words = f"map of {type_text(values, link)}" if isinstance(values, dict) else "mapping"
    elif isinstance(kind, list):
        words = " or ".join(str(each) for each in kind)
    else:
        words = str(kind) if kind else "any"
    return ", ".join([words, *_constraints(node)])


def fields_table(definition: dict[str, Any], link: Link) -> list[str]:
    """The fields of an object schema as a Markdown table (field, type, default, description), in schema order."""
    properties: dict[str, Any] = definition.get("properties", {})
    if not properties:
        return ["No fields."]
    required = set(definition.get("required", ()))
    lines = ["| field | type | default | description |", "| --- | --- | --- | --- |"]
    for name, node in properties.items():
        field = _code(name) + (" (required)" if name in required else "")
        default = _code(node["default"]) if node.get("default") is not None else ""
        description = inert.markdown_prose(node.get("description", ""))
        lines.append(f"| {field} | {type_text(node, link)} | {default} | {description} |")
    return lines


def paragraphs(text: str) -> list[str]:
    """A docstring's paragraphs as inert Markdown, separated by blank lines."""
    lines: list[str] = []
    for paragraph in text.strip().split("\n\n"):
        if paragraph.strip():
            lines += [inert.markdown_prose(paragraph), ""]
    return lines[:-1]
