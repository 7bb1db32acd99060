"""Issue 14's kinds of false positives and blind spots: each example of the issue, and more of the same kind.

Each case is a manifest, a rule, and the messages that rule must report (none for a false
positive that is fixed).
"""

from __future__ import annotations

import pytest

from mlgitops.policy import Catalog
from tests.policy.linting import findings_in


def _messages(catalog: Catalog, text: str, rule: str) -> list[str]:
    return [f.message for f in findings_in(text, catalog, rule=rule)]


def _pod(spec: str, kind: str = "Pod") -> str:
    header = {"Pod": "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n"}[kind]
    return header + spec


LIMITS_ONLY = _pod("  containers:\n  - {name: c, image: 'c:1', resources: {limits: {cpu: '2', memory: 4Gi}}}\n")
STATEFULSET = """\
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db}
spec:
  serviceName: db
  selector: {matchLabels: {app: db}}
  template:
    metadata: {labels: {app: db}}
    spec:
      containers: [{name: db, image: 'db:1', volumeMounts: [{name: data, mountPath: /data}]}]
  volumeClaimTemplates: [{metadata: {name: data}, spec: {accessModes: [ReadWriteOnce]}}]
"""
TRAINER_WITH_VOLUMES = """\
apiVersion: trainer.kubeflow.org/v1alpha1
kind: TrainJob
metadata: {name: t}
spec:
  runtimeRef: {name: torch-distributed}
  trainer: {image: 't:1', numNodes: 2}
  runtimePatches:
    - manager: me
      trainingRuntimeSpec:
        template:
          spec:
            replicatedJobs:
              - name: node
                template:
                  spec:
                    template:
                      spec:
                        containers: [{name: node, volumeMounts: [{name: data, mountPath: /data}]}]
"""
NON_ROOT_BY_USER = _pod("  securityContext: {runAsUser: 1000}\n  containers: [{name: c, image: 'c:1'}]\n")
NON_ROOT_BY_CONTAINER = _pod("  containers: [{name: c, image: 'c:1', securityContext: {runAsUser: 65532, runAsGroup: 0}}]\n")
ENV = _pod(
    "  containers:\n  - name: c\n    image: 'c:1'\n    env:\n"
    "    - {name: TOKENIZERS_PARALLELISM, value: 'false'}\n"
    "    - {name: PASS_DEVICE_SPECS, value: 'true'}\n"
    "    - {name: GOOGLE_APPLICATION_CREDENTIALS, value: /k.json}\n"
    "    - {name: NCCL_SOCKET_NTHREADS, value: '4'}\n"
    "    - {name: REDIS_PASSWORD, value: $(REDIS_PASSWORD_FROM_SECRET)}\n"
    "    - {name: OPENAI_API_KEY, value: sk-proj-abc123}\n"
    "    - {name: mlflowTrackingToken, value: dapi0123456789}\n"
)
QUEUE_WORKER = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: embed-worker}
spec:
  selector: {matchLabels: {app: embed-worker}}
  template:
    metadata: {labels: {app: embed-worker}}
    spec:
      containers: [{name: worker, image: 'w:1', args: [--queue, embeddings]}]
"""
GPU_SMOKE = _pod("  containers: [{name: smoke, image: 'cuda:12', resources: {limits: {nvidia.com/gpu: 1}}}]\n")
CPU_WITH_ZERO_GPUS = _pod(
    "  containers:\n  - name: etl\n    image: 'e:1'\n"
    "    resources: {requests: {cpu: '1', memory: 1Gi}, limits: {memory: 1Gi, nvidia.com/gpu: 0}}\n"
)
UNNAMED = _pod("  containers: [{image: 'c:1'}]\n")
KSERVE = """\
apiVersion: serving.kserve.io/v1beta1
kind: InferenceService
metadata: {name: resnet}
spec:
  predictor:
    pytorch: {storageUri: 's3://models/resnet', runtime: own-torchserve}
  transformer:
    containers: [{name: kserve-container, image: 'transformer:1'}]
"""
AMD = _pod(
    "  nodeSelector: {pool: mi300}\n  tolerations: [{key: nvidia.com/gpu, operator: Exists, effect: NoSchedule}]\n"
    "  containers: [{name: c, image: 'rocm:6', resources: {limits: {amd.com/gpu: 1}}}]\n"
)
GKE = _pod(
    "  nodeSelector: {pool: l4}\n  tolerations: [{key: nvidia.com/gpu, operator: Equal, value: present, effect: NoSchedule}]\n"
    "  containers: [{name: c, image: 'vllm:1', resources: {limits: {nvidia.com/gpu: 1}}}]\n"
)
GAUDI = _pod(
    "  nodeSelector: {pool: gaudi2}\n  containers: [{name: c, image: 'habana:1', resources: {limits: {habana.ai/gaudi: 8}}}]\n"
)
NEURON = _pod(
    "  nodeSelector: {pool: inf2}\n  tolerations: [{key: aws.amazon.com/neuron, operator: Exists}]\n"
    "  containers: [{name: c, image: 'neuron:1', resources: {limits: {aws.amazon.com/neuroncore: 2}}}]\n"
)
JOBSET_GPU = """\
apiVersion: jobset.x-k8s.io/v1alpha2
kind: JobSet
metadata: {name: pretrain}
spec:
  replicatedJobs:
    - name: workers
      replicas: 2
      template:
        spec:
          parallelism: 2
          template:
            spec:
              restartPolicy: Always
              containers: [{name: t, image: 't:1', resources: {limits: {nvidia.com/gpu: 8}}}]
"""
VOLCANO = """\
apiVersion: batch.volcano.sh/v1alpha1
kind: Job
metadata: {name: mpi}
spec:
  ttlSecondsAfterFinished: 60
  tasks:
    - name: worker
      replicas: 2
      template:
        spec:
          restartPolicy: Always
          containers: [{name: worker, image: 'mpi:1'}]
"""
LLM = """\
apiVersion: serving.kserve.io/v1alpha1
kind: LLMInferenceService
metadata: {name: llama}
spec:
  template:
    containers: [{name: main, resources: {limits: {nvidia.com/gpu: 2}}}]
"""


@pytest.mark.parametrize(
    ("text", "rule", "expected"),
    [
        # 1. What the API server and controllers fill in.
        (LIMITS_ONLY, "resources-requests", []),
        (STATEFULSET, "volume-mounts", []),
        (TRAINER_WITH_VOLUMES, "volume-mounts", []),  # the runtime declares the volumes a TrainJob's patches mount
        # 2. Security by the right signal.
        (NON_ROOT_BY_USER, "security-non-root", []),
        (NON_ROOT_BY_CONTAINER, "security-non-root", []),
        (
            ENV,
            "plaintext-secret",
            [
                "env var 'OPENAI_API_KEY' of container 'c' holds a literal value; read it from a Secret with "
                "valueFrom.secretKeyRef",
                "env var 'mlflowTrackingToken' of container 'c' holds a literal value; read it from a Secret with "
                "valueFrom.secretKeyRef",
            ],
        ),
        # 3. Rule scope no wider than its title.
        (QUEUE_WORKER, "serving-probes", []),
        (GPU_SMOKE, "gpu-shm", []),
        (CPU_WITH_ZERO_GPUS, "gpu-toleration", []),
        (CPU_WITH_ZERO_GPUS, "gpu-node-selection", []),
        (CPU_WITH_ZERO_GPUS, "gpu-limits", []),
        (UNNAMED, "resources-limits", ["the container at spec.containers[0] has no memory limit"]),
        (
            KSERVE,
            "resources-limits",
            # KServe's webhook limits a custom transformer's first container; the cluster's own runtime is unknown.
            ["the container at spec.predictor.pytorch has no memory limit"],
        ),
        # 4. Every accelerator, its own taint key, any value.
        (
            AMD,
            "gpu-toleration",
            [
                "pod requests amd.com/gpu but tolerates no amd.com/gpu taint (any value), which such nodes usually carry; "
                "it may stay Pending"
            ],
        ),
        (GKE, "gpu-toleration", []),
        (
            GAUDI,
            "gpu-toleration",
            [
                "pod requests habana.ai/gaudi but tolerates no habana.ai/gaudi taint (any value), which such nodes usually "
                "carry; it may stay Pending"
            ],
        ),
        (NEURON, "gpu-toleration", []),
        # 7. Pod templates in custom resources, counted across replicas.
        (JOBSET_GPU, "job-restart-policy", ["a Job's pods need restartPolicy Never or OnFailure, not 'Always'"]),
        (
            JOBSET_GPU,
            "gpu-shm",
            [
                "pod uses 8 GPUs (nvidia.com/gpu) without a memory-backed /dev/shm: NCCL between its ranks and "
                "DataLoader workers outgrow the 64Mi default"
            ],
        ),
        (VOLCANO, "job-restart-policy", []),  # not a batch/v1 Job
        (VOLCANO, "job-gitops-ttl", []),
        (VOLCANO, "resources-requests", ["container 'worker' does not request cpu and memory"]),
        (LLM, "resources-requests", ["container 'main' does not request cpu and memory"]),
    ],
)
def test_issue_kinds(catalog: Catalog, text: str, rule: str, expected: list[str]) -> None:
    assert _messages(catalog, text, rule) == expected


def test_a_trainjob_trainer_is_judged_on_its_own_fields(catalog: Catalog) -> None:
    text = """\
apiVersion: trainer.kubeflow.org/v1alpha1
kind: TrainJob
metadata: {name: finetune}
spec:
  runtimeRef: {name: torch-distributed}
  trainer:
    image: ghcr.io/acme/finetune:latest
    numNodes: 2
    resourcesPerNode:
      requests: {nvidia.com/gpu: 4}
      limits: {nvidia.com/gpu: 8}
"""
    found = findings_in(text, catalog)
    by_rule = {f.rule: (f.location.line, f.location.column, f.message) for f in found}
    assert by_rule["image-tag"][:2] == (7, 12)
    assert by_rule["gpu-limits"] == (
        10,
        34,
        "nvidia.com/gpu (NVIDIA accelerator): the request 4 differs from the limit 8; they must be equal",
    )
    # Its pods are the trainer with its runtime patches (none here): they tolerate and select nothing.
    assert {"gpu-toleration", "gpu-node-selection", "security-non-root", "resources-limits"} <= set(by_rule)
    assert by_rule["resources-limits"][:2] == (11, 15)  # resourcesPerNode.limits, which has no memory


def test_a_trainjob_that_leaves_sizing_to_its_runtime_is_judged_only_on_what_it_writes(catalog: Catalog) -> None:
    text = """\
apiVersion: trainer.kubeflow.org/v1alpha1
kind: TrainJob
metadata: {name: finetune}
spec:
  runtimeRef: {name: torch-distributed}
  trainer:
    image: ghcr.io/acme/finetune:latest
    numNodes: 2
"""
    rules = {f.rule for f in findings_in(text, catalog)}
    assert "image-tag" in rules
    assert {"resources-requests", "resources-limits", "security-non-root", "schema"}.isdisjoint(rules)


def test_the_hpa_message_says_what_the_api_server_fills_in(catalog: Catalog) -> None:
    text = (
        "apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {name: h}\n"
        "spec: {scaleTargetRef: {kind: Deployment, name: d}, maxReplicas: 3}\n"
    )
    [message] = _messages(catalog, text, "hpa-metrics")
    assert "implicit default of 80 % average CPU utilisation" in message
    assert "needs CPU requests" in message


def test_pdb_percentages_round_up_like_the_disruption_controller(catalog: Catalog) -> None:
    deployment = (
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec:\n  replicas: 3\n"
        "  selector: {matchLabels: {app: d}}\n"
        "  template: {metadata: {labels: {app: d}}, spec: {containers: [{name: c, image: 'c:1'}]}}\n---\n"
    )
    pdb = "apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {name: d}\nspec:\n  selector: {matchLabels: {app: d}}\n"
    assert _messages(catalog, deployment + pdb + "  minAvailable: 90%\n", "pdb-blocks-drain") == [
        "minAvailable 90% of 3 rounds up to 3, which equals or exceeds the 3 replica(s) of Deployment 'd': no pod can be "
        "evicted and node drains hang"
    ]
    assert _messages(catalog, deployment + pdb + "  minAvailable: 60%\n", "pdb-blocks-drain") == []  # 2 of 3
    assert _messages(catalog, deployment + pdb + "  maxUnavailable: 0%\n", "pdb-blocks-drain") == [
        "maxUnavailable 0% lets no pod be evicted: node drains hang"
    ]
    assert _messages(catalog, deployment + pdb + "  maxUnavailable: 10%\n", "pdb-blocks-drain") == []  # rounds up to 1


def test_values_are_judged_as_kubectl_reads_them_and_quoted_as_written(catalog: Catalog) -> None:
    config = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata:\n  WINDOW: 1:30\n  LIMIT: 1\n  FLAG: yes\n"
    schema = _messages(catalog, config, "schema")
    # 1:30 is 90 to PyYAML, but kubectl sends the text "1:30": valid. 1 and yes are not text to kubectl.
    assert schema == [
        "data.LIMIT: 1 is a number, not text: quote it ('1') to keep it text",
        "data.FLAG: yes is a boolean, not text: quote it ('yes') to keep it text",
    ]
    ambiguous = findings_in(config, catalog, rule="ambiguous-yaml-value")
    assert [(f.location.line, f.severity) for f in ambiguous] == [(5, "warning"), (7, "error")]
    dated = (
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec:\n  replicas: 2024-04-01\n"
        "  selector: {matchLabels: {app: d}}\n"
        "  template: {metadata: {labels: {app: d}}, spec: {containers: [{name: c, image: 'c:1'}]}}\n"
    )
    assert _messages(catalog, dated, "schema") == ["spec.replicas: 2024-04-01 is text, not a whole number"]


def test_free_form_values_are_judged_too(catalog: Catalog) -> None:
    release = """\
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata: {name: vllm}
spec:
  interval: 10m
  values:
    served: 2025-03-01
    maintenanceWindow: 2:30
    spot: on
    shuffle: n
    lr: 3e-4
    replicas: 2
"""
    found = findings_in(release, catalog, rule="ambiguous-yaml-value")
    assert [(f.location.line, f.severity) for f in found] == [
        (7, "warning"),
        (8, "warning"),
        (9, "warning"),
        (10, "warning"),
        (11, "warning"),
    ]
    assert found[2].message.startswith(
        "the plain value on is the boolean true to PyYAML (Python tools, YAML 1.1) and kubectl and the API server "
        "(Go, YAML 1.1); text to kustomize (kyaml, YAML 1.2)"
    )


def test_a_null_field_is_unset_as_the_api_server_takes_it(catalog: Catalog) -> None:
    text = (
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d, labels: null}\nspec:\n"
        "  selector: {matchLabels: {app: d}}\n  template:\n    metadata:\n    spec: {containers: [{name: c, image: 'c:1'}]}\n"
    )
    assert _messages(catalog, text, "schema") == []
    wrong = text.replace("spec: {containers:", "spec: {restartPolicy: 3, containers:")
    assert _messages(catalog, wrong, "schema") == [
        "spec.template.spec.restartPolicy: 3 is a number, not text: quote it ('3') to keep it text"
    ]
