"""Rules judge objects as the controllers run them (issue 28, item 1 and item 3): what KServe, JobSet, Kubeflow
Trainer, Seldon, LeaderWorkerSet and Kueue add before the pods start is there when the rules look.

Each case comes from a sample in ../shared/real-manifests that was misjudged (its path is named) or is one of
our own; each has its counterpart that must still be found, so none of these passes by a rule going quiet.
"""

from __future__ import annotations

from mlgitops.kube.defaults import as_run
from mlgitops.kube.kserve_defaults import limits_kept_above_requests, pvc_claim
from mlgitops.kube.kueue_queues import Queues
from mlgitops.kube.manifest import load_manifests
from mlgitops.policy import Catalog
from tests.policy.linting import findings_in

SKLEARN = """\
apiVersion: serving.kserve.io/v1beta1
kind: InferenceService
metadata:
  name: sklearn-iris
spec:
  predictor:
    sklearn:
      storageUri: gs://kfserving-examples/models/sklearn/1.0/model
"""


def rules_of(text: str, catalog: Catalog, *rules: str) -> list[tuple[str, int]]:
    return sorted((f.rule, f.location.line) for f in findings_in(text, catalog) if f.rule in rules)


def test_a_built_in_model_format_gets_its_runtime_resources_and_security_context(catalog: Catalog) -> None:
    # kserve/v1beta1/sklearn/v1/sklearn.yaml and ~80 samples like it: KServe's runtime sets all three.
    assert rules_of(SKLEARN, catalog, "resources-requests", "resources-limits", "security-non-root") == []
    # The new model spec, TorchServe's runtime (runAsUser 1000).
    model = SKLEARN.replace("sklearn:\n", "model:\n      modelFormat: {name: pytorch}\n")
    assert rules_of(model, catalog, "resources-requests", "resources-limits", "security-non-root") == []


def test_a_runtime_of_the_clusters_own_or_vllms_is_still_judged(catalog: Catalog) -> None:
    own = SKLEARN.replace("sklearn:\n", "model:\n      runtime: my-runtime\n      modelFormat: {name: sklearn}\n")
    assert rules_of(own, catalog, "resources-limits", "security-non-root") == [
        ("resources-limits", 8),
        ("security-non-root", 7),
    ]
    # kserve-vllmserver sets no runAsNonRoot: the image decides.
    vllm = SKLEARN.replace("sklearn:\n", "model:\n      modelFormat: {name: vLLM}\n")
    assert rules_of(vllm, catalog, "resources-limits", "security-non-root") == [("security-non-root", 7)]


def test_a_custom_container_gets_the_webhook_resources_but_not_a_security_context(catalog: Catalog) -> None:
    custom = """\
apiVersion: serving.kserve.io/v1beta1
kind: InferenceService
metadata: {name: custom}
spec:
  predictor:
    containers:
      - name: kserve-container
        image: kserve/custom-model-grpc:v1.0
"""
    assert rules_of(custom, catalog, "resources-requests", "resources-limits", "security-non-root") == [("security-non-root", 6)]


def test_a_request_above_the_runtime_default_limit_is_an_invalid_pod_pointed_at_the_container(catalog: Catalog) -> None:
    text = SKLEARN + "      resources:\n        requests: {cpu: '4', memory: 8Gi}\n        limits: {memory: 8Gi}\n"
    found = [f for f in findings_in(text, catalog) if f.rule == "api-validation"]
    assert [(f.location.line, "cpu limit '1' is below the request '4'" in f.message) for f in found] == [(8, True)]
    assert limits_kept_above_requests({"requests": {"cpu": "4", "memory": "1Gi"}}) == {"cpu": "4"}
    assert limits_kept_above_requests({"requests": {"cpu": "500m"}, "limits": {}}) == {}


GPU = """\
apiVersion: serving.kserve.io/v1beta1
kind: InferenceService
metadata:
  name: flowers
  annotations:
    serving.kserve.io/gke-accelerator: nvidia-tesla-t4
spec:
  predictor:
    tensorflow:
      storageUri: gs://kfserving-examples/models/tensorflow/flowers
      resources:
        limits: {nvidia.com/gpu: 1}
"""


def test_the_gke_accelerator_annotation_becomes_a_node_selector(catalog: Catalog) -> None:
    # kserve/accelerators/tensorflow-gpu.yaml: the pod webhook selects the GKE accelerator, GKE tolerates its taint.
    assert rules_of(GPU, catalog, "gpu-node-selection", "gpu-toleration") == []
    bare = GPU.replace("  annotations:\n    serving.kserve.io/gke-accelerator: nvidia-tesla-t4\n", "")
    assert rules_of(bare, catalog, "gpu-node-selection", "gpu-toleration") == [
        ("gpu-node-selection", 7),
        ("gpu-toleration", 7),
    ]
    obj = load_manifests(GPU, "isvc.yaml")[0].obj
    selector = as_run(obj)[0]["spec"]["predictor"]["nodeSelector"]
    assert selector == {"cloud.google.com/gke-accelerator": "nvidia-tesla-t4"}
    # Without a GPU limit the webhook adds nothing.
    cpu_only = obj | {"spec": {"predictor": {"tensorflow": {"storageUri": "gs://x"}}}}
    assert "nodeSelector" not in as_run(cpu_only)[0]["spec"]["predictor"]


PVC = """\
apiVersion: serving.kserve.io/v1beta1
kind: InferenceService
metadata: {name: llama, namespace: ml}
spec:
  predictor:
    maxReplicas: 3
    model:
      modelFormat: {name: huggingface}
      storageUri: pvc://model-store/llama-31-8b
"""
CLAIM = """\
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: model-store, namespace: ml}
spec:
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: 100Gi}}
"""


def test_a_pvc_storage_uri_is_a_claim_reference(catalog: Catalog) -> None:
    # kserve/fluid/fluid-isvc.yaml: pvc://s3-data/... names a claim the pods mount.
    assert pvc_claim("pvc://model-store/llama") == "model-store"
    assert pvc_claim("pvc://model-store") == "model-store"
    assert pvc_claim("s3://bucket/model") is None
    missing = [f for f in findings_in(PVC, catalog) if f.rule == "pvc-reference"]
    assert [(f.location.line, "'model-store'" in f.message) for f in missing] == [(9, True)]
    # Present, but ReadWriteOnce under three replicas: the claim is shared across nodes.
    shared = [f for f in findings_in(PVC + CLAIM, catalog) if f.rule in ("pvc-reference", "pvc-rwo-shared")]
    assert [(f.rule, f.location.line) for f in shared] == [("pvc-rwo-shared", 9)]
    single = PVC.replace("maxReplicas: 3", "maxReplicas: 1") + CLAIM
    assert rules_of(single, catalog, "pvc-reference", "pvc-rwo-shared") == []


LLM = """\
apiVersion: serving.kserve.io/v1alpha2
kind: LLMInferenceService
metadata: {name: deepseek}
spec:
  model: {uri: "hf://deepseek-ai/DeepSeek-R1"}
  template:
    containers:
      - name: main
        image: ghcr.io/llm-d/llm-d-cuda:v0.8.0
        resources:
          requests: {cpu: "32", memory: 512Gi}
          limits: {memory: 512Gi, nvidia.com/gpu: "8"}
"""


def test_llm_inference_service_presets_mount_dev_shm_and_run_non_root(catalog: Catalog) -> None:
    # kserve/llmisvc/dp-ep/...-deepep-ht.yaml: the preset's container 'main' mounts the memory-backed dshm.
    assert rules_of(LLM, catalog, "gpu-shm", "security-non-root", "serving-probes") == []
    pod = as_run(load_manifests(LLM, "llm.yaml")[0].obj)[0]["spec"]["template"]
    assert {"name": "dshm", "emptyDir": {"medium": "Memory", "sizeLimit": "1Gi"}} in pod["volumes"]
    # A container of another name is a second container beside the preset's: it gets none of that.
    other = LLM.replace("name: main", "name: server")
    assert rules_of(other, catalog, "gpu-shm", "security-non-root") == [("gpu-shm", 7), ("security-non-root", 7)]


RUNTIME = """\
apiVersion: trainer.kubeflow.org/v1alpha1
kind: ClusterTrainingRuntime
metadata: {name: torch-distributed}
spec:
  template:
    spec:
      replicatedJobs:
        - name: node
          template:
            spec:
              template:
                spec:
                  containers:
                    - name: node
                      image: pytorch/pytorch:2.7.1-cuda12.8-cudnn9-runtime
"""


def test_training_runtimes_get_the_jobset_webhook_restart_policy(catalog: Catalog) -> None:
    # trainer/yaml/05-multi-step.yaml: the JobSet Trainer makes gets restartPolicy OnFailure.
    assert rules_of(RUNTIME, catalog, "job-restart-policy") == []
    always = RUNTIME.replace(
        "                  containers:", "                  restartPolicy: Always\n                  containers:"
    )
    assert rules_of(always, catalog, "job-restart-policy") == [("job-restart-policy", 13)]


SERVER = """\
apiVersion: mlops.seldon.io/v1alpha1
kind: Server
metadata: {name: mlserver-gpu}
spec:
  serverConfig: mlserver
  replicas: 2
  podSpec:
    containers:
      - name: mlserver
        resources:
          limits: {nvidia.com/gpu: 1}
"""


def test_a_seldon_server_pod_spec_only_overrides_its_server_config(catalog: Catalog) -> None:
    assert rules_of(SERVER, catalog, "resources-limits", "resources-requests", "security-non-root") == []
    config = """\
apiVersion: mlops.seldon.io/v1alpha1
kind: ServerConfig
metadata: {name: mlserver}
spec:
  podSpec:
    containers:
      - name: mlserver
        image: seldonio/mlserver:1.6.1
"""
    assert rules_of(config, catalog, "resources-limits", "security-non-root") == [
        ("resources-limits", 7),
        ("security-non-root", 6),
    ]


QUEUED = """\
apiVersion: kueue.x-k8s.io/v1beta2
kind: ResourceFlavor
metadata: {name: a100}
spec:
  nodeLabels: {cloud.google.com/gke-accelerator: nvidia-tesla-a100}
  tolerations:
    - {key: nvidia.com/gpu, operator: Exists, effect: NoSchedule}
---
apiVersion: kueue.x-k8s.io/v1beta2
kind: ClusterQueue
metadata: {name: gpus}
spec:
  namespaceSelector: {}
  resourceGroups:
    - coveredResources: [cpu, memory, nvidia.com/gpu]
      flavors:
        - name: a100
          resources:
            - {name: cpu, nominalQuota: 96}
            - {name: memory, nominalQuota: 1Ti}
            - {name: nvidia.com/gpu, nominalQuota: 8}
---
apiVersion: kueue.x-k8s.io/v1beta2
kind: LocalQueue
metadata: {name: team, namespace: ml}
spec: {clusterQueue: gpus}
---
apiVersion: batch/v1
kind: Job
metadata:
  name: train
  namespace: ml
  labels: {kueue.x-k8s.io/queue-name: team}
spec:
  template:
    spec:
      restartPolicy: Never
      containers:
        - name: trainer
          image: pytorch/pytorch:2.7.1-cuda12.8-cudnn9-runtime
          resources:
            requests: {cpu: "8", memory: 64Gi}
            limits: {memory: 64Gi, nvidia.com/gpu: 1}
"""


def test_a_queued_workload_gets_its_flavors_node_labels_and_tolerations(catalog: Catalog) -> None:
    assert rules_of(QUEUED, catalog, "gpu-node-selection", "gpu-toleration") == []
    manifests = load_manifests(QUEUED, "queued.yaml")
    queues = Queues.of((m.obj, m.namespace) for m in manifests)
    pod = as_run(manifests[-1].obj, queues=queues)[0]["spec"]["template"]["spec"]
    assert pod["nodeSelector"] == {"cloud.google.com/gke-accelerator": "nvidia-tesla-a100"}
    assert pod["tolerations"] == [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}]
    # Not queued, or asking more than the queue can ever admit: nothing is injected, the rules still judge it.
    unqueued = QUEUED.replace("  labels: {kueue.x-k8s.io/queue-name: team}\n", "")
    assert rules_of(unqueued, catalog, "gpu-node-selection", "gpu-toleration") == [
        ("gpu-node-selection", 36),
        ("gpu-toleration", 36),
    ]
    too_big = QUEUED.replace("nvidia.com/gpu: 1}", "nvidia.com/gpu: 16}")
    assert ("gpu-node-selection", 37) in rules_of(too_big, catalog, "gpu-node-selection")


LWS = """\
apiVersion: leaderworkerset.x-k8s.io/v1
kind: LeaderWorkerSet
metadata: {name: vllm}
spec:
  replicas: 1
  leaderWorkerTemplate:
    size: 2
    volumeClaimTemplates:
      - metadata: {name: model-cache}
        spec:
          accessModes: [ReadWriteOnce]
          resources: {requests: {storage: 200Gi}}
    workerTemplate:
      spec:
        containers:
          - name: vllm
            image: vllm/vllm-openai:v0.11.0
            volumeMounts:
              - {name: model-cache, mountPath: /models}
"""


def test_leader_worker_set_claim_templates_declare_volumes(catalog: Catalog) -> None:
    assert rules_of(LWS, catalog, "volume-mounts") == []
    missing = LWS.replace("name: model-cache}\n        spec", "name: other}\n        spec")
    assert rules_of(missing, catalog, "volume-mounts") == [("volume-mounts", 19)]


def test_a_fluid_dataset_makes_the_claim_its_name_says(catalog: Catalog) -> None:
    # kserve/fluid/fluid-isvc.yaml mounts pvc://s3-data/..., the claim Fluid creates for Dataset s3-data.
    fluid = PVC.replace("maxReplicas: 3", "maxReplicas: 1") + (
        "---\napiVersion: data.fluid.io/v1alpha1\nkind: Dataset\nmetadata: {name: model-store, namespace: ml}\n"
        "spec:\n  mounts: [{mountPoint: 's3://models', name: models}]\n"
    )
    assert rules_of(fluid, catalog, "pvc-reference") == []
    other = fluid.replace("kind: Dataset\nmetadata: {name: model-store", "kind: Dataset\nmetadata: {name: datasets")
    assert rules_of(other, catalog, "pvc-reference") == [("pvc-reference", 9)]


def _every_container(value: object) -> list[dict[str, object] | list[object]]:
    if isinstance(value, dict):
        return [value, *(found for child in value.values() for found in _every_container(child))]
    if isinstance(value, list):
        return [value, *(found for child in value for found in _every_container(child))]
    return []


def test_defaults_are_written_to_a_private_copy_never_to_the_object_as_written() -> None:
    """as_run copies once (``without_nulls`` copies every mapping and list): no mapping or list of the result is
    shared with the object as written, so defaulting and later rules never change what findings locate against."""
    import copy

    for obj in [manifest.obj for manifest in load_manifests(LLM, "llm.yaml")]:
        written = copy.deepcopy(obj)
        result, _ = as_run(obj)
        assert result is not obj
        shared = {id(node) for node in _every_container(obj)} & {id(node) for node in _every_container(result)}
        assert not shared
        for node in _every_container(result):
            node.clear()
        assert obj == written
