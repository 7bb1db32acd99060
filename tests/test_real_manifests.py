"""`mlgitops lint` on manifests nobody here wrote: eight projects' samples in ../shared/real-manifests.

Each project folder (see its SOURCES.md) is linted on its own, with the upstream CRDs, in one test per
project. Every run must end in findings, never in a crash (exit 3) or a traceback; the few files that
are not valid YAML (KServe's `{username}` placeholders) and the kustomization with a remote base are
reported as located input errors (exit 2) while everything else is still linted. Every finding below
was judged by hand to be true and must stay found; the false positives the issue named (and others
of their kinds found in this folder) must stay gone; schema errors are only the ones judged true.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from tests.support import REPO, CliResult, kubectl, lint_findings, run_cli, shared_dir

Key = tuple[str, str, int]

# (rule, file under real-manifests/, line), judged true by hand (issue 14's closing table).
JUDGED_TRUE: set[Key] = {
    ("security-host-access", "jobset/tpu-multislice/v6e-jax-workload.yaml", 27),
    ("security-privileged", "jobset/tpu-multislice/v6e-jax-workload.yaml", 36),
    ("pvc-rwo-shared", "jobset/volume-claim-policy/single-pvc.yaml", 49),
    ("pvc-rwo-shared", "jobset/volume-claim-policy/single-pvc.yaml", 74),
    ("gpu-node-selection", "kuberay/pytorch-resnet-image-classifier/ray-job.pytorch-image-classifier.yaml", 81),
    ("gpu-node-selection", "kuberay/pytorch-text-classifier/ray-job.pytorch-distributed-training.yaml", 24),
    ("secret-reference", "kuberay/ray-cluster.auth-manual.yaml", 23),
    ("plaintext-secret", "kuberay/ray-cluster.auth.secret-ref.yaml", 6),
    ("serving-probes", "kuberay/ray-cluster.deprecate-gcs-ft.yaml", 151),
    ("plaintext-secret", "kuberay/ray-cluster.deprecate-gcs-ft.yaml", 174),
    ("serving-probes", "kuberay/ray-cluster.external-redis.yaml", 140),
    ("plaintext-secret", "kuberay/ray-cluster.external-redis.yaml", 163),
    ("pvc-prune-protection", "kuberay/ray-cluster.persistent-redis.yaml", 129),
    ("serving-probes", "kuberay/ray-cluster.persistent-redis.yaml", 156),
    ("plaintext-secret", "kuberay/ray-cluster.tls.yaml", 207),
    ("gpu-node-selection", "kuberay/ray-cluster.verl.yaml", 11),
    ("gpu-toleration", "kuberay/ray-cluster.verl.yaml", 11),
    ("emptydir-size", "kuberay/ray-data-image-resize/ray-data-image-resize-gcsfusecsi-job.yaml", 57),
    ("secret-reference", "kuberay/ray-service.high-throughput-gemma4.yaml", 74),
    ("emptydir-size", "kuberay/ray-service.high-throughput-gemma4.yaml", 120),
    ("gpu-toleration", "kuberay/ray-service.llm-serve.yaml", 71),
    ("gpu-node-selection", "kuberay/ray-service.stable-diffusion.yaml", 48),
    ("emptydir-size", "kuberay/vllm/ray-service.vllm-tpu-v6e-singlehost.yaml", 64),
    ("network-policy", "kueue/serving-workloads/sample-hami.yaml", 46),
    ("gpu-toleration", "kueue/serving-workloads/sample-leaderworkerset-tas.yaml", 36),
    ("gpu-limits", "kueue/serving-workloads/sample-leaderworkerset-tas.yaml", 42),
    ("serving-probes", "kueue/serving-workloads/sample-deployment.yaml", 19),
    ("serving-probes", "kueue/serving-workloads/sample-statefulset.yaml", 19),
    ("security-non-root", "jobset/depends-on/depends-on.yaml", 16),
    ("security-non-root", "kuberay/ray-job.tpu-v6e-singlehost.yaml", 45),  # runAsUser: 0
    ("resources-limits", "jobset/depends-on/depends-on.yaml", 17),
    ("resources-requests", "jobset/depends-on/depends-on.yaml", 17),
    ("image-tag", "jobset/depends-on/depends-on.yaml", 18),
    ("resources-requests", "kueue/admin/shared-quota-sample-job.yaml", 22),
    ("schema", "jobset/argo-workflow/workflow.yaml", 2),
    ("ray-worker-gpus", "kuberay/ray-job.resources.yaml", 29),  # the head tells Ray num-gpus=2 and has none
    ("security-privileged", "device-plugin/gpu-feature-discovery-daemonset.yaml", 31),  # privileged: true
    ("placeholder", "gpu-operator/0500_daemonset.yaml", 5),  # namespace "FILLED BY THE OPERATOR": an asset, not appliable
    ("gpu-toleration", "trainer/flux/lammps-train-gpus.yaml", 39),  # nvidia.com/gpu: "1", no toleration
    ("serving-probes", "volcano/deployment/deployment.yaml", 25),  # nginx on port 80, no readinessProbe
    # APIs the API server of 1.32 no longer serves (issue 28): extensions/v1beta1 since 1.16, scheduling v1beta1 since 1.22.
    ("api-version", "kserve/multimodelserving/triton/minio.yaml", 2),
    ("api-version", "volcano/kubecon-2019-china/task-priority/high-priority.yaml", 1),
    ("api-version", "volcano/kubecon-2019-china/task-priority/normal-priority.yaml", 1),
}
# Schema errors, each judged true: the API server (strict field validation, kubectl's default) refuses these.
JUDGED_SCHEMA_ERRORS: set[Key] = {
    # `cpu: 0.1` is a number; a CRD's quantity is an integer or a string (the API server: "must be of type integer,string").
    ("schema", "kserve/explanation/alibi/cifar10/cifar10.yaml", 11),
    ("schema", "kserve/explanation/alibi/income/income.yaml", 12),
    ("schema", "kserve/explanation/alibi/moviesentiment/moviesentiment.yaml", 12),
    ("schema", "kserve/explanation/alibi/moviesentiment/moviesentiment2.yaml", 11),
    # Stale samples: fields the InferenceService and LLMInferenceService CRDs of the same commit no longer have.
    ("schema", "kserve/explanation/alibi/cifar10/cifar10.yaml", 16),  # spec.explainer.alibi
    ("schema", "kserve/explanation/alibi/income/income.yaml", 19),
    ("schema", "kserve/explanation/alibi/moviesentiment/moviesentiment.yaml", 19),
    ("schema", "kserve/explanation/alibi/moviesentiment/moviesentiment2.yaml", 13),
    ("schema", "kserve/rollout-strategy/rollout-strategy-example.yaml", 24),  # spec.transformer.custom
    ("schema", "kserve/llmisvc/kv-cache-offloading/llm-inference-service-kv-cache-offloading.yaml", 25),  # spec.workload
    ("schema", "kserve/v1beta1/torchserve/v1/bloom/bloom-560m.yaml", 14),  # nodeName belongs in the predictor
    # A block of text where the CRD wants an object (RawExtension: type object).
    ("schema", "kserve/llmisvc/latency-predictor/llm-inference-service-latency-predictor.yaml", 13),
    # `volumeID: {volume-id}`: an unfilled placeholder reads as a mapping.
    ("schema", "kserve/v1beta1/custom/torchserve/pv.yaml", 13),
    ("schema", "kserve/v1beta1/torchserve/model-archiver/pv.yaml", 13),
    # Kinds whose upstream CRDs ship with mlgitops since issue 28 (generator/kube/upstream_crds):
    # `cpu: 0.5`, a number where the Training Operator's CRD wants an integer or a string (as KServe's above).
    ("schema", "kueue/jobs/sample-xgboostjob.yaml", 20),
    ("schema", "kueue/jobs/sample-xgboostjob.yaml", 43),
    # `priorityClass:` in a Volcano task's pod template: PodSpec has priorityClassName, no such field.
    ("schema", "volcano/kubecon-2019-china/task-priority/elastic-job.yaml", 16),
    ("schema", "volcano/kubecon-2019-china/task-priority/elastic-job.yaml", 29),
    # An LLMInferenceServiceConfig's scheduler pool spec without selector, targetPorts and endpointPickerRef.name,
    # which the CRD of the same commit requires (an InferencePoolSpec; no defaults).
    ("schema", "kserve/llmisvc/e2e-gpt-oss/llmisvc_config_default.yaml", 35),
    ("schema", "kserve/llmisvc/e2e-gpt-oss/llmisvc_config_default.yaml", 36),
    ("schema", "kserve/llmisvc/e2e-gpt-oss/llmisvc_config_prefix_cache.yaml", 90),
    ("schema", "kserve/llmisvc/e2e-gpt-oss/llmisvc_config_prefix_cache.yaml", 91),
}
# False positives of the kinds that this folder held before, which must not come back.
FIXED: set[Key] = {
    ("schema", "jobset/failure-policy/failjobset-action.yaml", 10),  # the JobSet webhook names failure-policy rules
    ("schema", "kuberay/ray-cluster.kai-scheduler.yaml", 82),  # maxReplicas has a CRD default
    ("schema", "kuberay/ray-cluster.persistent-redis.yaml", 146),  # StatefulSet serviceName was never required
    ("schema", "kuberay/ray-service.high-throughput-gemma4.yaml", 81),  # `metadata:` null is unset
    ("volume-mounts", "jobset/volume-claim-policy/single-pvc.yaml", 49),  # volumeClaimPolicies declare volumes
    ("plaintext-secret", "kuberay/ray-cluster.kubernetes.auth-manual.yaml", 20),  # RAY_ENABLE_K8S_TOKEN_AUTH: "true"
    ("security-non-root", "kueue/jobs/sample-mpijob.yaml", 22),  # runAsUser: 1000
    ("resources-requests", "kueue/jobs/sample-mpijob.yaml", 29),  # limits stand in for requests
    ("gpu-toleration", "kuberay/ray-cluster.tpu-v4-singlehost.yaml", 54),  # GKE tolerates TPU taints itself
    ("gpu-shm", "kuberay/ray-cluster.tpu-v4-singlehost.yaml", 54),  # TPUs do not use NCCL
    ("gpu-toleration", "kuberay/ray-service.stable-diffusion.yaml", 62),  # tolerates its pool's own taint
    ("gpu-shm", "kuberay/ray-service.high-throughput-gemma4.yaml", 119),  # has a memory /dev/shm (no sizeLimit)
    ("gpu-toleration", "kueue/dra/sample-dra-extended-resource-job.yaml", 11),  # example.com/gpu: no vendor taint
    ("serving-probes", "kueue/serving-workloads/sample-hami.yaml", 61),  # gpu-burn serves nothing
    ("gpu-shm", "kuberay/ray-cluster.verl.yaml", 11),  # KubeRay mounts a memory /dev/shm into Ray pods
    ("gpu-shm", "kuberay/ray-job.batch-inference.yaml", 39),
    ("gpu-shm", "kuberay/ray-service.deepseek.yaml", 66),
    ("gpu-shm", "kuberay/ray-service.llm-serve.yaml", 71),
    # The JobSet webhook defaults a replicated Job's pod restartPolicy to OnFailure (jobset pkg/webhooks
    # jobset_webhook.go, Default), and Kubeflow Trainer makes a JobSet of a (Cluster)TrainingRuntime's template.
    ("job-restart-policy", "trainer/flux/flux-runtime.yaml", 38),
    ("job-restart-policy", "trainer/yaml/04-volcano-integration.yaml", 60),
    ("job-restart-policy", "trainer/yaml/05-multi-step.yaml", 55),
    ("job-restart-policy", "trainer/yaml/05-multi-step.yaml", 69),
    # Issue 28: KServe's runtime and webhook fill resources and securityContext; the GKE accelerator annotation
    # selects GPU nodes (GKE tolerates their taint); LLMInferenceService presets mount /dev/shm; placeholders are a
    # note; Fluid's Dataset makes the claim pvc://s3-data names.
    ("resources-limits", "kserve/accelerators/tensorflow-gpu.yaml", 14),
    ("security-non-root", "kserve/accelerators/tensorflow-gpu.yaml", 9),
    ("gpu-node-selection", "kserve/accelerators/tensorflow-gpu.yaml", 9),
    ("gpu-toleration", "kserve/accelerators/tensorflow-gpu.yaml", 9),
    ("gpu-shm", "kserve/llmisvc/agentic-tool-calling/nemotron-3-ultra-pd.yaml", 65),
    ("api-validation", "kserve/gcp-iap/sklearn-iap-no-authz.yaml", 5),
    ("image-tag", "gpu-operator/0500_daemonset.yaml", 30),
    ("serviceaccount-reference", "kuberay/vllm/ray-service.vllm-tpu-v6e-singlehost.yaml", 33),
    ("pvc-reference", "kserve/fluid/fluid-isvc.yaml", 14),
}


# Project folder → the files its lint run reads (the summary line's count).
PROJECTS: dict[str, int] = {
    "device-plugin": 6,
    "gpu-operator": 7,
    "jobset": 47,
    "kserve": 178,
    "kuberay": 94,
    "kueue": 80,
    "trainer": 9,
    "volcano": 41,
}
# Input errors each project reports, located: (file, line, column) → what the message says. Everything
# else in the project is linted all the same.
INPUT_ERRORS: dict[str, dict[tuple[str, int, int], str]] = {
    "kserve": {
        ("kserve/metrics-and-monitoring/prometheus-operator/kustomization.yaml", 4, 3): (
            "mlgitops does not let kubectl kustomize fetch remote resources"
        ),
        **{
            (file, line, column): "invalid YAML"  # `image: {username}/...`: a placeholder starts a flow mapping
            for file, line, column in (
                ("kserve/bentoml/bentoml.yaml", 10, 31),
                ("kserve/v1beta1/custom/torchserve/autoscale.yaml", 10, 24),
                ("kserve/v1beta1/custom/torchserve/bert-sample/bert.yaml", 8, 24),
                ("kserve/v1beta1/custom/torchserve/canary.yaml", 9, 24),
                ("kserve/v1beta1/custom/torchserve/gpu.yaml", 8, 24),
                ("kserve/v1beta1/custom/torchserve/logger/torchserve-logger.yaml", 12, 26),
                ("kserve/v1beta1/custom/torchserve/metrics.yaml", 11, 24),
                ("kserve/v1beta1/custom/torchserve/torchserve-custom-pv.yaml", 8, 26),
                ("kserve/v1beta1/custom/torchserve/torchserve-custom.yaml", 8, 24),
                ("kserve/v1beta1/torchserve/model-archiver/model-archiver.yaml", 19, 24),
            )
        },
    },
}
KUSTOMIZE_ROOTS = {"kserve"}  # projects with kustomizations: lint builds them with kubectl kustomize
_INPUT_ERROR = re.compile(r"error: (?P<file>.+?):(?P<line>\d+):(?P<column>\d+): (?P<message>.*)")


def lint(project: str) -> CliResult:
    shared = shared_dir()
    if project in KUSTOMIZE_ROOTS:
        kubectl()
    folder = shared / "real-manifests" / project
    return run_cli("lint", str(folder), "--crd", str(shared / "crds"), "--format", "json", cwd=REPO, timeout=600)


def _relative(path: str) -> str:
    return Path(path).as_posix().split("real-manifests/")[1]


def _key(finding: dict[str, object]) -> Key:
    location = finding["location"]
    assert isinstance(location, dict)
    return str(finding["rule"]), _relative(str(location["file"])), int(location["line"])


def _of(project: str, keys: set[Key]) -> set[Key]:
    return {key for key in keys if key[1].startswith(f"{project}/")}


@pytest.mark.needs_shared
def test_every_project_folder_has_its_test() -> None:
    folders = sorted(path.name for path in (shared_dir() / "real-manifests").iterdir() if path.is_dir())
    assert folders == sorted(PROJECTS)


@pytest.mark.needs_shared
@pytest.mark.parametrize("project", sorted(PROJECTS))
def test_each_project_is_linted_whole_and_judged_right(project: str) -> None:
    result = lint(project)
    assert result.exit_code != 3, result.stderr  # never a crash
    assert "Traceback" not in result.stderr
    # Input errors: located (file:line:column), each expected; the run goes on past them.
    errors: dict[tuple[str, int, int], str] = {}
    for line in result.stderr.splitlines():
        if line.startswith("error: "):
            match = _INPUT_ERROR.fullmatch(line)
            assert match, line  # every error names its file, line and column
            errors[(_relative(match["file"]), int(match["line"]), int(match["column"]))] = match["message"]
    expected = INPUT_ERRORS.get(project, {})
    assert sorted(errors) == sorted(expected), result.stderr
    for place, words in expected.items():
        assert words in errors[place], errors[place]
    assert result.exit_code == (2 if expected else 1), result.stderr  # findings, and input errors where there are some
    assert result.stderr.rstrip().endswith(f"in {PROJECTS[project]} file(s)"), result.stderr[-500:]
    # Exactly the files PyYAML refuses are the ones reported as invalid YAML.
    folder = shared_dir() / "real-manifests" / project
    refused: set[str] = set()
    for path in sorted(folder.rglob("*.y*ml")):
        try:
            list(yaml.safe_load_all(path.read_text(encoding="utf-8")))
        except yaml.YAMLError:
            refused.add(_relative(str(path)))
    assert refused == {file for (file, _, _), message in errors.items() if message.startswith("invalid YAML")}

    findings = lint_findings(result.stdout)
    found = {_key(finding) for finding in findings}
    assert findings, "no findings: the project was not linted"
    assert _of(project, JUDGED_TRUE | JUDGED_SCHEMA_ERRORS) - found == set()
    assert found & _of(project, FIXED) == set()
    # Every custom resource the CRDs describe validates but for the errors judged true; other schema findings
    # are "no schema for ..." notes.
    schema_errors = {_key(f) for f in findings if f["rule"] == "schema" and f["severity"] != "info"}
    assert schema_errors == _of(project, JUDGED_SCHEMA_ERRORS)
    assert not [f for f in findings if "None" in str(f["message"]) or "datetime" in str(f["message"])]
