"""Round-trip safety of `set`/`promote` edits over a corpus of environment files written in every style.

tests/edit/corpus/ holds files with comments on every line, anchors and aliases, merge keys,
flow and block collections, quoted and plain scalars, four-space and flush indentation, a
document start without a final newline, and a layered base/dev/prod chain; each case also
runs with CRLF line endings. Every edit must change only the lines it means to (the exact
diff is a snapshot), leave the file editable again, load to the same model apart from the
edited values, and, where the edit replaces a value, give back the original bytes when the
old value is set again. tests/edit/corpus/refused/ holds files that cannot be written back
byte for byte: each is refused at the line its first comment names, and never written.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from syrupy.assertion import SnapshotAssertion

from mlgitops.edit import requests
from mlgitops.edit.layers import Change
from mlgitops.edit.promotion import promotion
from mlgitops.edit.roundtrip import load
from mlgitops.edit.session import Edit, apply, load_fleet
from mlgitops.errors import UserError
from mlgitops.output.file_diff import file_diff
from mlgitops.spec.paths import Item, changed_leaves, indices
from mlgitops.yaml.source import locate
from tests.support import REPO

CORPUS = REPO / "tests" / "edit" / "corpus"

Request = Callable[[dict[str, Any]], list[Change]]


@dataclass(frozen=True)
class Case:
    source: str
    """A corpus file (its stem is the environment) or folder."""
    environment: str
    request: Request
    in_base: bool = False
    refused: str | None = None
    """The start of the located one-line error the edit must give instead."""
    restores: bool = False
    """Setting the old value again must give back the original bytes."""


def image(workload: str, value: str, environment: str) -> Request:
    return lambda fleet: requests.image_changes(fleet[environment], workload, value)


def model(workload: str, value: str, environment: str) -> Request:
    return lambda fleet: requests.model_changes(fleet[environment], workload, value)


def replicas(workload: str, environment: str, count: int | None = None, minimum: int | None = None) -> Request:
    return lambda fleet: requests.replica_changes(fleet[environment], workload, count, minimum, None)


def resources(workload: str, environment: str, *pairs: str) -> Request:
    return lambda fleet: requests.resource_changes(fleet[environment], workload, pairs)


CASES: dict[str, Case] = {
    "comments-image": Case("comments", "comments", image("serve", "registry.example/serve:1.1", "comments"), restores=True),
    "comments-replicas": Case("comments", "comments", replicas("serve", "comments", 3)),
    "comments-resources": Case("comments", "comments", resources("train", "comments", "cpu=3", "limits.memory=8Gi")),
    "comments-second-workload": Case("comments", "comments", image("train", "registry.example/train:2.0", "comments")),
    "anchors-alias-replaced": Case("anchors", "anchors", image("serve-b", "registry.example/serve:2.0", "anchors")),
    "anchors-anchor-refused": Case(
        "anchors",
        "anchors",
        image("serve-a", "registry.example/serve:2.0", "anchors"),
        refused="environments/anchors.yaml:7:5: workloads[serve-a].image is shared through the YAML anchor &serve-image",
    ),
    "anchors-shared-mapping-refused": Case(
        "anchors",
        "anchors",
        resources("serve-b", "anchors", "cpu=2"),
        refused="environments/anchors.yaml:16:5: workloads[serve-b].resources is shared through the YAML anchor &small",
    ),
    "anchors-insert": Case("anchors", "anchors", replicas("serve-a", "anchors", 2)),
    "flow-image": Case("flow", "flow", image("serve", "registry.example/serve:1.1", "flow"), restores=True),
    "flow-insert": Case("flow", "flow", replicas("serve", "flow", 2)),
    "flow-resources": Case("flow", "flow", resources("nightly", "flow", "cpu=3", "limits.memory=8Gi")),
    "flow-single-quoted": Case("flow", "flow", image("nightly", "registry.example/batch:1.1", "flow"), restores=True),
    "quoting-double": Case("quoting", "quoting", image("train", "registry.example/train:1.1", "quoting"), restores=True),
    "quoting-single": Case("quoting", "quoting", resources("train", "quoting", "cpu=4"), restores=False),
    "quoting-number-becomes-text": Case("quoting", "quoting", resources("serve", "quoting", "cpu=2", "memory=4Gi")),
    "indent-four-nested": Case("indent-four", "indent-four", resources("serve", "indent-four", "limits.cpu=2")),
    "indent-four-insert": Case("indent-four", "indent-four", replicas("serve", "indent-four", 2)),
    "indent-four-image": Case(
        "indent-four", "indent-four", image("serve", "registry.example/serve:1.1", "indent-four"), restores=True
    ),
    "flush-insert": Case("sequences-flush", "sequences-flush", replicas("serve", "sequences-flush", 2)),
    "flush-resources": Case("sequences-flush", "sequences-flush", resources("train", "sequences-flush", "limits.cpu=")),
    "merge-key-override": Case("merge-key", "merge-key", image("serve-b", "registry.example/serve:2.0", "merge-key")),
    "merge-key-source-refused": Case(
        "merge-key",
        "merge-key",
        image("serve-a", "registry.example/serve:2.0", "merge-key"),
        refused="environments/merge-key.yaml:4:5: workloads[serve-a] is shared through the YAML anchor &serve-defaults",
    ),
    "merge-key-merged-refused": Case(
        "merge-key",
        "merge-key",
        resources("serve-b", "merge-key", "cpu=2"),
        refused="environments/merge-key.yaml:10:5: workloads[serve-b].resources comes from a YAML merge key (<<)",
    ),
    "document-start-image": Case(
        "document-start", "document-start", image("serve", "registry.example/serve:1.1", "document-start"), restores=True
    ),
    "document-start-insert": Case("document-start", "document-start", replicas("serve", "document-start", 2)),
    "model-flow-version": Case("model", "model", model("classifier", "8", "model")),
    "model-block-alias": Case("model", "model", model("ranker", "challenger", "model")),
    "model-autoscaling": Case("model", "model", replicas("ranker", "model", minimum=2)),
    "model-image-added": Case("model", "model", image("classifier", "registry.example/custom-serving:1.0", "model")),
    "layered-override-added": Case("layered", "dev", image("serve", "registry.example/serve:1.1", "dev")),
    "layered-override-replaced": Case(
        "layered",
        "prod",
        image("serve", "@sha256:2222222222222222222222222222222222222222222222222222222222222222", "prod"),
        restores=True,
    ),
    "layered-version": Case("layered", "prod", model("classifier", "8", "prod"), restores=True),
    "layered-alias-over-delete-marker": Case("layered", "prod", model("classifier", "challenger", "prod")),
    "layered-version-over-inherited-alias": Case("layered", "dev", model("classifier", "9", "dev")),
    "layered-in-base": Case("layered", "dev", image("serve", "registry.example/serve:1.1", "dev"), in_base=True),
    "layered-in-base-refused": Case(
        "layered",
        "prod",
        image("serve", "registry.example/serve:1.1", "prod"),
        in_base=True,
        refused="environments/prod.yaml:7:16: workloads[serve].image is set in environments/prod.yaml itself",
    ),
    "layered-replicas-replaced": Case("layered", "prod", replicas("serve", "prod", 5), restores=True),
    "layered-resources-added": Case("layered", "prod", resources("serve", "prod", "cpu=2")),
    "block-scalars-image": Case("block-scalars", "block-scalars", image("train", ":1.1", "block-scalars"), restores=True),
    "block-scalars-literal": Case(
        "block-scalars",
        "block-scalars",
        lambda fleet: [Change(("workloads", Item("train"), "env", Item("CONFIG"), "value"), "epochs: 10\nlr: 0.2\n")],
        restores=True,
    ),
    "llm-model-version-is-the-download-uri": Case(
        "llm", "prod", model("chat", "hf://meta-llama/Llama-3.1-8B-Instruct@5206a32", "prod")
    ),
    "llm-downloader-image": Case(
        "llm", "staging", lambda fleet: requests.image_changes(fleet["staging"], "chat", ":1.1", "model.download")
    ),
    "llm-promote": Case("llm", "prod", lambda fleet: promotion(fleet["staging"], fleet["prod"], (), ()).changes),
    "layered-new-item-before-closing-comment": Case("layered", "qa", model("classifier", "5", "qa")),
    "layered-quoted-key-file": Case("layered", "qa", image("serve", ":2.0", "qa")),
    "layered-empty-flow-list": Case("layered", "sandbox", image("serve", ":2.0", "sandbox")),
}


def _fleet(tmp_path: Path, source: str, crlf: bool) -> Path:
    folder = tmp_path / "environments"
    folder.mkdir(parents=True)
    origin = CORPUS / source
    files = sorted(origin.glob("*.yaml")) if origin.is_dir() else [CORPUS / f"{source}.yaml"]
    for path in files:
        text = path.read_bytes()
        (folder / path.name).write_bytes(text.replace(b"\n", b"\r\n") if crlf else text)
    return folder


def _run(folder: Path, case: Case) -> Edit:
    fleet = load_fleet(folder)
    return apply(folder, case.environment, case.request(fleet[0]), in_base=case.in_base, fleet=fleet)


def _diff(edit: Edit, folder: Path) -> str:
    return "".join(
        file_diff(path.relative_to(folder.parent).as_posix(), path.relative_to(folder.parent).as_posix(), old, new)
        for path, (old, new) in sorted(edit.texts.items())
    )


@pytest.mark.parametrize("name", [name for name, case in CASES.items() if case.refused is None])
def test_an_edit_changes_only_the_lines_it_means_to_also_with_crlf(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, snapshot: SnapshotAssertion
) -> None:
    case = CASES[name]
    monkeypatch.chdir(tmp_path)
    folder = _fleet(tmp_path, case.source, crlf=False)
    edit = _run(folder, case)
    assert edit.texts, "the case must change something"
    assert _diff(edit, folder) == snapshot
    requested = [applied.path for applied in edit.applied]
    for environment, after in edit.after.items():
        changed = changed_leaves(edit.before[environment].tree.plain(), after.tree.plain())
        if environment == case.environment or case.in_base:
            # Only the requested values (and what they contain) differ in the loaded model.
            assert all(any(path[: len(wanted)] == wanted for wanted in requested) for path in changed), changed
        else:
            assert changed == []
    assert edit.after[case.environment].spec != edit.before[case.environment].spec
    for path, (_, new) in edit.texts.items():
        # The edited file is still one mlgitops can edit: it round-trips byte for byte.
        assert load(new, path.name).dump() == new
    # The same files with CRLF line endings get the same edit, with CRLF line endings.
    crlf = _run(_fleet(tmp_path / "crlf", case.source, crlf=True), case)
    assert {path.name: new for path, (_, new) in crlf.texts.items()} == {
        path.name: new.replace("\n", "\r\n") for path, (_, new) in edit.texts.items()
    }


def test_a_byte_order_mark_and_crlf_stay(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    case = CASES["quoting-double"]
    plain = _run(_fleet(tmp_path / "lf", case.source, crlf=False), case)
    folder = _fleet(tmp_path / "bom", case.source, crlf=True)
    (folder / "quoting.yaml").write_bytes(b"\xef\xbb\xbf" + (folder / "quoting.yaml").read_bytes())
    marked = _run(folder, case)
    (_, (_, expected)), ((_, (_, got))) = *plain.texts.items(), *marked.texts.items()
    assert got == "\ufeff" + expected.replace("\n", "\r\n")


@pytest.mark.parametrize("name", [name for name, case in CASES.items() if case.restores])
def test_setting_the_old_value_again_gives_back_the_original_bytes(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    case = CASES[name]
    monkeypatch.chdir(tmp_path)
    folder = _fleet(tmp_path, case.source, crlf=False)
    originals = {path: path.read_bytes() for path in folder.iterdir()}
    edit = _run(folder, case)
    for path, (_, new) in edit.texts.items():
        path.write_bytes(new.encode())
    back = [Change(applied.path, applied.before) for applied in edit.applied]
    undone = apply(folder, case.environment, back, in_base=case.in_base)
    for path, (_, new) in undone.texts.items():
        path.write_bytes(new.encode())
    assert {path: path.read_bytes() for path in folder.iterdir()} == originals


@pytest.mark.parametrize("name", [name for name, case in CASES.items() if case.refused])
def test_an_edit_that_would_change_a_shared_value_is_refused_at_its_line(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    case = CASES[name]
    monkeypatch.chdir(tmp_path)
    folder = _fleet(tmp_path, case.source, crlf=False)
    with pytest.raises(UserError) as raised:
        _run(folder, case)
    assert raised.value.one_line().startswith(str(case.refused)), raised.value.one_line()


REFUSED = sorted((CORPUS / "refused").glob("*.yaml"))


@pytest.mark.parametrize("path", REFUSED, ids=[path.stem for path in REFUSED])
def test_files_that_cannot_round_trip_exactly_are_refused_where_they_would_change(
    path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    expected = path.read_text().splitlines()[0].removeprefix("# expect: ")
    where, _, message = expected.partition(" ")
    folder = tmp_path / "environments"
    folder.mkdir()
    shutil.copy(path, folder / "case.yaml")
    fleet = load_fleet(folder)
    with pytest.raises(UserError) as raised:
        apply(folder, "case", requests.image_changes(fleet[0]["case"], "serve", "registry.example/serve:2.0"), fleet=fleet)
    assert raised.value.one_line().startswith(f"environments/case.yaml:{where}: cannot edit this file"), raised.value.one_line()
    assert message in raised.value.one_line()


def test_mixed_line_endings_are_refused_at_the_first_lf_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    folder = _fleet(tmp_path, "comments", crlf=True)
    text = (folder / "comments.yaml").read_bytes().replace(b"kind: training\r\n", b"kind: training\n")
    (folder / "comments.yaml").write_bytes(text)
    fleet = load_fleet(folder)
    with pytest.raises(UserError, match=r"comments.yaml:22:19: mixed line endings"):
        apply(
            folder, "comments", requests.image_changes(fleet[0]["comments"], "serve", "registry.example/serve:2.0"), fleet=fleet
        )


def test_the_corpus_is_every_style_it_claims() -> None:
    texts = {path.name: path.read_text() for path in CORPUS.rglob("*.yaml")}
    claims = [
        ("anchors.yaml", "&serve-image"),
        ("anchors.yaml", "*small"),
        ("merge-key.yaml", "<<: *serve-defaults"),
        ("flow.yaml", "- {name: serve"),
        ("flow.yaml", "'registry.example/batch:1.0'"),
        ("flow.yaml", '"registry.example/serve:1.0"'),
        ("indent-four.yaml", "\n-   name: serve"),
        ("sequences-flush.yaml", "\n- name: serve"),
        ("comments.yaml", "   # bumped by renovate"),
    ]
    assert [(name, text) for name, text in claims if text not in texts[name]] == []
    assert texts["document-start.yaml"].startswith("---\n")
    assert not texts["document-start.yaml"].endswith("\n")


SOURCES = {
    "example-fleet": REPO / "environments",
    "init-scaffold": REPO / "generator" / "scaffold" / "environments",
    "corpus-layered": CORPUS / "layered",
    "corpus-llm": CORPUS / "llm",
    **{f"corpus-{path.stem}": path for path in sorted(CORPUS.glob("*.yaml"))},
}


@pytest.mark.parametrize("source", sorted(SOURCES))
def test_setting_any_workloads_image_touches_its_image_line_or_adds_an_override(
    source: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every workload of every environment: one image line replaced, or only override lines added, nothing else."""
    monkeypatch.chdir(tmp_path)
    folder = tmp_path / "environments"
    origin = SOURCES[source]
    if origin.is_dir():
        shutil.copytree(origin, folder)  # with the files environments name (ConfigMaps from files)
    else:
        folder.mkdir()
        shutil.copy(origin, folder / origin.name)
    fleet = load_fleet(folder)
    edited = 0
    refused: list[str] = []
    for environment, loaded in sorted(fleet[0].items()):
        # One workload of each kind and each way its image is written (here, in a base, nowhere) per environment.
        seen: set[tuple[object, str | None]] = set()
        plain = loaded.tree.plain()
        for spec in plain.get("workloads", []):
            name = spec["name"]
            image_path = ("workloads", Item(name), "image")
            written = locate(loaded.tree, indices(plain, image_path))[0].file if "image" in spec else None
            if (spec.get("kind"), written) in seen:
                continue
            seen.add((spec.get("kind"), written))
            given = ":9.9.9" if spec.get("image") else "registry.example/new:9.9.9"
            try:
                edit = apply(folder, environment, requests.image_changes(loaded, name, given), fleet=fleet)
            except UserError as error:
                refused.append(error.one_line())
                continue
            (_, (old, new)), *others = edit.texts.items()
            assert others == []
            image = edit.applied[0].after
            removed = [line for line in old.splitlines() if line not in new.splitlines()]
            added = [line for line in new.splitlines() if line not in old.splitlines()]
            assert len(removed) <= 1, removed
            # The old image line (an alias `*name`, a flow mapping), or an empty `workloads: []` that gets its first item.
            assert all(re.search(r"(^|\s|\{)(image: |workloads: \[\])", line) for line in removed), removed
            structural = re.compile(rf"^\s*(-\s+name: {re.escape(name)}|workloads:.*)$")
            assert all(image in line or structural.match(line) for line in added), added
            assert image in new.splitlines()[edit.applied[0].location.line - 1]
            edited += 1
    assert edited or refused
    assert [line for line in refused if "is shared through" not in line] == []  # anchors: refused, never half-done
