"""Recursive user schemas: endless ones are refused at their line, those that recurse with the value are evaluated
safely; never a RecursionError (exit 3) nor a panic of the Rust validator (see also tests/bad_inputs/policies)."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlgitops.kube.user_schema import RefusedSchema, check_recursion
from tests.support import write
from tests.test_bad_inputs import run_forked

CONFIGMAP = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: ml}\ndata: {a: b}\n"


def _policy(schema: str) -> str:
    return (
        "id: recursive\ntitle: t\nseverity: error\nrationale: r\nfix: f\ntarget: object\n"
        f"schema:\n{schema}\n"
        'examples: {pass: ["apiVersion: v1\\nkind: ConfigMap\\nmetadata: {name: a}\\n"], fail: ["spec: 1\\n"]}\n'
    )


@pytest.mark.parametrize(
    "schema",
    [
        {"$ref": "#"},
        {"not": {"$ref": "#"}},
        {"required": ["x"], "allOf": [{"$ref": "#"}]},
        {"$defs": {"a": {"$ref": "#/$defs/b"}, "b": {"anyOf": [{"$ref": "#/$defs/a"}]}}, "$ref": "#/$defs/a"},
        {"$defs": {"a": {"$anchor": "a", "oneOf": [{"if": {"$ref": "#a"}}]}}, "$ref": "#/$defs/a"},
        {"dependentSchemas": {"x": {"$ref": "#"}}},
        {"$recursiveAnchor": True, "else": {"$recursiveRef": "#"}},
    ],
    ids=["ref-self", "not", "all-of", "defs", "anchor", "dependent-schemas", "recursive-ref"],
)
def test_a_schema_that_applies_itself_without_end_is_refused(schema: object) -> None:
    with pytest.raises(RefusedSchema, match="without end"):
        check_recursion(schema)


@pytest.mark.parametrize(
    "schema",
    [
        {"$defs": {"node": {"properties": {"children": {"items": {"$ref": "#/$defs/node"}}}}}, "$ref": "#/$defs/node"},
        {"properties": {"next": {"$ref": "#"}}, "additionalProperties": {"$ref": "#"}},
        {"$defs": {"a": {"required": ["x"]}}, "allOf": [{"$ref": "#/$defs/a"}, {"$ref": "#/$defs/a"}]},
    ],
    ids=["tree", "linked-list", "diamond"],
)
def test_recursion_that_descends_into_the_value_is_fine(schema: object) -> None:
    check_recursion(schema)


def test_shared_subschemas_are_judged_once_each() -> None:
    # Every wide entry reaches the same chain 20 times over: walking paths instead of schemas would take
    # 300 * 20 ** 40 steps; the check visits each schema once.
    chain = {f"d{i}": {"allOf": [{"$ref": f"#/$defs/d{i + 1}"}] * 20} for i in range(40)}
    wide = {f"w{i}": {"allOf": [{"$ref": "#/$defs/d0"}] * 20} for i in range(300)}
    check_recursion({"$defs": {**chain, "d40": {}, **wide}, "$ref": "#/$defs/w0"})


def test_a_value_nested_deeper_than_the_schema_can_explain_is_a_finding_not_a_crash(tmp_path: Path) -> None:
    chain = "\n".join(f"    d{i}: {{allOf: [{{$ref: '#/$defs/d{i + 1}'}}]}}" for i in range(8))
    schema = (
        f"  $defs:\n{chain}\n"
        "    d8: {type: object, properties: {c: {$ref: '#/$defs/d0'}}, required: [c]}\n"
        "  properties:\n    spec: {$ref: '#/$defs/d0'}"
    )
    write(tmp_path / "policies" / "recursive.yaml", _policy(schema))
    nested = "".join("  " * (depth + 1) + "c:\n" for depth in range(60)) + "  " * 61 + "d: 1\n"
    write(tmp_path / "deep.yaml", CONFIGMAP + "spec:\n" + nested)
    result = run_forked("lint", "deep.yaml", "--policies", "policies", cwd=tmp_path)
    assert result.exit_code == 1, result.stderr
    assert "error recursive: ConfigMap 'c': does not match the schema, whose references nest too deeply" in result.stdout
    assert "Traceback" not in result.stderr
