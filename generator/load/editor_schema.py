"""The JSON Schema that editors use to check and complete environment files as they are typed.

Environment files are layers (`extends:`), so any single file may leave out fields that its
base supplies: this schema keeps types, descriptions and the ban on unknown keys, but drops
`required` (and the exclusivity of workload kinds), which `mlgitops render` checks after merging.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from mlgitops.load.merge import DELETE_KEY, DELETE_VALUE
from mlgitops.spec.base import SpecModel
from mlgitops.spec.environment import Environment
from mlgitops.spec.field_docs import describe_fields

SCHEMA_ID = "https://mlgitops.dev/schemas/environment.json"


def environment_file_schema(*, layered: bool = True) -> dict[str, Any]:
    """The JSON Schema of one environment file, ``extends`` and ``abstract`` included.

    ``layered`` (what editors get): relaxed for a file that is one layer of an ``extends:`` chain (no
    ``required``, workload kinds ``anyOf``, every field removable with ``{$patch: delete}``). Without it: the
    schema of the environment after the merge (what `render` checks; the documentation's field reference).
    """
    schema = describe_fields(Environment.model_json_schema(by_alias=True), Environment, SpecModel)
    if layered:
        _relax(schema)
    properties = schema.setdefault("properties", {})
    properties["extends"] = {
        "type": "string",
        "description": "File name of the base environment this file builds on, e.g. 'base.yaml'.",
    }
    properties["abstract"] = {
        "type": "boolean",
        "description": "Only a base for other files: not rendered as an environment of its own.",
    }
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": SCHEMA_ID, **schema}


_DELETE_MARKER = {
    "type": "object",
    "properties": {DELETE_KEY: {"const": DELETE_VALUE}},
    "required": [DELETE_KEY],
    "additionalProperties": False,
}


EDITOR_SCHEMA_FILE = "environment.schema.json"
"""The editor schema's file name beside the environment files (what `init` writes, and editors read through the
``# yaml-language-server: $schema=environment.schema.json`` line of each environment file)."""


def editor_schema_text() -> str:
    """The editor schema as `mlgitops schema` prints it and `init` writes it (two-space JSON, one final newline)."""
    return json.dumps(environment_file_schema(), indent=2) + "\n"


def stale_editor_schema(environments_dir: Path) -> Path | None:
    """The committed editor schema in ``environments_dir`` when it differs from this mlgitops's (None when it is
    current or absent: a repository need not commit one). A stale schema makes editors accept fields render refuses,
    or flag fields it accepts."""
    path = environments_dir / EDITOR_SCHEMA_FILE
    if not path.is_file() or path.is_symlink():
        return None
    try:
        committed = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return path
    return None if committed == editor_schema_text() else path


def _relax(node: Any) -> None:
    if isinstance(node, dict):
        if isinstance(node.get("required"), list):
            # The keyword: a property *named* `required` (nodeAffinity.required) is a schema, not a list.
            del node["required"]
        if "oneOf" in node:
            # A partial workload (name and one override) matches every kind; any match is fine.
            node["anyOf"] = node.pop("oneOf")
        for value in node.values():
            _relax(value)
        if node.get("additionalProperties") is False and "properties" in node:
            for name, child in list(node["properties"].items()):
                # Any inherited field may be removed with `field: {$patch: delete}`.
                node["properties"][name] = {"anyOf": [child, dict(_DELETE_MARKER)]}
            node["properties"][DELETE_KEY] = {
                "const": DELETE_VALUE,
                "description": "Remove this inherited item or field.",
            }
        elif isinstance(node.get("additionalProperties"), dict):
            # Free-form maps (labels, annotations, nodeSelector, params): `key: {$patch: delete}` removes
            # an inherited key, as render's merge does for any mapping.
            node["additionalProperties"] = {"anyOf": [node["additionalProperties"], dict(_DELETE_MARKER)]}
    elif isinstance(node, list):
        for value in node:
            _relax(value)
