"""`mlgitops lint` and the policy catalog as users meet them: exact positions, formats, waivers, config."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import pytest

from mlgitops.policy import load_catalog
from mlgitops.policy.testing import run_catalog_examples
from tests.support import lint_findings, run_in_process, sarif_schema, write

SEED_PAIRS = {
    "resources-requests": (
        """\
apiVersion: v1
kind: Pod
metadata:
  name: ml-training
spec:
  containers:
  - name: trainer
    image: ml-image
    command: ["python", "train.py"]
""",
        """\
apiVersion: v1
kind: Pod
metadata:
  name: ml-training
spec:
  containers:
  - name: trainer
    image: ml-image
    command: ["python", "train.py"]
    resources:
      requests:
        cpu: "4"
        memory: "16Gi"
      limits:
        cpu: "8"
        memory: "32Gi"
""",
    ),
    "emptydir-data": (
        """\
apiVersion: v1
kind: Pod
metadata:
  name: ml-pod
spec:
  containers:
  - name: ml-container
    image: ml-image
    volumeMounts:
    - mountPath: /data
      name: data-volume
  volumes:
  - name: data-volume
    emptyDir: {}
""",
        """\
apiVersion: v1
kind: Pod
metadata:
  name: ml-pod
spec:
  containers:
  - name: ml-container
    image: ml-image
    volumeMounts:
    - mountPath: /data
      name: data-volume
  volumes:
  - name: data-volume
    persistentVolumeClaim:
      claimName: ml-pvc
""",
    ),
    "hpa-metrics": (
        """\
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: ml-hpa
spec:
  scaleTargetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: ml-deployment
  minReplicas: 1
  maxReplicas: 10
""",
        """\
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: ml-hpa
spec:
  scaleTargetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: ml-deployment
  minReplicas: 1
  maxReplicas: 10
  metrics:
  - type: Resource
    resource:
      name: cpu
      target:
        type: Utilization
        averageUtilization: 70
""",
    ),
}


def _findings(tmp_path: Path, text: str, *extra: str) -> tuple[int, list[dict[str, object]]]:
    write(tmp_path / "manifest.yaml", text)
    result = run_in_process("lint", "manifest.yaml", "--format", "json", *extra, cwd=tmp_path)
    assert result.exit_code in (0, 1), result.stderr
    return result.exit_code, lint_findings(result.stdout)


@pytest.mark.parametrize("rule", sorted(SEED_PAIRS))
def test_seed_pitfalls_fail_with_their_rule_and_their_fix_passes(tmp_path: Path, rule: str) -> None:
    wrong, right = SEED_PAIRS[rule]
    code, findings = _findings(tmp_path, wrong)
    assert code == 1
    assert rule in {f["rule"] for f in findings}
    _, findings = _findings(tmp_path, right)
    assert rule not in {f["rule"] for f in findings}


def test_seed_pod_without_resources_fails_resources_limits_too(tmp_path: Path) -> None:
    _, findings = _findings(tmp_path, SEED_PAIRS["resources-requests"][0])
    assert {"resources-requests", "resources-limits"} <= {f["rule"] for f in findings}
    _, findings = _findings(tmp_path, SEED_PAIRS["resources-requests"][1])
    assert "resources-limits" not in {f["rule"] for f in findings}


def test_every_shipped_policy_passes_and_fails_its_own_examples() -> None:
    catalog = load_catalog()
    assert len(catalog.policies) >= 31
    for policy in catalog.policies.values():
        assert policy.examples_pass, policy.id
        assert policy.examples_fail, policy.id
    failures = [r for r in run_catalog_examples(catalog, None) if not r.ok]
    assert failures == []


def test_policy_test_command_reports_every_example(tmp_path: Path) -> None:
    result = run_in_process("policy", "test", cwd=tmp_path)
    assert result.exit_code == 0, result.stdout
    assert result.stderr.strip().endswith("examples passed, 0 failed")


def test_a_users_own_policy_folder_is_tested_the_same_way(tmp_path: Path) -> None:
    write(
        tmp_path / "team-policies" / "team-label.yaml",
        """\
id: team-label
title: Workloads carry a team label
severity: warning
rationale: On-call needs to know whom to page.
fix: Add metadata.labels.team.
match:
  kinds: [Deployment]
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
      apiVersion: apps/v1
      kind: Deployment
      metadata: {name: a, labels: {team: ml}}
  fail:
    - manifest: |
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: a
      at: [3, 1]
""",
    )
    result = run_in_process("policy", "test", "team-policies", cwd=tmp_path)
    assert result.exit_code == 0, result.stdout
    assert result.stdout.splitlines() == [
        "ok   team-label pass[0]: no finding",
        "ok   team-label fail[0]: 3:1: Deployment 'a' has no team label",
    ]
    broken = (tmp_path / "team-policies" / "team-label.yaml").read_text().replace("at: [3, 1]", "at: [2, 1]")
    (tmp_path / "team-policies" / "team-label.yaml").write_text(broken)
    assert run_in_process("policy", "test", "team-policies", cwd=tmp_path).exit_code == 1


def test_the_example_fleet_lints_clean(fleet: Path) -> None:
    # Each environment is judged at its own kubernetesVersion (environments/*.yaml): staging runs 1.34 and claims
    # GPUs through DRA, so its ResourceClaimTemplate is validated without any flag.
    result = run_in_process("lint", "rendered", cwd=fleet)
    assert result.exit_code == 0, result.stdout + result.stderr
    # prod's MPS training Job shares the host IPC namespace, with the reason as its waiver.
    waived = [line for line in result.stdout.splitlines() if not line.startswith("  from environments/")]
    assert waived
    assert all("security-host-ipc" in line and "(waived: NVIDIA MPS" in line for line in waived)
    assert result.stderr.startswith(f"0 error(s), 0 warning(s), 0 info, {len(waived)} waived in ")
    older = run_in_process("lint", "--kubernetes-version", "1.32", "rendered", cwd=fleet)
    assert older.exit_code == 0, older.stdout + older.stderr
    assert [line for line in older.stdout.splitlines() if "(waived:" not in line][-2:] == [
        "rendered/staging/resourceclaimtemplate-chat-llm-gpu.yaml:2:13: info schema: resource.k8s.io/v1 "
        "ResourceClaimTemplate is served from Kubernetes 1.34 on, but this run validates for 1.32: pass "
        "--kubernetes-version 1.34 (or the cluster's, if newer) to validate it [ResourceClaimTemplate "
        "ml-staging/chat-llm-gpu]",
        "  from environments/staging.yaml:39:5",
    ]


MULTI = """\
apiVersion: v1
kind: Service
metadata:
  name: ok
spec:
  selector: {app: x}
  ports: [{port: 80}]
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: serve
  namespace: ml
spec:
  selector:
    matchLabels: {app: serve}
  template:
    metadata:
      labels: {app: serve}
    spec:
      securityContext: {runAsNonRoot: true}
      containers:
        - name: server
          image: ghcr.io/acme/serve:latest
          readinessProbe: {tcpSocket: {port: 8080}}
          resources:
            requests: {cpu: "1", memory: 1Gi}
            limits: {memory: 1Gi}
"""


def test_text_json_github_and_sarif_point_at_the_same_exact_line_and_column(tmp_path: Path) -> None:
    write(tmp_path / "multi.yaml", MULTI)
    # In the second document: line 24, column 18 is the value of `image:`.
    text = run_in_process("lint", "multi.yaml", cwd=tmp_path)
    assert text.exit_code == 1
    assert (
        "multi.yaml:24:18: error image-tag: container 'server' uses image 'ghcr.io/acme/serve:latest' with no version "
        "tag or digest (untagged means :latest) [Deployment ml/serve]"
    ) in text.stdout.splitlines()
    findings = lint_findings(run_in_process("lint", "multi.yaml", "--format", "json", cwd=tmp_path).stdout)
    image = next(f for f in findings if f["rule"] == "image-tag")
    assert image["location"] == {"file": "multi.yaml", "line": 24, "column": 18}
    assert image["object"] == {"apiVersion": "apps/v1", "kind": "Deployment", "namespace": "ml", "name": "serve"}
    github = run_in_process("lint", "multi.yaml", "--format", "github", cwd=tmp_path).stdout
    assert "::error file=multi.yaml,line=24,col=18,title=image-tag::container 'server' uses image" in github
    sarif = json.loads(run_in_process("lint", "multi.yaml", "--format", "sarif", cwd=tmp_path).stdout)
    result = next(r for r in sarif["runs"][0]["results"] if r["ruleId"] == "image-tag")
    region = result["locations"][0]["physicalLocation"]["region"]
    assert (region["startLine"], region["startColumn"]) == (24, 18)
    junit = ElementTree.fromstring(run_in_process("lint", "multi.yaml", "--format", "junit", cwd=tmp_path).stdout)
    names = [case.get("name") for case in junit.iter("testcase")]
    assert "multi.yaml:24:18 Deployment ml/serve" in names


def test_sarif_output_validates_against_the_official_schema(tmp_path: Path) -> None:
    import jsonschema

    schema = sarif_schema()
    write(
        tmp_path / "multi.yaml",
        MULTI.replace("      securityContext: {runAsNonRoot: true}\n", "").replace(
            "metadata:\n  name: serve\n",
            "metadata:\n  name: serve\n  annotations:\n"
            '    mlgitops.io/waive.security-non-root: "image runs as uid 1000 until=2999-01-01"\n',
        ),
    )
    sarif = json.loads(run_in_process("lint", "multi.yaml", "--format", "sarif", cwd=tmp_path).stdout)
    jsonschema.validate(sarif, schema)
    results = sarif["runs"][0]["results"]
    assert any(r.get("suppressions") for r in results)
    assert all(r["locations"][0]["physicalLocation"]["region"]["startLine"] >= 1 for r in results)


def test_waived_findings_are_reported_but_do_not_fail(tmp_path: Path) -> None:
    waived = MULTI.replace(
        "metadata:\n  name: serve\n",
        'metadata:\n  name: serve\n  annotations:\n    mlgitops.io/waive.image-tag: "vendor image until=2999-01-01"\n',
    )
    code, findings = _findings(tmp_path, waived)
    image = next(f for f in findings if f["rule"] == "image-tag")
    assert image["waived"] is True
    assert image["waiver"] == "vendor image"
    assert code == 0


def test_an_expired_or_unexplained_waiver_waives_nothing_and_is_reported(tmp_path: Path) -> None:
    expired = MULTI.replace(
        "metadata:\n  name: serve\n",
        'metadata:\n  name: serve\n  annotations:\n    mlgitops.io/waive.image-tag: "vendor image until=2020-01-01"\n',
    )
    code, findings = _findings(tmp_path, expired)
    assert code == 1
    assert next(f for f in findings if f["rule"] == "image-tag")["waived"] is False
    invalid = next(f for f in findings if f["rule"] == "waiver-invalid")
    assert invalid["location"] == {"file": "manifest.yaml", "line": 14, "column": 5}
    assert "expired on 2020-01-01" in invalid["message"]


def test_repository_config_switches_rules_and_severities(tmp_path: Path) -> None:
    write(tmp_path / ".mlgitops.yaml", "rules:\n  image-tag:\n    severity: warning\n  network-policy:\n    enabled: false\n")
    code, findings = _findings(tmp_path, MULTI)
    assert code == 0
    assert next(f for f in findings if f["rule"] == "image-tag")["severity"] == "warning"
    assert "network-policy" not in {f["rule"] for f in findings}
    code, _ = _findings(tmp_path, MULTI, "--fail-on", "warning")
    assert code == 1


def test_a_bad_config_file_is_a_located_error(tmp_path: Path) -> None:
    write(tmp_path / ".mlgitops.yaml", "rules:\n  image-tag:\n    severty: warning\n")
    write(tmp_path / "m.yaml", MULTI)
    result = run_in_process("lint", "m.yaml", cwd=tmp_path)
    assert result.exit_code == 2
    assert (
        result.stderr
        == "error: .mlgitops.yaml:3:5: rules.image-tag.severty: unknown field 'severty' (did you mean 'severity'?)\n"
    )


def test_every_shipped_policy_schema_is_a_valid_json_schema() -> None:
    # Loading the shipped catalog skips the meta-schema check for speed; it is enforced here.
    from jsonschema import Draft202012Validator

    for policy in load_catalog().policies.values():
        if policy.schema is not None:
            Draft202012Validator.check_schema(policy.schema)


def test_a_users_policy_file_is_checked_against_the_policy_model(tmp_path: Path) -> None:
    write(tmp_path / "mine" / "bad.yaml", "id: Bad_Id\ntitle: x\nseverity: fatal\n")
    result = run_in_process("policy", "test", "mine", cwd=tmp_path)
    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    assert "error: mine/bad.yaml:3:11: severity: 'fatal' is not allowed: input should be 'error', 'warning' or 'info'" in lines
    assert (
        "error: mine/bad.yaml:1:5: id: 'Bad_Id' is not this file's name 'bad': a rule's id is its file's name; remove id:"
        in lines
    )
    assert "error: mine/bad.yaml:1:1: fix: missing required field 'fix'" in lines
