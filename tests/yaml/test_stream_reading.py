"""A stream the screen refuses as a whole is read document by document, with the same objects, notes and errors.

`kustomize build` and `helm template` print a fleet as one stream; one document with a `yes` or
an anchor used to send all of it to PyYAML's Python path (issue 30). Now only that document goes
there: the objects, the ambiguity notes (with their document index) and the located errors must be
exactly those of reading the whole text with PyYAML.
"""

from __future__ import annotations

import pytest

import mlgitops.yaml.reader
from mlgitops.errors import UserError
from mlgitops.yaml.engine import ENGINE_VARIABLE
from mlgitops.yaml.reader import AmbiguousText, load_documents

OBJECT = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c{index}\ndata:\n  k: v{index}\n"
ODD = {
    3: "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: odd\ndata:\n  on: yes\n  n: 012\n",
    5: "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: &a anchored\n  labels:\n    x: *a\n",
    7: "---\n# only a comment\n",
    8: "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: s\ndata:\n  script: |\n    echo 1\n",
}


def _stream(count: int = 10) -> str:
    texts = [ODD.get(index, OBJECT.format(index=index)) for index in range(count)]
    return "".join(text if text.startswith("---") else f"---\n{text}" for text in texts)


def _pyyaml(text: str, monkeypatch: pytest.MonkeyPatch) -> tuple[list[object], list[AmbiguousText]]:
    with monkeypatch.context() as patched:
        patched.setenv(ENGINE_VARIABLE, "pyyaml")
        notes: list[AmbiguousText] = []
        return load_documents(text, "s.yaml", notes), notes


def test_a_stream_with_a_few_odd_documents_reads_as_pyyaml_reads_it(monkeypatch: pytest.MonkeyPatch) -> None:
    text = _stream()
    whole: list[str] = []
    original = mlgitops.yaml.reader.iter_documents

    def counting(chunk: str, *args: object, **kwargs: object) -> object:
        whole.append(chunk)
        return original(chunk, *args, **kwargs)  # type: ignore[arg-type]

    expected, expected_notes = _pyyaml(text, monkeypatch)
    monkeypatch.setattr(mlgitops.yaml.reader, "iter_documents", counting)
    notes: list[AmbiguousText] = []

    assert load_documents(text, "s.yaml", notes) == expected
    assert notes == expected_notes
    assert {note.document for note in notes} == {3}
    # Only the documents the fast engine may not read went to PyYAML, each alone.
    assert len(whole) == 3
    assert all(len(chunk) < len(text) / 3 for chunk in whole)


@pytest.mark.parametrize(
    "broken",
    [
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n  name: y\n",  # duplicate key
        "apiVersion: v1\nkind: ConfigMap\ndata:\n  a: [1, 2\n",  # unclosed flow sequence
        "apiVersion: v1\nkind: ConfigMap\ndata:\n  on: yes\n  a: 0x_\n",  # a number PyYAML cannot build
    ],
)
def test_an_error_in_one_document_is_located_in_the_whole_stream(broken: str, monkeypatch: pytest.MonkeyPatch) -> None:
    text = _stream(6) + "---\n" + broken + _stream(3)
    with pytest.raises(UserError) as expected:
        _pyyaml(text, monkeypatch)
    with pytest.raises(UserError) as fast:
        load_documents(text, "s.yaml", [])
    assert str(fast.value) == str(expected.value)
    assert fast.value.location == expected.value.location
    assert fast.value.location is not None
    assert fast.value.location.line > 30
