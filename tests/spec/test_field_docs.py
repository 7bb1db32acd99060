"""Field docstrings reach the JSON Schema as pydantic's use_attribute_docstrings put them, without costing every import.

Byte identity with pydantic's own output for the real spec is pinned by tests/load/test_stale_editor_schema.py
(the committed schema was written with pydantic reading the docstrings); these tests pin the reading rules.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

from pydantic import BaseModel, ConfigDict, Field, create_model

from mlgitops.spec.field_docs import describe_fields, field_docstring, own_docstrings


class _Base(BaseModel):
    replicas: int = 1
    """Pods to run.

    At least one.
    """
    image: str = ""
    """The container image."""
    note: str = Field("", description="Said in the field itself.")
    """Not this one: the field's own description wins."""
    plain: int = 0

    def ratio(self) -> float:
        return 0.5

    """A string after a method documents nothing."""


class _Derived(_Base):
    image: str = "x"  # annotated again without a docstring: undocumented, as pydantic reads it
    extra: int = 0
    """Only here."""


class _Documented(BaseModel):
    model_config = ConfigDict(use_attribute_docstrings=True)

    count: int = 0
    """How many."""
    kind: str = Field("a", description="Given.")
    """Not used."""


def test_the_string_right_under_an_annotation_documents_it() -> None:
    docs = own_docstrings(_Base)
    assert docs == {
        "replicas": "Pods to run.\n\nAt least one.",
        "image": "The container image.",
        "note": "Not this one: the field's own description wins.",
    }


def test_a_field_takes_the_docstring_of_the_nearest_class_annotating_it() -> None:
    assert field_docstring(_Derived, "replicas") == "Pods to run.\n\nAt least one."
    assert field_docstring(_Derived, "image") is None
    assert field_docstring(_Derived, "extra") == "Only here."
    assert field_docstring(_Derived, "missing") is None


def test_describe_fields_matches_pydantic_reading_the_docstrings_itself() -> None:
    class Plain(BaseModel):
        count: int = 0
        """How many."""
        kind: str = Field("a", description="Given.")
        """Not used."""

    described = describe_fields(Plain.model_json_schema(by_alias=True), Plain, Plain)
    expected = _Documented.model_json_schema(by_alias=True)
    assert described["properties"] == expected["properties"]
    assert list(described["properties"]["count"]) == list(expected["properties"]["count"])  # pydantic's key order


def test_nested_models_are_described_in_their_definitions() -> None:
    class Inner(_Base):
        pass

    class Outer(_Base):
        inner: Inner
        """The inner one."""

    schema = describe_fields(Outer.model_json_schema(by_alias=True), Outer, _Base)
    assert schema["properties"]["inner"]["description"] == "The inner one."
    assert schema["$defs"]["Inner"]["properties"]["replicas"]["description"] == "Pods to run.\n\nAt least one."
    assert schema["$defs"]["Inner"]["properties"]["note"]["description"] == "Said in the field itself."


def test_importing_the_spec_does_not_read_docstrings() -> None:
    """pydantic's reading (source through frames, tokenized per class) cost 80 ms of every render; it stays off."""
    probe = textwrap.dedent(
        """
        import pydantic._internal._fields as fields
        calls = []
        original = fields.extract_docstrings_from_cls
        fields.extract_docstrings_from_cls = lambda *a, **k: calls.append(a) or original(*a, **k)
        import mlgitops.spec
        print(len(calls))
        """
    )
    completed = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert completed.stdout.strip() == "0"


if True:  # a class under a block statement keeps its plain qualified name, and its docstrings

    class _InBlock(BaseModel):
        size: int = 0
        """Found under an if."""


class _Referenced(BaseModel):
    """Same words."""

    value: int = 0


class _Referencing(BaseModel):
    same: _Referenced
    """Same words."""
    other: _Referenced
    """Other words."""


def test_a_class_under_a_block_statement_is_read() -> None:
    assert own_docstrings(_InBlock) == {"size": "Found under an if."}


def test_a_docstring_equal_to_the_referenced_models_is_dropped_as_pydantic_drops_it() -> None:
    class Documented(BaseModel):
        model_config = ConfigDict(use_attribute_docstrings=True)
        same: _Referenced
        """Same words."""
        other: _Referenced
        """Other words."""

    described = describe_fields(_Referencing.model_json_schema(by_alias=True), _Referencing, BaseModel)
    assert described["properties"] == Documented.model_json_schema(by_alias=True)["properties"]
    assert "description" not in described["properties"]["same"]


def test_models_sharing_a_class_name_are_found_by_their_module_qualified_names() -> None:
    other = create_model("_Base", __module__="tests.spec.elsewhere", count=(int, 0))

    class Holder(BaseModel):
        mine: _Base
        theirs: other  # type: ignore[valid-type]

    schema = describe_fields(Holder.model_json_schema(by_alias=True), Holder, BaseModel)
    mine = next(definition for name, definition in schema["$defs"].items() if name.endswith("test_field_docs___Base"))
    assert mine["properties"]["replicas"]["description"] == "Pods to run.\n\nAt least one."
