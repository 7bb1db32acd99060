"""fleet/sources.py: which environment file a rendered finding comes from, found once per file and environment.

The output of every format is covered in tests/output/test_source_locations.py; here, the work it takes and which
environment files it reads: a header read once per file (not once per document of a stream), the environment
beside the rendered tree before one of the same name in the working directory, and two environments shared
between two processes with exactly the serial result.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from mlgitops.fleet import sources
from mlgitops.inputs import generated
from mlgitops.inputs.generated import EnvironmentFiles, generated_files
from mlgitops.kube.manifest import load_manifests
from mlgitops.policy.model import Finding
from mlgitops.policy.severity import Severity
from mlgitops.processes import parallel
from mlgitops.yaml.writer import generated_from, header
from tests.support import REPO, lint_findings, run_in_process

HEADER = header("environments/prod.yaml")


def _configmaps(count: int) -> str:
    return "---\n".join(f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c{n}\n  namespace: ml\n" for n in range(count))


def test_the_header_is_the_first_line_only() -> None:
    assert generated_from(HEADER + "kind: ConfigMap\n") == "environments/prod.yaml"
    assert generated_from(HEADER.rstrip("\n")) == "environments/prod.yaml"
    assert generated_from("kind: ConfigMap\n" + HEADER) is None
    assert generated_from("") is None


def test_a_stream_of_documents_reads_its_header_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each document of a stream keeps the whole stream's text: reading the header per document was quadratic
    (`lint -` of the N = 1000 fleet as one 13.7 MB stream: 6.3 of 15 s)."""
    text = HEADER + _configmaps(2000)
    manifests = load_manifests(text, "<stdin>")
    assert len(manifests) == 2000
    read: list[int] = []

    def counted(text: str) -> str | None:
        read.append(len(text))
        return generated_from(text)

    monkeypatch.setattr(generated, "generated_from", counted)
    assert generated_files(manifests) == {"<stdin>": ("environments/prod.yaml", 2000)}
    assert len(read) == 1


def test_no_environment_file_at_hand_leaves_findings_as_they_are(tmp_path: Path) -> None:
    manifests = load_manifests(HEADER + _configmaps(3), str(tmp_path / "c.yaml"))
    finding = Finding("r", Severity.ERROR, "m", manifests[0].ref, manifests[0].locate(()))
    files = EnvironmentFiles(generated_files(manifests), [str(tmp_path)])
    assert sources.with_environment_sources([finding], files, [None], {}) == [finding]


@pytest.fixture(scope="module")
def two_repositories(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The example fleet with a bad hand edit in two environments' rendered files, in a folder of its own inside
    another repository (the working directory) whose environments/ holds different files of the same names."""
    outer = tmp_path_factory.mktemp("outer")
    subprocess.run(["git", "init", "-q", str(outer)], check=True)
    (outer / "environments").mkdir()
    for name in ("base", "dev", "staging", "prod"):
        (outer / "environments" / f"{name}.yaml").write_text("# another fleet's file of the same name\n")
    fleet = outer / "fleet"
    shutil.copytree(REPO / "environments", fleet / "environments")
    shutil.copytree(REPO / "rendered", fleet / "rendered")
    for environment in ("prod", "staging"):
        for path in sorted((fleet / "rendered" / environment).glob("deployment-*.yaml")):
            text = path.read_text()
            if "runAsUser: 1000" in text:
                path.write_text(text.replace("runAsUser: 1000", "runAsUser: 0", 1))
    return outer, fleet


def _sourced(outer: Path, fleet: Path) -> list[dict[str, object]]:
    result = run_in_process("lint", str(fleet / "rendered"), "--kubernetes-version", "1.34", "-o", "json", cwd=outer)
    assert result.exit_code == 1, result.stderr
    return [f for f in lint_findings(result.stdout) if f["rule"] == "security-non-root"]


def test_the_environments_beside_the_rendered_tree_are_the_ones_read(two_repositories: tuple[Path, Path]) -> None:
    outer, fleet = two_repositories
    found = _sourced(outer, fleet)
    assert {f["location"]["file"].split("/")[-2] for f in found} == {"prod", "staging"}  # type: ignore[index]
    for finding in found:
        source = finding["source"]
        assert isinstance(source, dict), finding
        assert source["file"].startswith("fleet/environments/"), source


def test_environments_in_two_processes_give_the_serial_result(
    two_repositories: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    outer, fleet = two_repositories
    monkeypatch.setenv(parallel.SERIAL_SWITCH, "1")
    serial = _sourced(outer, fleet)
    monkeypatch.delenv(parallel.SERIAL_SWITCH)
    monkeypatch.setattr(parallel, "_cores", lambda: 2)
    monkeypatch.setattr(sources, "SOURCES_IN_TWO_FROM", 0)
    split = _sourced(outer, fleet)
    assert split == serial
    assert len({f["location"]["file"].split("/")[-2] for f in split}) == 2  # type: ignore[index]


def test_environments_of_one_folder_are_loaded_together(
    two_repositories: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Loading one environment reads every file of its folder: loaded one by one, prod and staging parsed the
    folder's four files twice (the N = 1000 benchmark's 654 KB base three times)."""
    import mlgitops.load.environments as environments

    outer, fleet = two_repositories
    parsed: list[str] = []
    original = environments.parse_layer

    def counted(text: str, path: Path) -> object:
        parsed.append(path.name)
        return original(text, path)

    monkeypatch.setattr(environments, "parse_layer", counted)
    monkeypatch.setenv(parallel.SERIAL_SWITCH, "1")
    found = _sourced(outer, fleet)
    assert {f["location"]["file"].split("/")[-2] for f in found} == {"prod", "staging"}  # type: ignore[index]
    assert sorted(parsed) == sorted(path.name for path in (fleet / "environments").glob("*.yaml"))


def test_split_environments_find_their_files_parsed_ahead(
    two_repositories: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Each process that renders environments for sources parsed the folder's files itself (the N = 1000
    benchmark's 650 KB base in both, 0.7 s each): they are now parsed once, in this process, while the other
    checks policies, and every process finds them parsed."""
    import mlgitops.load.environments as environments
    from mlgitops.policy import engine

    outer, fleet = two_repositories
    log = tmp_path / "parsed.log"
    original = environments.parse_layer

    def counted(text: str, path: Path) -> object:
        with log.open("a") as stream:  # appends from both processes
            stream.write(f"{path.name}\n")
        return original(text, path)

    monkeypatch.setattr(environments, "parse_layer", counted)
    monkeypatch.setattr(parallel, "_cores", lambda: 2)
    monkeypatch.setattr(sources, "SOURCES_IN_TWO_FROM", 0)
    monkeypatch.setattr(engine, "EVALUATE_IN_TWO_FROM", 0)
    # The parse comes after this process's first violation: which process claims the rule that finds one varies,
    # so the policy step's child leaves at once here (its share is then checked in this process, as on a failure).
    monkeypatch.setattr(parallel, "_claiming_child", _leaving)
    found = _sourced(outer, fleet)
    assert {f["location"]["file"].split("/")[-2] for f in found} == {"prod", "staging"}  # type: ignore[index]
    assert sorted(log.read_text().split()) == sorted(path.name for path in (fleet / "environments").glob("*.yaml"))


def _leaving(*_: object) -> None:  # pragma: no cover - runs in a forked child
    os._exit(1)


def test_parse_layers_reads_what_loading_reads_up_to_a_size(tmp_path: Path) -> None:
    from mlgitops.load.environments import parse_layers

    folder = tmp_path / "environments"
    folder.mkdir()
    (folder / "base.yaml").write_text("abstract: true\nnamespace: ml\n")
    (folder / "prod.yaml").write_text("extends: base.yaml\n")
    (folder / "broken.yaml").write_text("workloads: [\n")  # left for loading to report, located
    (tmp_path / "outside.yaml").write_text("namespace: secret\n")
    (folder / "linked.yaml").symlink_to(tmp_path / "outside.yaml")  # never read: it leads out of the folder
    layers: dict[Path, object] = {}
    parse_layers(folder, layers, max_bytes=10_000)  # type: ignore[arg-type]
    assert sorted(path.name for path in layers) == ["base.yaml", "prod.yaml"]
    few: dict[Path, object] = {}
    parse_layers(folder, few, max_bytes=20)  # type: ignore[arg-type]
    assert few == {}
    parse_layers(tmp_path / "missing", few, max_bytes=10_000)  # type: ignore[arg-type]
    assert few == {}


def test_a_container_added_by_hand_gets_no_source_and_the_workloads_own_keeps_it(tmp_path: Path) -> None:
    """A finding's path names list items by index: a container added at index 0 shifted the workload's own, and its
    findings were blamed on the workload's container 0 in the environment file (found by a new-user test)."""
    shutil.copytree(REPO / "environments", tmp_path / "environments")
    shutil.copytree(REPO / "rendered", tmp_path / "rendered")
    deployment = tmp_path / "rendered" / "prod" / "deployment-resnet-serve.yaml"
    text = deployment.read_text()
    pinned = next(word for word in text.split() if word.startswith("ghcr.io/acme/resnet-serve:1.4.2@sha256:"))
    text = text.replace(pinned, "ghcr.io/acme/resnet-serve:1.4.2")  # the workload's own container: a source
    debug = "      - name: debug\n        image: busybox:1.36\n"
    deployment.write_text(text.replace("      containers:\n", "      containers:\n" + debug, 1))
    result = run_in_process("lint", "rendered/prod", "-o", "json", cwd=tmp_path)
    assert result.exit_code == 1, result.stderr
    digests = {f["message"].split("'")[1]: f for f in lint_findings(result.stdout) if f["rule"] == "image-digest"}
    assert digests["debug"]["source"] is None
    assert digests["resnet-serve"]["source"]["file"] == "environments/prod.yaml"
    on_deployment = [f for f in lint_findings(result.stdout) if f["location"]["file"].endswith(deployment.name)]
    about_debug = [f for f in on_deployment if "'debug'" in f["message"]]
    assert about_debug
    assert all(f["source"] is None for f in about_debug)


def test_a_field_is_found_in_the_rendered_object_by_the_names_of_its_list_items() -> None:
    rendered = {"spec": {"containers": [{"name": "main", "env": [{"name": "A"}, {"name": "B"}]}], "args": ["x", "y"]}}
    linted = {"spec": {"containers": [{"name": "debug"}, {"name": "main", "env": [{"name": "B"}]}], "args": ["x", "y"]}}
    path = ("spec", "containers", 1, "env", 0, "value")
    names = sources.item_names(linted, path)
    assert names == ("main", "B")
    assert sources.rendered_path(rendered, path, names) == ("spec", "containers", 0, "env", 1, "value")
    debug = ("spec", "containers", 0, "image")
    assert sources.rendered_path(rendered, debug, sources.item_names(linted, debug)) is None
    assert sources.rendered_path(rendered, ("spec", "args", 1), (None,)) == ("spec", "args", 1)
    assert sources.rendered_path(rendered, ("spec", "containers", 0), (None,)) is None  # named there, not here


PREPARED_DURING_CHECKS = """
import os
import sys
from mlgitops.policy import engine
from mlgitops.processes import parallel

parallel._cores = lambda: 2
engine.EVALUATE_IN_TWO_FROM = 0  # the example fleet is small: split it as a large one would be
# Which process claims the rule that finds a violation varies: the child leaves at once (its share is then checked
# here, as when a child fails), so that this process sees every violation.
parallel._claiming_child = lambda *arguments: os._exit(1)
seen = []
shared = engine.map_shared

def recording(function, items, weights, min_weight, advance, ahead):
    seen.append(("before", "mlgitops.spec" in sys.modules, ahead is not None))
    results = shared(function, items, weights, min_weight, advance, ahead)
    seen.append(("after", "mlgitops.spec" in sys.modules, ahead is not None))
    return results

engine.map_shared = recording
from mlgitops.cli import main
try:
    main(["lint", "-q", "-o", "json", *sys.argv[1:]])
except SystemExit:
    pass
seen.append(("end", "mlgitops.spec" in sys.modules))
print(seen, file=sys.stderr)
"""


@pytest.mark.parametrize(
    ("targets", "traceable", "prepared"),
    [
        (["rendered/prod"], True, True),
        (["rendered/dev"], True, False),
        (["rendered/dev", "tests/manifests"], True, False),
        (["tests/manifests"], False, False),
    ],
)
def test_what_sources_need_is_imported_while_policies_are_checked(targets: list[str], traceable: bool, prepared: bool) -> None:
    """Tracing findings to environment files imports the spec's models (0.25 s): on rendered files whose environment
    file is at hand, lint imports them during the policy step once it has found a violation in one of them
    (rendered/prod has one; the other process checks policies meanwhile). rendered/dev is clean and needs no sources:
    nothing is imported for it, nor for violations only in files no environment file rendered (tests/manifests), not
    even after the policies (they were, to find that no finding could be traced: 0.2 s of a 0.6 s lint of one file)."""
    completed = subprocess.run(
        [sys.executable, "-c", PREPARED_DURING_CHECKS, *targets], cwd=REPO, capture_output=True, text=True, check=True
    )
    seen = completed.stderr.strip().splitlines()[-1]
    assert seen == str([("before", False, traceable), ("after", prepared, traceable), ("end", prepared)])


def test_an_environments_folder_that_cannot_be_listed_leaves_findings_in_place(
    two_repositories: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A folder without read permission (found by a new-user test, as a user without root's override): parsing
    ahead and loading for sources ended lint with an internal error; the findings now keep their rendered place."""
    import mlgitops.load.environments as environments
    from mlgitops.policy import engine

    outer, fleet = two_repositories

    def unlistable(root: Path) -> list[Path]:
        raise PermissionError(13, "Permission denied", str(root))

    monkeypatch.setattr(environments, "environment_files", unlistable)
    monkeypatch.setattr(parallel, "_cores", lambda: 2)
    monkeypatch.setattr(engine, "EVALUATE_IN_TWO_FROM", 0)
    monkeypatch.setattr(parallel, "_claiming_child", _leaving)  # this process sees every violation: it parses ahead
    found = _sourced(outer, fleet)
    assert found
    assert all(finding["source"] is None for finding in found)
