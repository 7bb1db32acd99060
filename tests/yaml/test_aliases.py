"""yaml/aliases.py: a value that contains itself through an alias is a located error wherever YAML is read.

``x: &a [1, *a]`` composed into a list holding itself; lint crashed on it (RecursionError, exit 3) in the placeholder
walk or in controller defaulting. Now refused when read, at the collection that holds its own ancestor, in every
reader: lint (files and stdin), environment files, and the Python API.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from mlgitops.errors import UserError
from mlgitops.yaml.reader import load_documents
from tests.support import run_in_process

POD = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n  - name: c\n    image: x:1\n"
RECURSIVE = {
    "a list holding itself": ("x: &a [1, *a]\n", (1, 4)),
    "a mapping holding itself": ("a: &a {b: *a}\n", (1, 4)),
    "deeper down": ("a: &a\n  b:\n  - c: 1\n  - d: *a\n", (4, 5)),
    "a key's value in a block list": ("- &a\n  - *a\n", (1, 3)),
}


@pytest.mark.parametrize("text", [text for text, _ in RECURSIVE.values()], ids=list(RECURSIVE))
def test_reading_refuses_a_value_that_contains_itself(text: str) -> None:
    with pytest.raises(UserError) as raised:
        load_documents(text, "doc.yaml")
    assert "holds a YAML alias to a node that contains it" in raised.value.message
    assert raised.value.location is not None
    assert raised.value.location.file == "doc.yaml"


def test_the_error_points_at_the_collection_holding_the_alias() -> None:
    for text, (line, column) in RECURSIVE.values():
        with pytest.raises(UserError) as raised:
            load_documents(text, "doc.yaml")
        assert raised.value.location is not None
        assert (raised.value.location.line, raised.value.location.column) == (line, column), text


def test_shared_aliases_that_do_not_contain_themselves_still_read() -> None:
    (document,) = load_documents("base: &b {cpu: '1'}\na: *b\nc: [*b, *b]\n", "doc.yaml")
    assert document == {"base": {"cpu": "1"}, "a": {"cpu": "1"}, "c": [{"cpu": "1"}, {"cpu": "1"}]}


@pytest.mark.parametrize("stdin", [False, True])
def test_lint_reports_it_in_one_line_and_exits_2(tmp_path: Path, stdin: bool) -> None:
    text = POD + "    args: &a [1, *a]\n"
    (tmp_path / "pod.yaml").write_text(text)
    result = run_in_process("lint", "-", stdin=text) if stdin else run_in_process("lint", str(tmp_path / "pod.yaml"))
    assert result.exit_code == 2
    (line,) = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert ":9:11: this value holds a YAML alias to a node that contains it" in line
    assert "Traceback" not in result.stderr


def test_an_environment_file_holding_itself_is_a_located_render_error(tmp_path: Path) -> None:
    (tmp_path / "environments").mkdir()
    (tmp_path / "environments" / "dev.yaml").write_text("namespace: ml\nlabels: &l {team: *l}\nworkloads: []\n")
    result = run_in_process("render", "--check", cwd=tmp_path)
    assert result.exit_code == 2
    assert "environments/dev.yaml:2:9: this value holds a YAML alias to a node that contains it" in result.stderr
