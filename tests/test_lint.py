"""`mlgitops lint` and the policy catalog as users meet them: exact positions, formats, waivers, config."""

from __future__ import annotations

import json
import os
import shutil
import sys
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import pytest
import yaml

from generator.policy import load_catalog
from generator.policy.testing import run_catalog_examples
from tests.support import REPO, kubectl, run_cli, shared_dir, write

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
    result = run_cli("lint", "manifest.yaml", "--format", "json", *extra, cwd=tmp_path)
    assert result.exit_code in (0, 1), result.stderr
    return result.exit_code, json.loads(result.stdout)


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
    result = run_cli("policy", "test", cwd=tmp_path)
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
    result = run_cli("policy", "test", "team-policies", cwd=tmp_path)
    assert result.exit_code == 0, result.stdout
    assert result.stdout.splitlines() == [
        "ok   team-label pass[0]: no finding",
        "ok   team-label fail[0]: 3:1: Deployment 'a' has no team label",
    ]
    broken = (tmp_path / "team-policies" / "team-label.yaml").read_text().replace("at: [3, 1]", "at: [2, 1]")
    (tmp_path / "team-policies" / "team-label.yaml").write_text(broken)
    assert run_cli("policy", "test", "team-policies", cwd=tmp_path).exit_code == 1


def test_the_example_fleet_lints_clean(fleet: Path) -> None:
    # staging runs Kubernetes 1.34 and claims GPUs through DRA: its ResourceClaimTemplate is validated only there.
    result = run_cli("lint", "--kubernetes-version", "1.34", "rendered", cwd=fleet)
    assert result.exit_code == 0, result.stdout + result.stderr
    # prod's MPS training Job shares the host IPC namespace, with the reason as its waiver.
    waived = result.stdout.splitlines()
    assert waived
    assert all("security-host-ipc" in line and "(waived: NVIDIA MPS" in line for line in waived)
    assert result.stderr.startswith(f"0 error(s), 0 warning(s), 0 info, {len(waived)} waived in ")
    older = run_cli("lint", "rendered", cwd=fleet)
    assert older.exit_code == 0, older.stdout + older.stderr
    assert [line for line in older.stdout.splitlines() if "(waived:" not in line] == [
        "rendered/staging/resourceclaimtemplate-chat-llm-gpu.yaml:2:13: info schema: resource.k8s.io/v1 "
        "ResourceClaimTemplate is served from Kubernetes 1.34 on, but this run validates for 1.32: pass "
        "--kubernetes-version 1.34 (or the cluster's, if newer) to validate it [ResourceClaimTemplate "
        "ml-staging/chat-llm-gpu]"
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
    text = run_cli("lint", "multi.yaml", cwd=tmp_path)
    assert text.exit_code == 1
    assert (
        "multi.yaml:24:18: error image-tag: container 'server' uses image 'ghcr.io/acme/serve:latest' with no version "
        "tag or digest (untagged means :latest) [Deployment ml/serve]"
    ) in text.stdout.splitlines()
    findings = json.loads(run_cli("lint", "multi.yaml", "--format", "json", cwd=tmp_path).stdout)
    image = next(f for f in findings if f["rule"] == "image-tag")
    assert image["location"] == {"file": "multi.yaml", "line": 24, "column": 18}
    assert image["object"] == {"apiVersion": "apps/v1", "kind": "Deployment", "namespace": "ml", "name": "serve"}
    github = run_cli("lint", "multi.yaml", "--format", "github", cwd=tmp_path).stdout
    assert "::error file=multi.yaml,line=24,col=18,title=image-tag::container 'server' uses image" in github
    sarif = json.loads(run_cli("lint", "multi.yaml", "--format", "sarif", cwd=tmp_path).stdout)
    result = next(r for r in sarif["runs"][0]["results"] if r["ruleId"] == "image-tag")
    region = result["locations"][0]["physicalLocation"]["region"]
    assert (region["startLine"], region["startColumn"]) == (24, 18)
    junit = ElementTree.fromstring(run_cli("lint", "multi.yaml", "--format", "junit", cwd=tmp_path).stdout)
    names = [case.get("name") for case in junit.iter("testcase")]
    assert "multi.yaml:24:18 Deployment ml/serve" in names


def test_sarif_output_validates_against_the_official_schema(tmp_path: Path) -> None:
    import jsonschema

    schema = json.loads((shared_dir() / "schemas" / "sarif-schema-2.1.0.json").read_text())
    write(
        tmp_path / "multi.yaml",
        MULTI.replace("      securityContext: {runAsNonRoot: true}\n", "").replace(
            "metadata:\n  name: serve\n",
            "metadata:\n  name: serve\n  annotations:\n"
            '    mlgitops.io/waive.security-non-root: "image runs as uid 1000 until=2999-01-01"\n',
        ),
    )
    sarif = json.loads(run_cli("lint", "multi.yaml", "--format", "sarif", cwd=tmp_path).stdout)
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
    result = run_cli("lint", "m.yaml", cwd=tmp_path)
    assert result.exit_code == 2
    assert result.stderr == "error: .mlgitops.yaml:3:5: rules.image-tag.severty: unknown field 'severty'\n"


def test_unparseable_input_is_exit_2_with_a_location_never_skipped(tmp_path: Path) -> None:
    write(tmp_path / "ok.yaml", MULTI)
    write(tmp_path / "broken.yaml", "apiVersion: v1\nkind: Pod\nmetadata: {name: [x\n")
    result = run_cli("lint", ".", cwd=tmp_path)
    assert result.exit_code == 2
    assert result.stderr.startswith("error: broken.yaml:4:1: invalid YAML:")
    assert "Traceback" not in result.stderr


def test_folder_links_leading_outside_are_refused_and_loops_end(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    write(repo / "manifests" / "ok.yaml", MULTI)
    write(tmp_path / "home" / "credentials.yaml", "password: hunter2\n")
    (repo / "manifests" / "creds.yaml").symlink_to(tmp_path / "home" / "credentials.yaml")
    (repo / "manifests" / "zero.yaml").symlink_to("/dev/zero")
    (repo / "manifests" / "again").symlink_to(repo / "manifests")  # a loop back to its own folder
    (repo / "manifests" / "same.yaml").symlink_to("ok.yaml")  # the same file twice is read once
    result = run_cli("lint", "manifests", "--format", "json", cwd=repo, timeout=60)
    assert result.exit_code == 2
    # The links are refused one by one; what is inside the folder is still linted.
    assert result.stderr.startswith(
        "error: manifests/creds.yaml:1:1: a symbolic link leading outside manifests/ is not followed; "
        "name its target on the command line to lint it\n"
        "error: manifests/zero.yaml:1:1: a symbolic link leading outside manifests/ is not followed; "
        "name its target on the command line to lint it\n"
    )
    assert {f["location"]["file"] for f in json.loads(result.stdout)} == {"manifests/ok.yaml"}
    assert "hunter2" not in result.stdout + result.stderr
    (repo / "manifests" / "creds.yaml").unlink()
    (repo / "manifests" / "zero.yaml").unlink()
    clean = run_cli("lint", "manifests", "--format", "json", cwd=repo, timeout=60)
    assert clean.exit_code in (0, 1), clean.stderr
    assert {f["location"]["file"] for f in json.loads(clean.stdout)} == {"manifests/ok.yaml"}


def test_a_device_named_on_the_command_line_is_refused_unread(tmp_path: Path) -> None:
    (tmp_path / "zero.yaml").symlink_to("/dev/zero")
    result = run_cli("lint", "zero.yaml", cwd=tmp_path, timeout=60)
    assert result.exit_code == 2
    assert result.stderr == "error: zero.yaml: not a regular file or folder; name YAML files or folders of them\n"


def test_stdin_is_linted_as_a_file(tmp_path: Path) -> None:
    import subprocess
    import sys

    completed = subprocess.run(
        [sys.executable, "-m", "generator.cli", "lint", "-", "--format", "json"],
        input=SEED_PAIRS["hpa-metrics"][0],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=False,
    )
    findings = json.loads(completed.stdout)
    assert completed.returncode == 1
    assert [f["location"]["file"] for f in findings if f["rule"] == "hpa-metrics"] == ["<stdin>"]


def test_a_kustomize_root_with_patches_is_built_before_linting(tmp_path: Path) -> None:
    kubectl()
    write(tmp_path / "app" / "hpa.yaml", SEED_PAIRS["hpa-metrics"][1])
    write(
        tmp_path / "app" / "kustomization.yaml",
        """\
resources: [hpa.yaml]
patches:
  - target: {kind: HorizontalPodAutoscaler, name: ml-hpa}
    patch: |
      - op: remove
        path: /spec/metrics
""",
    )
    result = run_cli("lint", "app", "--format", "json", cwd=tmp_path)
    findings = json.loads(result.stdout)
    metrics = [f for f in findings if f["rule"] == "hpa-metrics"]
    assert metrics
    # kustomize's origin annotations lead back to the file the HPA was written in (the patch removed
    # its metrics, so the finding points at the nearest field that is there), not the built stream.
    assert metrics[0]["location"]["file"] == "app/hpa.yaml"
    hpa_line = SEED_PAIRS["hpa-metrics"][1].splitlines().index("spec:") + 1
    assert metrics[0]["location"]["line"] in (1, hpa_line)
    assert "(built)" not in result.stdout
    # The annotation kustomize added for us is not part of the object the rules see.
    assert "config.kubernetes.io/origin" not in result.stdout


def test_a_kustomize_root_that_does_not_build_shows_kubectls_message(tmp_path: Path) -> None:
    kubectl()
    write(tmp_path / "app" / "hpa.yaml", SEED_PAIRS["hpa-metrics"][1])
    write(
        tmp_path / "app" / "kustomization.yaml",
        "resources: [hpa.yaml]\npatches:\n  - target: {kind: HorizontalPodAutoscaler, name: ml-hpa}\n"
        "    patch: |\n      - op: remove\n        path: /spec/nothing/here\n",
    )
    write(tmp_path / "other" / "hpa.yaml", SEED_PAIRS["hpa-metrics"][0])
    result = run_cli("lint", "app", "other", cwd=tmp_path)
    assert result.exit_code == 2
    [error] = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert error.startswith("error: kubectl kustomize app failed: ")
    assert "nothing" in error  # kubectl's own words about the failing patch, not a fragment of its log
    assert error.rstrip()[-1] not in ">|"
    assert "hpa-metrics" in result.stdout  # the other folder is still linted


def test_policies_reach_pod_templates_inside_pytorchjobs(tmp_path: Path) -> None:
    import yaml

    from generator.fleet.build import build
    from generator.load.environments import load_environments

    write(
        tmp_path / "env" / "dev.yaml",
        """\
namespace: ml
kubernetesVersion: "1.32"
workloads:
  - {name: ddp, kind: distributed-training, jobKind: PyTorchJob, image: "registry.example/t:1", workers: 1,
     resources: {cpu: "1", memory: 1Gi}}
""",
    )
    [loaded] = load_environments(tmp_path / "env")
    [rendered] = [item.obj for item in build(loaded).objects if item.kind == "PyTorchJob"]
    job = json.loads(json.dumps(rendered))  # Master and Worker share one template object: copy them apart
    del job["spec"]["pytorchReplicaSpecs"]["Worker"]["template"]["spec"]["containers"][0]["resources"]["requests"]["cpu"]
    code, findings = _findings(tmp_path, yaml.safe_dump(job, sort_keys=False))
    assert code == 1
    [missing] = [f for f in findings if f["rule"] == "resources-requests"]
    assert missing["message"] == "container 'pytorch' does not request cpu"
    lines = yaml.safe_dump(job, sort_keys=False).splitlines()
    assert lines[missing["location"]["line"] - 1].strip() == "requests:"


def test_unknown_custom_resources_are_info_and_crd_files_validate_them(tmp_path: Path) -> None:
    jobset = """\
apiVersion: jobset.x-k8s.io/v1alpha2
kind: JobSet
metadata:
  name: sweep
spec:
  replicatedJobz: []
"""
    _, findings = _findings(tmp_path, jobset)
    schema = next(f for f in findings if f["rule"] == "schema")
    assert schema["severity"] == "info"
    crd = shared_dir() / "crds" / "jobset.x-k8s.io_jobsets.yaml"
    _, findings = _findings(tmp_path, jobset, "--crd", str(crd))
    messages = [f["message"] for f in findings if f["rule"] == "schema"]
    assert messages == ["spec.replicatedJobz: unknown field 'replicatedJobz'"]


JOBSET_WITH_GPU_WORKERS = """\
apiVersion: jobset.x-k8s.io/v1alpha2
kind: JobSet
metadata:
  name: llm-finetune
  namespace: ml
spec:
  replicatedJobs:
    - name: workers
      replicas: 2
      template:
        spec:
          template:
            spec:
              restartPolicy: Never
              containers:
                - name: trainer
                  image: registry.example/llm:1.4
                  resources:
                    limits: {nvidia.com/gpu: 8}
"""
RAYJOB_WITHOUT_REQUESTS = """\
apiVersion: ray.io/v1
kind: RayJob
metadata:
  name: tune
  namespace: ml
spec:
  entrypoint: python tune.py
  rayClusterSpec:
    headGroupSpec:
      template:
        spec:
          containers:
            - {name: ray-head, image: "ray:2.40.0", resources: {requests: {cpu: "2", memory: 8Gi}, limits: {memory: 8Gi}}}
    workerGroupSpecs:
      - groupName: gpu
        template:
          spec:
            containers:
              - name: ray-worker
                image: rayproject/ray:2.40.0
"""


def test_pod_templates_inside_other_custom_resources_are_checked_like_any_pod(tmp_path: Path) -> None:
    crd = shared_dir() / "crds" / "jobset.x-k8s.io_jobsets.yaml"
    _, findings = _findings(tmp_path, JOBSET_WITH_GPU_WORKERS, "--crd", str(crd))
    by_rule = {f["rule"]: f["location"] for f in findings}
    assert "schema" not in by_rule  # the JobSet itself is valid against the upstream CRD
    assert by_rule["resources-requests"]["line"] == 18
    assert by_rule["gpu-toleration"]["line"] == 14  # the pod spec of the Job template inside the JobSet
    _, findings = _findings(tmp_path, RAYJOB_WITHOUT_REQUESTS)
    located = {(f["rule"], f["location"]["line"]) for f in findings if f["rule"] != "schema"}
    assert ("resources-requests", 19) in located  # the worker group's container
    assert ("resources-requests", 13) not in located  # the head container requests both


@pytest.mark.parametrize(
    ("rendered_file", "crd"),
    [
        ("prod/trainjob-*.yaml", "trainer.kubeflow.org_trainjobs.yaml"),
        ("prod/servicemonitor-*.yaml", "monitoring.coreos.com_servicemonitors.yaml"),
        ("prod/cluster/nodepool-gpu-a100.yaml", "karpenter.sh_nodepools.yaml"),
        ("prod/inferenceservice-*.yaml", "serving.kserve.io_inferenceservices.yaml"),
        ("prod/externalsecret-*.yaml", "external-secrets.io_externalsecrets.yaml"),
    ],
)
def test_rendered_custom_resources_pass_lint_with_the_upstream_crd(tmp_path: Path, rendered_file: str, crd: str) -> None:
    crd_path = shared_dir() / "crds" / crd
    files = sorted((REPO / "rendered").glob(rendered_file))
    assert files
    for index, path in enumerate(files):
        shutil.copy(path, tmp_path / f"{index}.yaml")
    result = run_cli("lint", ".", "--crd", str(crd_path), "--format", "json", cwd=tmp_path)
    assert [f for f in json.loads(result.stdout) if f["rule"] == "schema"] == []
    # The same path catches a field the upstream CRD does not know.
    broken = (tmp_path / "0.yaml").read_text().replace("\nspec:\n", "\nspec:\n  notAField: 1\n", 1)
    (tmp_path / "0.yaml").write_text(broken)
    result = run_cli("lint", "0.yaml", "--crd", str(crd_path), "--format", "json", cwd=tmp_path)
    assert [f["message"] for f in json.loads(result.stdout) if f["rule"] == "schema"] == [
        "spec.notAField: unknown field 'notAField'"
    ]


def test_every_shipped_policy_schema_is_a_valid_json_schema() -> None:
    # Loading the shipped catalog skips the meta-schema check for speed; it is enforced here.
    from jsonschema import Draft202012Validator

    for policy in load_catalog().policies.values():
        if policy.schema is not None:
            Draft202012Validator.check_schema(policy.schema)


def test_every_shipped_policy_file_fits_the_policy_schema() -> None:
    # Loading the shipped catalog trusts it for speed; this is where it is held to the schema.
    from generator.kube.schema import problems_of
    from generator.policy.catalog import policy_files, policy_schema_validator, shipped_catalog

    for path in policy_files(shipped_catalog()):
        document = yaml.safe_load(path.read_text())
        assert problems_of(policy_schema_validator(), document) == [], path.name


def test_a_users_policy_file_is_checked_against_the_policy_schema(tmp_path: Path) -> None:
    write(tmp_path / "mine" / "bad.yaml", "id: Bad_Id\ntitle: x\nseverity: fatal\n")
    result = run_cli("policy", "test", "mine", cwd=tmp_path)
    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    assert "error: mine/bad.yaml:3:11: severity: 'fatal' is not one of ['error', 'warning', 'info']" in lines
    assert any(line.startswith("error: mine/bad.yaml:1:5: id: 'Bad_Id' does not match") for line in lines)


def test_a_file_named_with_a_trailing_slash_is_linted_like_the_file(tmp_path: Path) -> None:
    write(tmp_path / "pods.yaml", MULTI)
    plain = run_cli("lint", "pods.yaml", "--format", "json", cwd=tmp_path)
    for spelling in ("pods.yaml/", "./pods.yaml//"):
        slashed = run_cli("lint", spelling, "--format", "json", cwd=tmp_path)
        assert (slashed.exit_code, slashed.stdout) == (plain.exit_code, plain.stdout), slashed.stderr


def test_a_kustomization_linked_from_outside_the_folder_is_not_read(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    write(repo / "app" / "pods.yaml", MULTI)
    write(tmp_path / "home" / "kustomization.yaml", "namePrefix: p-\nresources:\n- https://deploy:s3cr3t@git.example.com/x\n")
    (repo / "app" / "kustomization.yaml").symlink_to(tmp_path / "home" / "kustomization.yaml")
    result = run_cli("lint", "app", cwd=repo)
    assert result.exit_code == 2
    assert result.stderr == (
        "error: app/kustomization.yaml:1:1: a symbolic link leading outside app/ is not followed; "
        "name its target on the command line to lint it\n"
    )
    assert "s3cr3t" not in result.stdout + result.stderr


def test_a_folder_that_cannot_be_searched_is_a_located_error_not_a_crash(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import os
    from typing import Any

    from generator.policy.inputs import collect

    write(tmp_path / "app" / "pods.yaml", MULTI)
    (tmp_path / "app" / "locked").mkdir()
    locked = str(tmp_path / "app" / "locked")
    # CI runs as root, for whom chmod 000 locks nothing: refuse the folder as the kernel would.
    real_stat, real_scandir = os.stat, os.scandir

    def refused(path: Any) -> PermissionError:
        return PermissionError(13, "Permission denied", str(path))

    def stat(path: Any, *args: Any, **kwargs: Any) -> Any:
        if os.path.abspath(path).startswith(locked + os.sep):
            raise refused(path)
        return real_stat(path, *args, **kwargs)

    def scandir(path: Any) -> Any:
        if os.path.abspath(path) == locked:
            raise refused(path)
        return real_scandir(path)

    monkeypatch.setattr(os, "stat", stat)
    monkeypatch.setattr(os, "scandir", scandir)
    monkeypatch.chdir(tmp_path)
    found = collect(["app"])
    assert [error.one_line() for error in found.errors] == ["app/locked: cannot read this folder: Permission denied"]
    assert {manifest.file for manifest in found.manifests} == {"app/pods.yaml"}


@pytest.mark.skipif(not hasattr(os, "fsencode") or sys.platform != "linux", reason="file names of any bytes are a Linux habit")
def test_a_file_name_that_is_not_utf8_is_shown_escaped_in_every_format(tmp_path: Path) -> None:
    folder = tmp_path / "app"
    folder.mkdir()
    with open(os.path.join(os.fsencode(folder), b"\xff\xfe.yaml"), "w", encoding="utf-8") as stream:
        stream.write(MULTI)
    for arguments in (["app"], [os.fsdecode(os.path.join(b"app", b"\xff\xfe.yaml"))]):
        outputs = {
            form: run_cli("lint", *arguments, "--format", form, cwd=tmp_path) for form in ("json", "sarif", "junit", "text")
        }
        assert {result.exit_code for result in outputs.values()} == {1}, {f: r.stderr for f, r in outputs.items()}
        assert {f["location"]["file"] for f in json.loads(outputs["json"].stdout)} == {"app/\\xff\\xfe.yaml"}
        sarif = json.loads(outputs["sarif"].stdout)
        assert sarif["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].endswith(".yaml")
        ElementTree.fromstring(outputs["junit"].stdout)  # well-formed
        assert "app/\\xff\\xfe.yaml:" in outputs["text"].stdout


def test_a_folder_named_twice_or_inside_another_argument_is_linted_once_without_a_false_error(tmp_path: Path) -> None:
    write(tmp_path / "app" / "pods.yaml", MULTI)
    write(tmp_path / "app" / "sub" / "more.yaml", MULTI.replace("name: ", "name: more-"))
    once = run_cli("lint", "app", "--format", "json", cwd=tmp_path)
    assert once.exit_code == 1, once.stderr
    for arguments in (["app", "app/"], ["app", "app/sub"], ["app", "app/pods.yaml"]):
        result = run_cli("lint", *arguments, "--format", "json", cwd=tmp_path)
        assert (result.exit_code, result.stdout) == (once.exit_code, once.stdout), result.stderr
        assert "nothing to lint" not in result.stderr
    (tmp_path / "empty").mkdir()  # a folder that really holds nothing still says so
    empty = run_cli("lint", "app", "empty", cwd=tmp_path)
    assert empty.exit_code == 2
    assert "nothing to lint" in empty.stderr


def test_kubectl_errors_are_one_line_whether_klog_wrote_them_quoted_or_as_a_block() -> None:
    from generator.policy.kustomize_build import kubectl_message

    block = (
        'E1201 07:37:49.538948   20271 run.go:72] "command failed" err=<\n'
        "\taccumulating resources: accumulation err='accumulating resources from 'github.com/org/repo?ref=v1': "
        "failed to run '/usr/bin/git fetch --depth=1 https://github.com/org/repo v1': Could not resolve host: github.com\n"
        "\t: exit status 128\n"
        " >\n"
    )
    assert kubectl_message(block) == (
        "accumulating resources: accumulation err='accumulating resources from 'github.com/org/repo?ref=v1': "
        "failed to run '/usr/bin/git fetch --depth=1 https://github.com/org/repo v1': Could not resolve host: github.com "
        ": exit status 128"
    )
    quoted = 'E1201 run.go:72] "command failed" err="accumulating resources: \\"missing.yaml\\" not found"\n'
    assert kubectl_message(quoted) == 'accumulating resources: "missing.yaml" not found'
    assert kubectl_message("error: no kustomization file\n") == "no kustomization file"
