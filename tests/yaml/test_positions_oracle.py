"""Positions of findings do not move: every field of real manifests located as the first implementation did.

The oracle below is mlgitops's locator before issue 30 (the whole file composed by PyYAML, the
document picked by index, mapping entries scanned in order), kept here verbatim in behaviour.
The production locator composes each document once and indexes mappings; it must answer every
path of every object in ../shared/real-manifests, and of hand-made multi-document streams, with
the same line and column, for keys and values, and for fields that are missing.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import pytest
import yaml

from mlgitops.errors import Location, UserError
from mlgitops.kube.manifest import Manifest, read_manifests
from mlgitops.yaml.reader import compose_all
from tests.support import shared_dir

Path_ = tuple[str | int, ...]


def _old_value(node: yaml.Node | None, key: str) -> yaml.Node | None:
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            if isinstance(key_node, yaml.ScalarNode) and key_node.value == key:
                found: yaml.Node = value_node
                return found
    return None


def _old_root(documents: list[yaml.Node], manifest: Manifest) -> yaml.Node | None:
    node: yaml.Node | None = documents[manifest.document] if manifest.document < len(documents) else None
    for segment in manifest.base_path:
        if isinstance(node, yaml.MappingNode):
            node = _old_value(node, str(segment))
        elif isinstance(node, yaml.SequenceNode) and isinstance(segment, int) and segment < len(node.value):
            node = node.value[segment]
    return node


def _old_locate(root: yaml.Node | None, file: str, path: Sequence[str | int], key: bool) -> Location:
    node = root
    if node is None:
        return Location(file, 1, 1)
    mark = node.start_mark
    key_mark = None
    for index, segment in enumerate(path):
        last = index == len(path) - 1
        found: yaml.Node | None = None
        if isinstance(node, yaml.MappingNode):
            for key_node, value_node in node.value:
                if isinstance(key_node, yaml.ScalarNode) and key_node.value == str(segment):
                    found = value_node
                    if last and key:
                        mark = key_node.start_mark
                        return Location(file, mark.line + 1, mark.column + 1)
                    key_mark = key_node.start_mark
                    break
        elif isinstance(node, yaml.SequenceNode) and isinstance(segment, int) and 0 <= segment < len(node.value):
            found = node.value[segment]
            key_mark = None
        if found is None:
            if key and key_mark is not None:
                mark = key_mark
            break
        node = found
        mark = node.start_mark
    return Location(file, mark.line + 1, mark.column + 1)


def _old_written(root: yaml.Node | None, path: Sequence[str | int]) -> str | None:
    node = root
    for segment in path:
        if isinstance(node, yaml.MappingNode):
            node = _old_value(node, str(segment))
        elif isinstance(node, yaml.SequenceNode) and isinstance(segment, int) and 0 <= segment < len(node.value):
            node = node.value[segment]
        else:
            return None
    if not isinstance(node, yaml.ScalarNode):
        return None
    if node.style in ("'", '"'):
        return f"{node.style}{node.value}{node.style}"
    return str(node.value)


def _paths(value: Any, prefix: Path_ = ()) -> Iterator[Path_]:
    """Every field of an object, and one missing field below every mapping and past every list."""
    yield prefix
    if isinstance(value, dict):
        yield (*prefix, "not-there")
        yield (*prefix, "not-there", "deeper")
        for key, child in value.items():
            yield from _paths(child, (*prefix, key if isinstance(key, (str, int)) else str(key)))
    elif isinstance(value, list):
        yield (*prefix, len(value))
        for index, child in enumerate(value):
            yield from _paths(child, (*prefix, index))


def _compare(text: str, file: str) -> int:
    """Every path of every object of ``text`` located both ways; returns how many were compared."""
    try:
        manifests = read_manifests(text, file, strict=False).manifests
    except UserError:
        return 0
    documents = compose_all(text)
    compared = 0
    for manifest in manifests:
        root = _old_root(documents, manifest)
        for path in _paths(manifest.obj):
            for key in (False, True):
                assert manifest.locate(path, key=key) == _old_locate(root, file, path, key), (file, manifest.document, path, key)
            assert manifest.written(path) == _old_written(root, path), (file, path)
            compared += 1
    return compared


@pytest.mark.needs_shared
def test_every_field_of_the_real_manifests_is_where_it_was() -> None:
    folder = shared_dir() / "real-manifests"
    files = sorted(p for p in folder.rglob("*") if p.suffix in (".yaml", ".yml"))
    compared = sum(_compare(p.read_text(encoding="utf-8", errors="replace"), p.name) for p in files)
    assert len(files) > 400
    assert compared > 30_000


STREAMS = {
    "preamble comment, explicit documents": "# a bundle\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n"
    "data:\n  x: '1'\n---\n---\napiVersion: v1\nkind: Secret\nmetadata: {name: b}\n",
    "implicit first document": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n---\n"
    "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: b\n"
    "- apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: c\n  data:\n    k: yes\n",
    "content on the marker line": "--- \napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n"
    '--- # the second\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: b\n  labels:\n    a: "x"\n',
    "block scalar and a multi-line quoted value": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n"
    'data:\n  script: |\n    echo hi\n    --- not a marker\n  note: "one\n    two"\n---\n'
    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: b\ndata:\n  on: 'x'\n  1: 'y'\n",
    "end markers and directives (whole text)": "%YAML 1.1\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n"
    "  name: a\n...\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: b\n",
    "anchors": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: &n a\n  labels:\n    app: *n\n---\n"
    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: b\n",
}


@pytest.mark.parametrize("text", list(STREAMS.values()), ids=list(STREAMS))
def test_every_field_of_a_stream_is_where_it_was(text: str) -> None:
    assert _compare(text, "stream.yaml") > 10


def test_many_objects_in_one_file_keep_their_positions() -> None:
    text = "".join(
        f"---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c{i}\ndata:\n"
        + "".join(f"  k{j}: 'v'\n" for j in range(i % 7))
        for i in range(60)
    )
    assert _compare(text, "many.yaml") > 60 * 6
