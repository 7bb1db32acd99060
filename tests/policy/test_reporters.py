"""Every output format points at the same line and column of a multi-document file."""

from __future__ import annotations

import json
import shutil
import xml.etree.ElementTree as ElementTree
from collections.abc import Callable
from pathlib import Path

import pytest

from mlgitops.errors import Location
from mlgitops.kube.manifest import ObjectRef
from mlgitops.output.reporters import github, text
from mlgitops.policy import Catalog, Finding, Severity
from tests.support import REPO, CliResult, lint_findings, sarif_schema

SERVING = REPO / "tests" / "manifests" / "multi_document" / "serving.yaml"
# (rule, line, column) in serving.yaml: the container item of the 2nd document, its image value (a quoted
# scalar: the quote's column), and the 3rd document's `spec:` key, under which `metrics` is missing.
EXPECTED = [("serving-probes", 23, 11), ("image-tag", 24, 18), ("hpa-metrics", 32, 1)]


@pytest.fixture
def serving(tmp_path: Path) -> Path:
    (tmp_path / "manifests").mkdir()
    return Path(shutil.copy(SERVING, tmp_path / "manifests" / "serving.yaml"))


def test_text(serving: Path, mlgitops: Callable[..., CliResult]) -> None:
    result = mlgitops("lint", "manifests")
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        "manifests/serving.yaml:23:11: error serving-probes: container 'server' is selected by Service 'serve' but has no "
        "readinessProbe: it gets traffic before it is ready [Deployment ml/serve]",
        "manifests/serving.yaml:24:18: error image-tag: container 'server' uses image 'ghcr.io/acme/serve:latest' "
        "with no version tag or digest (untagged means :latest) [Deployment ml/serve]",
        "manifests/serving.yaml:32:1: error hpa-metrics: HorizontalPodAutoscaler 'serve' names no metric: it gets the "
        "implicit default of 80 % average CPU utilisation, which ignores GPU load and needs CPU requests; name the "
        "metric to scale on [HorizontalPodAutoscaler ml/serve]",
    ]
    assert result.stderr == "3 error(s), 0 warning(s), 0 info, 0 waived in 1 file(s)\n"


def test_json(serving: Path, mlgitops: Callable[..., CliResult]) -> None:
    findings = lint_findings(mlgitops("lint", "manifests", "--format", "json").stdout)
    assert [(f["rule"], f["location"]["line"], f["location"]["column"]) for f in findings] == EXPECTED
    assert {f["location"]["file"] for f in findings} == {"manifests/serving.yaml"}
    assert findings[2]["object"] == {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "namespace": "ml",
        "name": "serve",
    }
    assert findings[2]["fix"].startswith("Add spec.metrics")
    assert (findings[2]["waived"], findings[2]["source"]) == (False, None)


def test_github(serving: Path, mlgitops: Callable[..., CliResult]) -> None:
    lines = mlgitops("lint", "manifests", "--format", "github").stdout.splitlines()
    assert [line.split("::")[1] for line in lines] == [
        f"error file=manifests/serving.yaml,line={line},col={column},title={rule}" for rule, line, column in EXPECTED
    ]


def test_junit(serving: Path, mlgitops: Callable[..., CliResult]) -> None:
    suite = ElementTree.fromstring(mlgitops("lint", "manifests", "--format", "junit").stdout).find("testsuite")
    assert suite is not None
    assert (suite.get("tests"), suite.get("failures")) == ("3", "3")
    assert [(case.get("classname"), case.get("name")) for case in suite.iter("testcase")] == [
        ("serving-probes", "manifests/serving.yaml:23:11 Deployment ml/serve"),
        ("image-tag", "manifests/serving.yaml:24:18 Deployment ml/serve"),
        ("hpa-metrics", "manifests/serving.yaml:32:1 HorizontalPodAutoscaler ml/serve"),
    ]


def _waive_image(serving: Path) -> None:
    waived = serving.read_text().replace(
        "  name: serve\n  namespace: ml\n",
        '  name: serve\n  namespace: ml\n  annotations:\n    mlgitops.io/waive.image-tag: "vendor mirror until=2999-01-01"\n',
        1,
    )
    serving.write_text(waived)


def test_sarif_regions_rules_and_suppressions(serving: Path, mlgitops: Callable[..., CliResult], catalog: Catalog) -> None:
    _waive_image(serving)
    result = mlgitops("lint", "manifests", "--format", "sarif")
    assert result.exit_code == 1  # the waived image no longer fails, the other two still do
    run = json.loads(result.stdout)["runs"][0]
    located = [
        (
            r["ruleId"],
            r["locations"][0]["physicalLocation"]["region"]["startLine"],
            r["locations"][0]["physicalLocation"]["region"]["startColumn"],
        )
        for r in run["results"]
    ]
    # Two lines of annotations were added above the image, so it and everything after moved down by two.
    assert located == [("serving-probes", 25, 11), ("image-tag", 26, 18), ("hpa-metrics", 34, 1)]
    assert [r.get("suppressions") for r in run["results"]] == [
        None,
        [{"kind": "inSource", "status": "accepted", "justification": "vendor mirror"}],
        None,
    ]
    rules = run["tool"]["driver"]["rules"]
    assert [rule["id"] for rule in rules] == sorted(catalog.policies)
    assert all(rule["help"]["text"] for rule in rules)
    for result_entry in run["results"]:
        assert rules[result_entry["ruleIndex"]]["id"] == result_entry["ruleId"]
    artifact = run["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]
    assert artifact == {"uri": "manifests/serving.yaml", "uriBaseId": "%SRCROOT%"}


def test_sarif_is_valid_sarif_2_1_0(serving: Path, mlgitops: Callable[..., CliResult]) -> None:
    import jsonschema

    schema = sarif_schema()
    _waive_image(serving)
    log = json.loads(mlgitops("lint", "manifests", "--format", "sarif").stdout)
    validator = jsonschema.validators.validator_for(schema)(schema)
    assert [error.message for error in validator.iter_errors(log)] == []
    assert log["version"] == "2.1.0"


def _finding(**changes: object) -> Finding:
    fields: dict[str, object] = {
        "rule": "gpu-toleration",
        "severity": Severity.ERROR,
        "message": "pod requests nvidia.com/gpu but does not tolerate the GPU taint",
        "object_ref": ObjectRef("batch/v1", "Job", "ml", "train-1a2b3c4d"),
        "location": Location("rendered/prod/job-train-1a2b3c4d.yaml", 31, 9),
        "source": Location("environments/prod.yaml", 42, 5),
    }
    fields.update(changes)
    return Finding(**fields)  # type: ignore[arg-type]


def test_text_names_the_environment_line_of_a_rendered_object() -> None:
    assert text([_finding()], {}) == (
        "rendered/prod/job-train-1a2b3c4d.yaml:31:9: error gpu-toleration: pod requests nvidia.com/gpu but does not "
        "tolerate the GPU taint [Job ml/train-1a2b3c4d]\n"
        "  from environments/prod.yaml:42:5\n"
    )


def test_github_escapes_what_would_end_a_workflow_command() -> None:
    odd = _finding(message="50% of GPUs\nidle", location=Location("a,b:c.yaml", 2, 3), waiver="known", source=None)
    assert github([odd], {}) == (
        "::notice file=a%2Cb%3Ac.yaml,line=2,col=3,title=gpu-toleration::"
        "50%25 of GPUs%0Aidle [Job ml/train-1a2b3c4d] (waived: known)\n"
    )
    # A rendered object's finding is annotated at its environment field (the file a pull request changes).
    assert github([_finding(source=Location("env,1.yaml", 42, 5))], {}).startswith("::error file=env%2C1.yaml,line=42,col=5,")


def test_an_object_named_by_generate_name_is_shown_by_its_prefix(tmp_path: Path, mlgitops: Callable[..., CliResult]) -> None:
    # Kueue's and JobSet's samples create Jobs with `kubectl create` and generateName: the API server
    # completes the name, so the report names the prefix instead of an empty name.
    (tmp_path / "job.yaml").write_text(
        "apiVersion: batch/v1\nkind: Job\nmetadata: {generateName: sample-job-, namespace: team-a}\n"
        "spec:\n  template:\n    spec:\n      restartPolicy: Never\n"
        "      containers: [{name: main, image: busybox}]\n"
    )
    result = mlgitops("lint", str(tmp_path / "job.yaml"))
    assert result.exit_code == 1
    findings = [line for line in result.stdout.splitlines() if "job.yaml:" in line]
    assert findings
    assert all(line.endswith("[Job team-a/sample-job-*]") for line in findings), findings
    assert str(ObjectRef("batch/v1", "Job", "", "", "")) == "Job (no name)"
