"""Lint on custom resources: pod templates inside training and serving CRs, and CRD schemas."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml

from tests.policy.test_lint import _findings
from tests.support import REPO, lint_findings, run_in_process, upstream_crd, write


def test_policies_reach_pod_templates_inside_pytorchjobs(tmp_path: Path) -> None:

    from mlgitops.fleet.build import build
    from mlgitops.load.environments import load_environments

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
    widget = jobset.replace("jobset.x-k8s.io/v1alpha2", "example.com/v1").replace("kind: JobSet", "kind: Widget")
    _, findings = _findings(tmp_path, widget)
    schema = next(f for f in findings if f["rule"] == "schema")
    assert schema["severity"] == "info"
    _, findings = _findings(tmp_path, jobset)  # JobSet's upstream CRD ships with mlgitops
    assert [f["message"] for f in findings if f["rule"] == "schema"] == ["spec.replicatedJobz: unknown field 'replicatedJobz'"]
    crd = upstream_crd("jobset.x-k8s.io_jobsets.yaml")
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
    crd = upstream_crd("jobset.x-k8s.io_jobsets.yaml")
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
    crd_path = upstream_crd(crd)
    files = sorted((REPO / "rendered").glob(rendered_file))
    assert files
    for index, path in enumerate(files):
        shutil.copy(path, tmp_path / f"{index}.yaml")
    result = run_in_process("lint", ".", "--crd", str(crd_path), "--format", "json", cwd=tmp_path)
    assert [f for f in lint_findings(result.stdout) if f["rule"] == "schema"] == []
    # The same path catches a field the upstream CRD does not know.
    broken = (tmp_path / "0.yaml").read_text().replace("\nspec:\n", "\nspec:\n  notAField: 1\n", 1)
    (tmp_path / "0.yaml").write_text(broken)
    result = run_in_process("lint", "0.yaml", "--crd", str(crd_path), "--format", "json", cwd=tmp_path)
    assert [f["message"] for f in lint_findings(result.stdout) if f["rule"] == "schema"] == [
        "spec.notAField: unknown field 'notAField'"
    ]
