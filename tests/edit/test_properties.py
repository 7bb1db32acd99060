"""Any text set through an edit reads back as exactly that text, by mlgitops and by Go's YAML readers, on one line's change."""

from __future__ import annotations

import shutil

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mlgitops.edit.layers import Change
from mlgitops.edit.session import apply, load_fleet
from mlgitops.spec.paths import Item, get
from mlgitops.yaml.ambiguity import go_reading
from tests.support import REPO

TRICKY = [
    "yes",
    "no",
    "on",
    "n",
    "Y",
    "~",
    "null",
    "1e-4",
    "0o17",
    "017",
    ".5",
    "1_000",
    "12:30",
    "2024-01-01",
    "#x",
    "a: b",
    "- x",
    "*alias",
    "&anchor",
    "!tag",
    "%x",
    "@x",
    "`x",
    "'",
    '"',
    "{a",
    "[a",
    " lead",
    "trail ",
    "",
    "a #b",
    "x\ny",
    "tab\there",
]
TEXT = st.one_of(
    st.sampled_from(TRICKY),
    st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\x85\u2028\u2029"), max_size=12),
)
VALUE = ("workloads", Item("train"), "env", Item("RATE"), "value")


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(text=TEXT)
def test_any_text_value_reads_back_exactly_and_changes_one_value(text: str, tmp_path_factory: pytest.TempPathFactory) -> None:
    folder = tmp_path_factory.mktemp("fleet") / "environments"
    folder.mkdir()
    shutil.copy(REPO / "tests" / "edit" / "corpus" / "quoting.yaml", folder / "quoting.yaml")
    fleet = load_fleet(folder)
    edit = apply(folder, "quoting", [Change(VALUE, text)], fleet=fleet)  # proves the file reads back as intended
    assert get(edit.after["quoting"].tree.plain(), VALUE) == text
    if text == "1e-4":
        assert edit.texts == {}
        return
    ((_, (old, new)),) = edit.texts.items()
    removed = [line for line in old.splitlines() if line not in new.splitlines()]
    assert removed == ["        value: '1e-4'"]
    line = new.splitlines()[edit.applied[0].location.line - 1]
    if go_reading(text) is not None:
        assert line.rstrip().endswith(("'", '"')), line  # quoted: Go's readers would take it for a number or bool
