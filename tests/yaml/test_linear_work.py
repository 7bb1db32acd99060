"""Lint's work is linear in objects per file and findings per object: counted, not timed (issue 30).

Each test lints in this process and counts what the slow steps do: how many texts libyaml
composes to find positions and how many characters they hold, how often the fast engine parses,
how often a finding is located and how many mapping entries are indexed. Before issue 30 every
object of a multi-document file composed the whole file again (characters composed grew with the
square of the objects), and each finding scanned its mapping's entries one by one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

import mlgitops.yaml.fast_reader
import mlgitops.yaml.positions
from mlgitops.kube.manifest import Manifest
from mlgitops.yaml.positions import TextPositions
from tests.support import run_in_process, write

DEPLOYMENT = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: app-{index}
  namespace: team-a
spec:
  selector:
    matchLabels:
      app: app-{index}
  template:
    metadata:
      labels:
        app: app-{index}
    spec:
      containers:
      - name: main
        image: ghcr.io/acme/app:1.0.{index}
"""


@dataclass
class Work:
    compositions: int = 0
    composed_characters: int = 0
    parses: int = 0
    located: int = 0
    lookups: int = 0
    positions: list[TextPositions] = field(default_factory=list)

    @property
    def indexed(self) -> int:
        return sum(positions.indexed for positions in self.positions)


@pytest.fixture
def work(monkeypatch: pytest.MonkeyPatch) -> Work:
    counted = Work()

    def counting(function: Callable[..., Any], counter: Callable[..., None]) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            counter(*args, **kwargs)
            return function(*args, **kwargs)

        return wrapper

    def composed(text: str) -> None:
        counted.compositions += 1
        counted.composed_characters += len(text)

    def parsed(*_: Any) -> None:
        counted.parses += 1

    def located(*_: Any, **__: Any) -> None:
        counted.located += 1

    def looked_up(*_: Any) -> None:
        counted.lookups += 1

    original_init = TextPositions.__init__

    def init(self: TextPositions, text: str) -> None:
        original_init(self, text)
        counted.positions.append(self)

    monkeypatch.setattr(
        mlgitops.yaml.positions, "compose_positions", counting(mlgitops.yaml.positions.compose_positions, composed)
    )
    monkeypatch.setattr(mlgitops.yaml.fast_reader, "read", counting(mlgitops.yaml.fast_reader.read, parsed))
    monkeypatch.setattr(Manifest, "locate", counting(Manifest.locate, located))
    monkeypatch.setattr(TextPositions, "entry", counting(TextPositions.entry, looked_up))
    monkeypatch.setattr(TextPositions, "__init__", init)
    return counted


def _findings(stdout: str) -> int:
    return sum(1 for line in stdout.splitlines() if ": error " in line or ": warning " in line or ": info " in line)


def _lint(path: Path) -> int:
    result = run_in_process("lint", "--format", "text", str(path))
    assert result.exit_code == 1, result.stderr
    return _findings(result.stdout)


@pytest.mark.parametrize("count", [10, 40])
def test_one_file_of_many_objects_composes_each_character_once(tmp_path: Path, work: Work, count: int) -> None:
    text = "---\n".join(DEPLOYMENT.format(index=index) for index in range(count))
    path = write(tmp_path / "bundle.yaml", text)

    findings = _lint(path)

    assert findings >= 3 * count  # every Deployment has several findings, so every document is located in
    assert work.parses == 1
    assert work.compositions == count  # each document composed once, alone
    assert work.composed_characters <= len(text)
    assert len({id(positions) for positions in work.positions}) == 1  # one per file, shared by its objects
    assert work.located <= findings + count  # a locate per finding (and per waiver key)


def test_the_same_objects_in_one_file_or_in_many_do_the_same_work(tmp_path: Path, work: Work) -> None:
    count = 30
    texts = [DEPLOYMENT.format(index=index) for index in range(count)]
    write(tmp_path / "one" / "bundle.yaml", "---\n".join(texts))
    for index, text in enumerate(texts):
        write(tmp_path / "many" / f"app-{index}.yaml", text)

    one_findings = _lint(tmp_path / "one")
    one = (work.compositions, work.composed_characters, work.located)
    work.compositions = work.composed_characters = work.located = 0
    many_findings = _lint(tmp_path / "many")

    assert one_findings == many_findings
    assert one[0] == work.compositions == count
    assert one[1] <= work.composed_characters + 4 * count  # the `---` lines
    assert one[2] == work.located


@pytest.mark.parametrize("values", [200, 800])
def test_findings_in_one_object_are_located_with_one_lookup_each(tmp_path: Path, work: Work, values: int) -> None:
    body = "".join(f"  k{index}: yes\n" for index in range(values))
    text = f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n  namespace: a\ndata:\n{body}"
    path = write(tmp_path / "configmap.yaml", text)

    findings = _lint(path)

    assert findings >= 2 * values  # the ambiguity rule and the schema both report each value
    assert work.compositions == 1
    assert work.composed_characters == len(text)
    assert work.located <= findings + 10
    # Each located or worded finding walks its path (data, kN): a few lookups, never a scan of the mapping.
    assert work.lookups <= 4 * 2 * findings
    assert work.indexed <= values + 20  # the data mapping indexed once, whatever the number of findings
