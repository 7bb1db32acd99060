"""The fast YAML path (yaml-rs behind a screen, the block emitter) and the PyYAML fallback agree.

Reading: wherever the fast path reads a text, its objects equal PyYAML's safe loader's (the
YAML test suite, real manifests, committed files, tricky scalars, generated documents); where
it declines or the text is bad, PyYAML's path gives the located error. Writing: the emitter's
bytes equal PyYAML's C dumper's. And end to end: render, render --check and lint give the
same output with ``MLGITOPS_YAML_ENGINE=pyyaml`` as without.
"""

from __future__ import annotations

import math
import string
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import example, given, settings
from hypothesis import strategies as st

from mlgitops.errors import UserError
from mlgitops.yaml import fast_reader
from mlgitops.yaml.ambiguity import disagree
from mlgitops.yaml.emitter import BlockEmitter, Unsupported
from mlgitops.yaml.engine import ENGINE_VARIABLE, fast_engine
from mlgitops.yaml.reader import AmbiguousText, iter_documents, load_documents
from mlgitops.yaml.writer import _Dumper, dump_object, pyyaml_body
from tests.support import REPO, run_in_process, shared_dir
from tests.yaml.test_reader import TRICKY_SCALARS, plain_objects, typed

pytestmark = pytest.mark.skipif(fast_engine() is None, reason="yaml-rs has no wheel for this platform")


def pyyaml(text: str) -> list[Any] | Exception:
    try:
        return [typed(value) for value in yaml.load_all(text, Loader=yaml.CSafeLoader)]
    except Exception as error:  # PyYAML raises more than YAMLError on some inputs (unhashable keys)
        return error


def assert_fast_path_agrees(text: str) -> bool:
    """The fast path reads ``text`` as PyYAML does, or leaves it to PyYAML; True when it read it."""
    documents = fast_reader.read(text)
    if documents is None:
        return False
    expected = pyyaml(text)
    assert not isinstance(expected, Exception), f"fast path accepted what PyYAML refuses ({expected}): {text!r}"
    assert [typed(value) for value in documents] == expected, text
    return True


@pytest.mark.needs_shared
def test_the_yaml_test_suite_reads_alike_or_falls_back() -> None:
    cases = sorted((shared_dir() / "yaml-test-suite").rglob("in.yaml"))
    assert len(cases) > 300
    read_fast = sum(assert_fast_path_agrees(case.read_text(encoding="utf-8")) for case in cases)
    assert read_fast > 50  # the screen does not decline everything


def test_committed_files_and_vendored_crds_read_alike() -> None:
    rendered = sorted((REPO / "rendered").rglob("*.yaml"))
    files = [
        *rendered,
        *sorted((REPO / "environments").glob("*.yaml")),
        *sorted((REPO / "policies").glob("*.yaml")),
        *sorted((REPO / "tests" / "upstream" / "crds").glob("*.yaml")),
    ]
    read_fast = {path for path in files if assert_fast_path_agrees(path.read_text(encoding="utf-8"))}
    # What mlgitops writes takes the fast path, but for embedded documents written as literal blocks (Ray).
    assert len(read_fast.intersection(rendered)) >= 0.9 * len(rendered)


@pytest.mark.needs_shared
def test_real_manifests_and_every_shared_crd_read_alike() -> None:
    files = [*sorted((shared_dir() / "real-manifests").rglob("*.y*ml")), *sorted((shared_dir() / "crds").rglob("*.y*ml"))]
    assert len(files) > 400
    read_fast = sum(assert_fast_path_agrees(path.read_text(encoding="utf-8")) for path in files)
    assert read_fast > len(files) // 2  # most real-world manifests take the fast path too


@pytest.mark.parametrize("scalar", TRICKY_SCALARS)
def test_tricky_scalars_read_alike_in_every_position(scalar: str) -> None:
    for text in (
        f"key: {scalar}\n",
        f"{scalar}: value\n",
        f"- {scalar}\n- [{scalar}]\n",
        f"k: {{a: {scalar}, {scalar}: b}}\n",
        f'k: {{"a":{scalar}}}\n',
        f"k:\n  {scalar}\n",
        f"--- {scalar}\n",
        f"- - {scalar}\n",
        f"k: {scalar} # note\n",
    ):
        assert_fast_path_agrees(text)


# Letters that make YAML tokens: digits, signs, the yes/no/on/off letters, number letters, unit letters
# (`500m`, `4Gi`, `30s`, `25%`), indicators.
token_text = st.text(alphabet="0123456789+-._:eExXoObBaAfFyYnNsStTlLuUiIGm%/~=<!&*?|>#'\" ,[]{}%@`\\", min_size=0, max_size=8)


# Texts the fast path once read otherwise than PyYAML (yaml-rs's own number and float forms): found
# by this test and by reading yaml-rs's resolver (src/load/scalar.rs); kept as fixed examples.
@example(tokens=["_0"], layout="map")  # yaml-rs: the number 0; PyYAML and kubectl: the text "_0"
@example(tokens=["__0", "_1e3", "_.5", "_0."], layout="seq")  # yaml-rs skips underscores anywhere in a number
@example(tokens=["-_1", "+_2"], layout="keys")
@example(tokens=[".iNf", "-.iNF", ".nAn"], layout="map")  # yaml-rs reads .inf and .nan in any case
@example(tokens=["<<"], layout="flow")  # PyYAML refuses a merge key as a value
@settings(max_examples=250, deadline=None)
@given(tokens=st.lists(token_text, min_size=1, max_size=5), layout=st.sampled_from(["map", "seq", "flow", "keys"]))
def test_generated_plain_tokens_read_alike(tokens: list[str], layout: str) -> None:
    if layout == "map":
        text = "".join(f"k{index}: {token}\n" for index, token in enumerate(tokens))
    elif layout == "seq":
        text = "".join(f"- {token}\n" for token in tokens)
    elif layout == "flow":
        text = "k: [" + ", ".join(tokens) + "]\n"
    else:
        text = "".join(f"{token}: {index}\n" for index, token in enumerate(tokens))
    assert_fast_path_agrees(text)


@settings(max_examples=150, deadline=None)
@given(value=plain_objects, flow=st.sampled_from([None, True, False]), width=st.sampled_from([8, 80]))
def test_generated_documents_read_alike(value: Any, flow: bool | None, width: int) -> None:
    assert_fast_path_agrees(yaml.safe_dump(value, default_flow_style=flow, allow_unicode=True, width=width))
    assert_fast_path_agrees(yaml.safe_dump_all([value, value], default_flow_style=flow, explicit_start=True))


@example(token="Y")  # a boolean to kubectl, text to PyYAML
@example(token="-_1")  # -1 to Go's readers, text to PyYAML
@example(token="0o17")
@settings(max_examples=300, deadline=None)
@given(token=token_text.filter(lambda text: text.strip() == text and text != ""))
def test_every_plain_token_a_reader_could_disagree_on_is_screened(token: str) -> None:
    """The ambiguity rule sees every plain scalar: texts it judges never take the fast path."""
    for text in (f"k: {token}\n", f"{token}: v\n", f"- [{token}]\n"):
        try:
            yaml.load_all(text, Loader=yaml.CSafeLoader).__next__()
        except Exception:
            continue  # not a plain scalar (an indicator, a comment) or refused by PyYAML
        if disagree(token):
            assert fast_reader.screen(text) is not None, text


# The three readers' disagreements (ambiguity.disagree), every one of which the screen must send to PyYAML.
DISAGREEING = [
    *[s for s in TRICKY_SCALARS if s and disagree(s)],
    *["yes", "Off", "y", "N", "1:30", "-1:30:00", "190:20:30", "2024-01-01", "2001-12-14t21:59:43.10-05:00"],
    *["1e-4", "1E+3", "0o17", "09", "+.5", "1.e5", "-1e-3", "0o_7"],
]


@pytest.mark.parametrize("scalar", DISAGREEING)
def test_ambiguous_plain_values_are_noted_on_the_fast_path_too(scalar: str) -> None:
    assert disagree(scalar)
    text = f"a: {scalar}\nb: [{scalar}]\nquoted: '{scalar}'\n"
    fast: list[AmbiguousText] = []
    load_documents(text, "t.yaml", fast)
    slow: list[AmbiguousText] = []
    list(iter_documents(text, "t.yaml", slow))
    assert fast == slow
    assert [item.path for item in fast] == [("a",), ("b", 0)]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a: 1\nb:\n  c: 1\n  c: 2\n", "duplicate key 'c'"),
        ("".join(" " * depth + "a:\n" for depth in range(150)) + " " * 150 + "b: 1\n", "nested more than"),
        ("- " * 50_000 + "x\n", "nesting depth"),
        ("x: " + "[" * 120 + "]" * 120 + "\n", "nested more than"),
        ((REPO / "tests" / "bad_inputs" / "manifests" / "alias-bomb.yaml").read_text(encoding="utf-8"), "alias bomb"),
        ("a: \x00\n", "character #x0000 is not allowed in YAML"),
        ('a: "\u00e9t\u00e9 \x07"\n', "character #x0007 is not allowed in YAML"),
        ("a: 'unclosed\n", "unexpected end of stream"),
        ("a: !!python/object:os.system x\n", "unsupported YAML tag"),
        ("a: [1, {b: 0x_}]\n", "0x_ looks like a number or a date but is neither; quote it"),
        ("x: &a 1\nwhen: 2024-02-30\n", "2024-02-30 looks like a number or a date"),
    ],
)
def test_refusals_on_the_fast_path_are_pyyamls_located_ones(text: str, message: str) -> None:
    with pytest.raises(UserError) as fast:
        load_documents(text, "t.yaml")
    with pytest.raises(UserError) as slow:
        list(iter_documents(text, "t.yaml"))
    assert (fast.value.message, fast.value.location) == (slow.value.message, slow.value.location)
    assert message in fast.value.message


def test_deep_block_nesting_never_reaches_yaml_rs() -> None:
    # yaml-rs overflows its stack on block nesting this deep: the screen must stop it first.
    deep = "".join(" " * depth + "a:\n" for depth in range(2000)) + " " * 2000 + "b: 1\n"
    assert fast_reader.screen(deep) is not None
    assert fast_reader.screen("- " * 10 + "x\n") is not None


def test_every_bad_input_reads_alike_on_both_paths(monkeypatch: pytest.MonkeyPatch) -> None:
    for path in sorted((REPO / "tests" / "bad_inputs").rglob("*")):
        if not path.is_file():
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue  # refused before any YAML engine sees it
        outcomes = []
        for engine in ("fast", "pyyaml"):
            monkeypatch.setenv(ENGINE_VARIABLE, engine)
            try:
                outcomes.append(("objects", [typed(value) for value in load_documents(text, path.name)]))
            except UserError as error:
                outcomes.append(("error", (error.message, error.location)))
        assert outcomes[0] == outcomes[1], path.name


# Text the emitter writes itself (printable ASCII) and text it leaves to libyaml.
emitted_text = st.one_of(
    st.text(alphabet=string.printable, max_size=12),
    st.text(max_size=8),
    st.sampled_from(TRICKY_SCALARS),
    st.text(alphabet="-?:#,[]{}&*!|>'\"%@` \tyYnN0.e", max_size=6),
)
emitted_objects = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-(2**70), 2**70), st.floats(allow_nan=False), emitted_text),
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(st.one_of(emitted_text, st.integers(-5, 5), st.booleans()), children, max_size=4),
    ),
    max_leaves=25,
)


@settings(max_examples=200, deadline=None)
@given(value=emitted_objects)
def test_the_emitter_writes_pyyamls_bytes(value: Any) -> None:
    document = {"apiVersion": "v1", "kind": "ConfigMap", "data": value}
    try:
        written = BlockEmitter(_Dumper).document(document)
    except Unsupported:
        return
    assert written == pyyaml_body(document)


def test_the_emitter_writes_long_keys_and_values_through_pyyaml() -> None:
    for document in ({"k" * 129: 1}, {"v": "x " * 600}, {"v": "multi\nline"}, {"v": 1.5}, {"v": math.inf}):
        assert dump_object(
            document
        ) == "# Generated by mlgitops. Do not edit: change the environment file and run `mlgitops render`.\n" + pyyaml_body(
            document
        )


def test_render_check_and_lint_alike_on_both_paths(tmp_path: Path) -> None:
    fallback = {ENGINE_VARIABLE: "pyyaml"}
    check = run_in_process("render", "--check", cwd=REPO, env=fallback)
    assert check.exit_code == 0, check.stdout + check.stderr  # PyYAML's bytes are the committed bytes
    corpus = REPO / "tests" / "bad_inputs" / "manifests"
    fast, slow = (run_in_process("lint", str(corpus), "--format", "json", cwd=REPO, env=env) for env in (None, fallback))
    assert (fast.exit_code, fast.stdout, fast.stderr) == (slow.exit_code, slow.stdout, slow.stderr)
    assert fast.exit_code == 2  # the corpus holds unreadable files: they are reported, not skipped
