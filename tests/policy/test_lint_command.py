"""`mlgitops lint`, `policy list|test` and `explain` as a user runs them: inputs, exit codes, messages."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.policy.linting import REPO, write
from tests.support import CliResult, lint_findings

SERVING = REPO / "tests" / "manifests" / "multi_document" / "serving.yaml"
Mlgitops = Callable[..., CliResult]

SERVICE_JSON = """\
{"apiVersion": "v1", "kind": "Service",
 "metadata": {"name": "api", "namespace": "ml"},
 "spec": {"ports": [{"port": 80}], "selectr": {}}}
"""
CLEAN = """\
apiVersion: v1
kind: Service
metadata: {name: api, namespace: ml}
spec:
  selector: {app: api}
  ports: [{port: 80}]
"""


def _rules_and_places(stdout: str) -> list[tuple[str, str]]:
    findings = lint_findings(stdout)
    return [(f["rule"], f"{f['location']['file']}:{f['location']['line']}:{f['location']['column']}") for f in findings]


def test_folders_are_read_recursively_yaml_yml_and_json_only(tmp_path: Path, mlgitops: Mlgitops) -> None:
    shutil.copy(SERVING, write(tmp_path / "app" / "deep" / "serving.yml", "").parent / "serving.yml")
    write(tmp_path / "app" / "service.json", SERVICE_JSON)
    write(tmp_path / "app" / "notes.txt", "kind: [not yaml\n")
    write(tmp_path / "app" / ".hidden" / "x.yaml", "kind: [not yaml\n")
    result = mlgitops("lint", "app", "--format", "json")
    assert result.exit_code == 1
    assert _rules_and_places(result.stdout) == [
        ("serving-probes", "app/deep/serving.yml:23:11"),
        ("image-tag", "app/deep/serving.yml:24:18"),
        ("hpa-metrics", "app/deep/serving.yml:32:1"),
        ("schema", "app/service.json:3:36"),
    ]
    assert result.stderr.endswith("in 2 file(s)\n")


def test_stdin_is_one_more_file(tmp_path: Path, mlgitops: Mlgitops) -> None:
    result = mlgitops("lint", "-", "--format", "json", stdin=SERVICE_JSON)
    assert (result.exit_code, _rules_and_places(result.stdout)) == (1, [("schema", "<stdin>:3:36")])


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("kind: Pod\nmetadata:\n  name: a\n   b: c\n", "error: broken.yaml:4:5: invalid YAML: mapping values are not allowed"),
        ("kind: Pod\nmetadata: {name: [a\n", "error: broken.yaml:3:1: invalid YAML:"),
        ("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: {{ .Values.name }}}\n", "error: broken.yaml:3:19: invalid YAML:"),
    ],
)
def test_a_file_that_does_not_parse_is_exit_2_with_its_location_and_the_rest_is_still_linted(
    tmp_path: Path, mlgitops: Mlgitops, text: str, message: str
) -> None:
    write(
        tmp_path / "ok.yaml", "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers: [{name: c, image: 'x:1'}]\n"
    )
    write(tmp_path / "broken.yaml", text)
    result = mlgitops("lint", ".")
    assert result.exit_code == 2
    # ok.yaml is still linted and reported; the broken file is a located error of its own.
    assert "ok.yaml:" in result.stdout
    assert "security-non-root" in result.stdout
    [error] = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert error.startswith(message)
    assert result.stderr.endswith("in 2 file(s)\n")


def test_documents_that_are_not_kubernetes_objects_are_skipped_in_folders_and_counted(tmp_path: Path, mlgitops: Mlgitops) -> None:
    write(tmp_path / "ok.yaml", CLEAN)
    write(tmp_path / "package.json", '{"name": "web", "version": "1.0.0"}\n')
    write(tmp_path / "chart" / "values.yaml", "replicaCount: 2\n---\n- just\n- a list\n")
    write(tmp_path / "ci" / "workflow.yml", "name: ci\non: [push]\njobs: {}\n")
    result = mlgitops("lint", ".")
    assert (result.exit_code, result.stdout) == (0, "")
    assert (
        "note: skipped 4 document(s) in 3 file(s) that are not Kubernetes objects (no apiVersion and kind): "
        "chart/values.yaml, ci/workflow.yml, package.json\n"
    ) in result.stderr
    # Named on the command line, a file must hold Kubernetes objects only.
    named = mlgitops("lint", "package.json")
    assert named.exit_code == 2
    assert (
        named.stderr
        == "error: package.json:1:1: document 1 has no 'apiVersion': every Kubernetes object needs apiVersion and kind\n"
    )


def test_a_folder_without_any_manifest_is_an_error(tmp_path: Path, mlgitops: Mlgitops) -> None:
    write(tmp_path / "docs" / "README.md", "# docs\n")
    write(tmp_path / "docs" / "values.yaml", "replicaCount: 2\n")
    result = mlgitops("lint", "docs")
    assert result.exit_code == 2
    assert result.stderr.startswith(
        "error: nothing to lint: found 1 file(s) but no Kubernetes object in docs (manifests are YAML or JSON "
        "documents with apiVersion and kind; name the files or folders that hold them)\n"
    )
    write(tmp_path / "empty" / ".keep", "")
    assert mlgitops("lint", "empty").exit_code == 2


def test_a_path_that_does_not_exist_is_exit_2(tmp_path: Path, mlgitops: Mlgitops) -> None:
    result = mlgitops("lint", "missing.yaml")
    assert (result.exit_code, result.stderr) == (2, "error: missing.yaml: no such file or folder\n")


def test_fail_on_tightens_the_exit_code_and_waived_findings_never_fail(tmp_path: Path, mlgitops: Mlgitops) -> None:
    # Pods and no NetworkPolicy in their namespace: a warning only.
    write(tmp_path / "pod.yaml", (REPO / "tests" / "manifests" / "seed_pitfalls" / "resources-correct.yaml").read_text())
    write(
        tmp_path / "pod.yaml",
        (tmp_path / "pod.yaml")
        .read_text()
        .replace("image: ml-image", "image: ml-image:1.0")
        .replace("spec:\n  containers:", "spec:\n  securityContext: {runAsNonRoot: true}\n  containers:"),
    )
    assert [line.split()[1:3] for line in mlgitops("lint", "pod.yaml").stdout.splitlines()] == [["warning", "network-policy:"]]
    assert mlgitops("lint", "pod.yaml").exit_code == 0
    assert mlgitops("lint", "pod.yaml", "--fail-on", "warning").exit_code == 1
    assert mlgitops("lint", "pod.yaml", "--fail-on", "info").exit_code == 1
    waived = (
        (tmp_path / "pod.yaml")
        .read_text()
        .replace(
            "  name: ml-training\n",
            '  name: ml-training\n  annotations:\n    mlgitops.io/waive.network-policy: "cluster-wide policy"\n',
        )
    )
    write(tmp_path / "pod.yaml", waived)
    result = mlgitops("lint", "pod.yaml", "--fail-on", "info")
    assert result.exit_code == 0
    assert result.stdout.rstrip().endswith("(waived: cluster-wide policy)")


def test_env_names_the_environment_of_plain_manifests(tmp_path: Path, mlgitops: Mlgitops) -> None:
    shutil.copy(SERVING, tmp_path / "serving.yaml")
    rules = [f["rule"] for f in lint_findings(mlgitops("lint", "serving.yaml", "--format", "json").stdout)]
    assert "image-digest" not in rules
    prod = lint_findings(mlgitops("lint", "serving.yaml", "--format", "json", "--env", "prod").stdout)
    assert [(f["rule"], f["location"]["line"], f["location"]["column"]) for f in prod if f["rule"] == "image-digest"] == [
        ("image-digest", 24, 18)
    ]


def test_a_plain_kustomize_root_is_linted_file_by_file(tmp_path: Path, mlgitops: Mlgitops) -> None:
    shutil.copy(SERVING, write(tmp_path / "base" / "serving.yaml", "").parent)
    write(tmp_path / "base" / "kustomization.yaml", "resources:\n  - serving.yaml\n")
    result = mlgitops("lint", "base", "--format", "json")
    assert [place for _, place in _rules_and_places(result.stdout)] == [
        "base/serving.yaml:23:11",
        "base/serving.yaml:24:18",
        "base/serving.yaml:32:1",
    ]
    assert "kubectl kustomize" not in result.stderr


@pytest.mark.kubectl
def test_a_kustomize_root_with_transformers_is_built_and_says_so(tmp_path: Path, mlgitops: Mlgitops) -> None:
    assert shutil.which("kubectl"), "kubectl (with kustomize) is required"
    shutil.copy(SERVING, write(tmp_path / "overlay" / "serving.yaml", "").parent)
    write(
        tmp_path / "overlay" / "kustomization.yaml",
        "resources: [serving.yaml]\nimages:\n  - name: ghcr.io/acme/serve\n    newTag: 1.4.2\n",
    )
    result = mlgitops("lint", "overlay", "--format", "json")
    findings = lint_findings(result.stdout)
    # The images transformer fixed the tag: only the built output can show that.
    assert sorted(f["rule"] for f in findings) == ["hpa-metrics", "serving-probes"]
    # Located in the file the objects were written in, at the same lines as when it is linted directly.
    assert _rules_and_places(result.stdout) == [
        ("serving-probes", "overlay/serving.yaml:23:11"),
        ("hpa-metrics", "overlay/serving.yaml:32:1"),
    ]
    assert "(built)" not in result.stdout
    assert "kubectl kustomize" not in result.stderr  # every object found its file: nothing to note


@pytest.mark.kubectl
def test_objects_from_a_base_and_a_generator_point_at_their_files(tmp_path: Path, mlgitops: Mlgitops) -> None:
    shutil.copy(SERVING, write(tmp_path / "base" / "serving.yaml", "").parent)
    write(tmp_path / "base" / "kustomization.yaml", "resources: [serving.yaml]\n")
    write(
        tmp_path / "overlays" / "prod" / "kustomization.yaml",
        "resources: [../../base]\nnamePrefix: prod-\nconfigMapGenerator:\n  - name: settings\n    literals: [DEBUG=1]\n"
        "secretGenerator:\n  - name: token\n    literals: [TOKEN=abc]\n",
    )
    result = mlgitops("lint", "overlays/prod", "--format", "sarif")
    run = json.loads(result.stdout)["runs"][0]
    uris = {
        (
            r["ruleId"],
            r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
            r["locations"][0]["physicalLocation"]["region"]["startLine"],
        )
        for r in run["results"]
    }
    assert ("serving-probes", "base/serving.yaml", 23) in uris
    assert ("hpa-metrics", "base/serving.yaml", 32) in uris
    assert all("(built)" not in uri and "kustomization.yaml (" not in uri for _, uri, _ in uris)
    # A generated Secret is located at its generator's entry in the kustomization that declares it.
    secrets = [(uri, line) for rule, uri, line in uris if rule == "plaintext-secret"]
    assert secrets == [("overlays/prod/kustomization.yaml", 7)]


def test_policy_list_names_every_rule_with_its_severity(mlgitops: Mlgitops) -> None:
    lines = mlgitops("policy", "list").stdout.splitlines()
    rules = {line.split()[0]: line.split()[1] for line in lines}
    assert rules["hpa-metrics"] == "error"
    assert rules["network-policy"] == "warning"
    assert len(rules) == len(list((REPO / "policies").glob("*.yaml")))


def test_policy_list_marks_rules_the_config_switches_off(tmp_path: Path, mlgitops: Mlgitops) -> None:
    write(tmp_path / ".mlgitops.yaml", "rules:\n  gpu-shm: {enabled: false}\n")
    [line] = [line for line in mlgitops("policy", "list").stdout.splitlines() if line.startswith("gpu-shm ")]
    assert line.endswith("(disabled)")


def test_explain_shows_why_a_failing_and_a_passing_example_and_the_fix(mlgitops: Mlgitops) -> None:
    result = mlgitops("explain", "hpa-metrics")
    assert result.exit_code == 0
    out = result.stdout
    assert out.startswith("hpa-metrics (error): An autoscaler names the metric it scales on\n")
    assert out.index("Why:") < out.index("Fix:") < out.index("Fails:") < out.index("Passes:")
    # The API server fills in an 80 % CPU target: explain says so instead of "cannot scale".
    assert "80 %" in out[out.index("Why:") : out.index("Fix:")]
    fails = out[out.index("Fails:") : out.index("Passes:")]
    assert "metrics:" not in fails
    assert "metrics:" in out[out.index("Passes:") :]


def test_explain_an_unknown_rule_is_exit_2(mlgitops: Mlgitops) -> None:
    result = mlgitops("explain", "hpa-metric")
    assert (result.exit_code, result.stderr) == (2, "error: no policy 'hpa-metric' (see `mlgitops policy list`)\n")


TEAM_POLICY = """\
id: team-label
title: Workloads carry a team label
severity: warning
rationale: On-call needs to know whom to page.
fix: Add metadata.labels.team.
match:
  kinds: [Deployment, Job]
target: object
message: "{kind} {name!r} has no team label"
schema:
  type: object
  properties:
    metadata:
      required: [labels]
      properties:
        labels:
          required: [team]
examples:
  pass:
    - |
      apiVersion: batch/v1
      kind: Job
      metadata: {name: train, labels: {team: vision}}
  fail:
    - manifest: |
        apiVersion: batch/v1
        kind: Job
        metadata:
          name: train
          labels: {app: train}
      at: [5, 3]
"""


def test_policy_test_runs_a_users_folder_against_its_own_examples(tmp_path: Path, mlgitops: Mlgitops) -> None:
    write(tmp_path / "team" / "team-label.yaml", TEAM_POLICY)
    result = mlgitops("policy", "test", "team")
    assert result.exit_code == 0, result.stdout
    assert result.stdout.splitlines() == [
        "ok   team-label pass[0]: no finding",
        "ok   team-label fail[0]: 5:3: Job 'train' has no team label",
    ]
    write(tmp_path / "team" / "team-label.yaml", TEAM_POLICY.replace("at: [5, 3]", "at: [4, 3]"))
    result = mlgitops("policy", "test", "team")
    assert result.exit_code == 1
    assert result.stdout.splitlines()[1] == "FAIL team-label fail[0]: expected a finding at 4:3, got 5:3"


def test_a_users_policy_applies_to_lint_through_policies(tmp_path: Path, mlgitops: Mlgitops) -> None:
    write(tmp_path / "team" / "team-label.yaml", TEAM_POLICY)
    shutil.copy(SERVING, tmp_path / "serving.yaml")
    result = mlgitops("lint", "serving.yaml", "--policies", "team", "--format", "json")
    team = [
        (f["severity"], f["location"]["line"], f["location"]["column"])
        for f in lint_findings(result.stdout)
        if f["rule"] == "team-label"
    ]
    # The Deployment (2nd document) has no labels at all: the finding points at the `metadata:` key missing them.
    assert team == [("warning", 11, 1)]


@pytest.mark.parametrize(
    ("rule", "phrase"),
    [
        ("resources-requests", "copies limits into missing requests"),
        ("security-non-root", "runAsUser other than"),
        ("plaintext-secret", "judged as whole words"),
        ("serving-probes", "declares a containerPort"),
        ("gpu-shm", "one-accelerator pod"),
        ("gpu-toleration", "with any value"),
        ("gpu-limits", "habana.ai/gaudi"),
        ("gpu-node-selection", "spans models"),
        ("job-restart-policy", "Inside a JobSet"),
        ("pdb-blocks-drain", "rounded up"),
        ("pvc-rwo-shared", "RollingUpdate"),
        ("volume-mounts", "volumeClaimTemplates"),
        ("ambiguous-yaml-value", "YAML 1.2"),
        ("api-validation", "Mars/Olympus"),
        ("api-validation", "a Service an RFC 1035 label"),
        ("hpa-metrics", "80 %"),
    ],
)
def test_explain_says_what_each_rule_now_checks(mlgitops: Mlgitops, rule: str, phrase: str) -> None:
    result = mlgitops("explain", rule)
    assert result.exit_code == 0
    why = " ".join(result.stdout[result.stdout.index("Why:") : result.stdout.index("Fix:")].split())
    assert phrase in why
