"""The reader gives exactly what PyYAML's safe loader gives, or a located error where it refuses.

``ours`` is the reader's public entry (yaml-rs behind its screen, libyaml's nodes otherwise);
tests/yaml/test_engine.py compares the two paths with each other directly.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from mlgitops.errors import UserError
from mlgitops.yaml.reader import AmbiguousText, iter_documents, load_documents
from tests.support import REPO


def typed(value: Any) -> Any:
    """A form in which 1, 1.0 and True differ and NaN equals NaN, for comparing loaders."""
    if isinstance(value, dict):
        return ("dict", [(typed(key), typed(item)) for key, item in value.items()])
    if isinstance(value, list):
        return ("list", [typed(item) for item in value])
    if isinstance(value, float) and math.isnan(value):
        return ("float", "nan")
    return (type(value).__name__, value)


def ours(text: str) -> list[Any]:
    """The reader mlgitops uses: yaml-rs where its screen allows, libyaml's nodes otherwise."""
    return [typed(value) for value in load_documents(text, "t.yaml")]


def pyyaml(text: str) -> list[Any]:
    return [typed(value) for value in yaml.load_all(text, Loader=yaml.CSafeLoader)]


def assert_reads_as_pyyaml(text: str) -> None:
    """Same objects as PyYAML's safe loader, or a located error where PyYAML fails too."""
    try:
        expected = pyyaml(text)
    except yaml.YAMLError:
        with pytest.raises(UserError) as raised:
            ours(text)
        assert raised.value.location is not None
        return
    assert ours(text) == expected, text


# Plain scalars whose type YAML 1.1 decides from their text, and a few that only look special.
TRICKY_SCALARS = [
    "0", "00", "012", "0o17", "0x1F", "0b101", "-0", "+12", "-12", "1_000", "190:20:30", "1__0",
    "3.14", "-.5", "1e3", "6.8523015e+5", ".inf", "-.Inf", ".NaN", "190:20:30.15", "1.", "١٢",
    "yes", "No", "ON", "off", "y", "n", "true", "False", "TRUE", "~", "null", "Null", "",
    "2026-11-29", "2026-11-29T03:40:47Z", "2001-12-14 21:59:43.10 -5", "latest", "v1", "1Gi",
    "500m", "'quoted'", '"012"', "- not a list", "a: b", "x=1&y=2", "tab\tinside", "ünïcode", "0.0.0.0",
    "_0", "-_1", "__1.5", ".iNf",  # numbers and infinities to yaml-rs alone
]  # fmt: skip


@pytest.mark.parametrize("scalar", TRICKY_SCALARS)
def test_scalars_as_values_keys_and_items_match_pyyaml(scalar: str) -> None:
    for text in (f"key: {scalar}\n", f"{scalar}: value\n" if scalar else "x: 1\n", f"- {scalar}\n- [{scalar}]\n"):
        assert_reads_as_pyyaml(text)


DOCUMENTS = [
    "a: 1\n---\nb: [1, 2, {c: d}]\n---\n",
    "base: &b {x: 1, y: 2}\nderived:\n  <<: *b\n  y: 3\n",
    "=: value\n",
    "? [1, 2]\n: pair\n",
    "!!set {a, b}\n",
    "!!omap [a: 1, b: 2]\n",
    "!!pairs [a: 1, a: 2]\n",
    "!!binary aGVsbG8=\n",
    "k: !!str 012\nl: !!int '7'\nm: !!float '1'\n",
    "list: !!seq [1]\nmap: !!map {a: 1}\n",
    "1: int key\n'1': text key\n",
    "",
    "---\n---\n",
    "multi: |\n  line one\n  line two\n",
    "folded: >-\n  a\n  b\n",
]


@pytest.mark.parametrize("text", DOCUMENTS)
def test_documents_match_pyyaml(text: str) -> None:
    assert_reads_as_pyyaml(text)


@pytest.mark.parametrize(
    ("text", "message", "line", "column"),
    [
        ("a: 1\nb:\n  c: 1\n  c: 2\n", "duplicate key 'c' (first at line 3)", 4, 3),
        ("x: !!set {a, a}\n", "duplicate key 'a'", 1, 14),
        ("x: !custom 1\n", "unsupported YAML tag", 1, 4),
        ("x: " + "[" * 120 + "]" * 120 + "\n", "nested more than 100 levels", 1, 1),
    ],
)
def test_refusals_are_located(text: str, message: str, line: int, column: int) -> None:
    with pytest.raises(UserError) as raised:
        ours(text)
    assert message in raised.value.message
    assert raised.value.location is not None
    assert (raised.value.location.line, raised.value.location.column) == (line, column) or message.startswith("nested")


scalar_values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=True),
    st.text(max_size=12),
    st.sampled_from(TRICKY_SCALARS),
)
plain_objects = st.recursive(
    scalar_values,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(
            st.one_of(st.text(max_size=8), st.sampled_from(TRICKY_SCALARS), st.integers(-5, 5)), children, max_size=4
        ),
    ),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(value=plain_objects, flow=st.sampled_from([None, True, False]))
def test_dumped_objects_read_back_as_pyyaml_reads_them(value: Any, flow: bool | None) -> None:
    assert_reads_as_pyyaml(yaml.safe_dump(value, default_flow_style=flow, allow_unicode=True))


@settings(max_examples=300, deadline=None)
@given(tokens=st.lists(st.sampled_from(TRICKY_SCALARS), min_size=1, max_size=6))
def test_hand_written_plain_scalars_read_as_pyyaml_reads_them(tokens: list[str]) -> None:
    assert_reads_as_pyyaml("".join(f"k{index}: {token}\n" for index, token in enumerate(tokens)))


def test_every_committed_manifest_and_environment_file_matches_pyyaml() -> None:
    files = sorted(
        [*(REPO / "rendered").rglob("*.yaml"), *(REPO / "environments").glob("*.yaml"), *(REPO / "policies").glob("*.yaml")]
    )
    assert len(files) > 100
    for path in files:
        text = Path(path).read_text()
        assert ours(text) == pyyaml(text), path


def ambiguous_of(text: str) -> list[tuple[tuple[str | int, ...], str, str, bool]]:
    found: list[AmbiguousText] = []
    list(iter_documents(text, "t.yaml", found))
    return [(item.path, item.text, item.reading, item.key) for item in found]


@pytest.mark.parametrize("anchored", [False, True])
def test_plain_text_that_go_reads_as_numbers_or_booleans_is_noted_with_its_path(anchored: bool) -> None:
    text = "labels: {shuffle: n, y: 'x'}\nargs: [--lr, 1e-4, '1e-5', \"0o17\"]\nlr: 3e5\nquoted: 'n'\nsize: 1Gi\n"
    if anchored:
        text += "spare: &spare {copy: y}\nagain: *spare\n"
    expected = [
        (("args", 1), "1e-4", "a number", False),
        (("labels", "shuffle"), "n", "a boolean", False),
        (("labels", "y"), "y", "a boolean", True),
        (("lr",), "3e5", "a number", False),
    ]
    if anchored:
        expected.append((("spare", "copy"), "y", "a boolean", False))  # once, where the anchor stands
    assert ambiguous_of(text) == expected


def test_list_items_carry_their_own_paths() -> None:
    from mlgitops.kube.manifest import load_manifests

    text = "apiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: ConfigMap, metadata: {name: a}, data: {k: n}}\n"
    [config] = load_manifests(text, "t.yaml")
    assert [(item.path, item.text) for item in config.ambiguous] == [(("data", "k"), "n")]
    assert str(config.locate(config.ambiguous[0].path)) == "t.yaml:4:68"


def _int64_only(value: Any) -> bool:
    """Whether every integer in ``value`` fits Kubernetes' int64 (beyond it Go's readers fall back to floats)."""
    if isinstance(value, bool):
        return True
    if isinstance(value, int):
        return -(2**63) <= value < 2**63
    if isinstance(value, dict):
        return all(_int64_only(k) and _int64_only(v) for k, v in value.items())
    if isinstance(value, list):
        return all(_int64_only(item) for item in value)
    return True


@settings(max_examples=200, deadline=None)
@given(value=plain_objects)
def test_what_mlgitops_writes_every_reader_reads_as_written(value: Any) -> None:
    from hypothesis import assume

    from mlgitops.yaml.writer import dump_object

    assume(_int64_only(value))
    text = dump_object({"apiVersion": "v1", "kind": "ConfigMap", "data": value})
    assert ambiguous_of(text) == []
    assert ours(text) == pyyaml(text)


@pytest.mark.parametrize(
    ("text", "pyyaml", "kubectl", "kustomize"),
    [
        ("1:30", "the number 90", "text", "text"),  # base 60: YAML 1.1 in PyYAML only
        ("2025-03-01", "a date", "text", "text"),  # Go keeps a timestamp's text in an untyped value
        ("yes", "the boolean true", "the boolean true", "text"),
        ("off", "the boolean false", "the boolean false", "text"),
        ("y", "text", "the boolean true", "text"),
        ("1e-4", "text", "the number 0.0001", "the number 0.0001"),
        ("0o17", "text", "the number 15", "the number 15"),
        ("09", "text", "the number 9.0", "the number 9.0"),
        ("017", "the number 15", "the number 15", "the number 15"),  # agreed: not reported
        ("true", "the boolean true", "the boolean true", "the boolean true"),
    ],
)
def test_every_plain_scalar_is_judged_by_three_readers(text: str, pyyaml: str, kubectl: str, kustomize: str) -> None:
    from mlgitops.yaml.ambiguity import disagree, readings

    assert [reading.describe() for reading in readings(text)] == [pyyaml, kubectl, kustomize]
    assert disagree(text) is (len({pyyaml, kubectl, kustomize}) > 1)
    found = ambiguous_of(f"data:\n  k: {text}\n")
    assert [(path, value) for path, value, _, _ in found] == ([(("data", "k"), text)] if disagree(text) else [])
