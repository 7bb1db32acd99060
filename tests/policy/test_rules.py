"""Rules on the shapes the renderer emits and users write: each case names the rule, its findings and their places."""

from __future__ import annotations

from decimal import Decimal

from mlgitops.kube.cluster import NodePoolFacts, Taint
from mlgitops.policy import Catalog, PolicyContext
from tests.policy.linting import findings_in

GIB = Decimal(2**30)
POOLS = (
    NodePoolFacts("cpu", {"node-pool": "cpu"}, (), {"cpu": Decimal(16), "memory": 64 * GIB}),
    NodePoolFacts(
        "a100",
        {"node-pool": "a100", "nvidia.com/gpu.product": "NVIDIA-A100-SXM4-80GB"},
        (Taint("dedicated", "NoSchedule", "ml-training"),),
        {"cpu": Decimal(96), "memory": 1000 * GIB, "nvidia.com/gpu": Decimal(8)},
    ),
)

PYTORCHJOB = """\
apiVersion: kubeflow.org/v1
kind: PyTorchJob
metadata: {name: ddp-3f2a91c0, namespace: ml}
spec:
  pytorchReplicaSpecs:
    Master:
      replicas: 1
      restartPolicy: OnFailure
      template:
        spec:
          securityContext: {runAsNonRoot: true}
          containers:
            - name: pytorch
              image: ghcr.io/acme/train:2.0
              resources:
                limits: {memory: 32Gi, nvidia.com/gpu: 1}
    Worker:
      replicas: 3
      restartPolicy: OnFailure
      template:
        spec:
          securityContext: {runAsNonRoot: true}
          tolerations: [{key: nvidia.com/gpu, operator: Exists, effect: NoSchedule}]
          nodeSelector: {nvidia.com/gpu.product: NVIDIA-A100-SXM4-80GB}
          containers:
            - name: pytorch
              image: ghcr.io/acme/train:2.0
              resources:
                requests: {cpu: "8", memory: 32Gi, nvidia.com/gpu: 1}
                limits: {memory: 32Gi, nvidia.com/gpu: 1}
"""

GPU_JOB = """\
apiVersion: batch/v1
kind: Job
metadata: {name: train-1a2b3c4d, namespace: ml}
spec:
  backoffLimit: 2
  template:
    spec:
      restartPolicy: Never
      securityContext: {runAsNonRoot: true}
      nodeSelector: {node-pool: a100}
      tolerations:
        - {key: dedicated, operator: Exists, effect: NoSchedule}
      containers:
        - name: trainer
          image: ghcr.io/acme/train:2.0
          resources:
            requests: {cpu: "8", memory: 64Gi, nvidia.com/gpu: 4}
            limits: {memory: 64Gi, nvidia.com/gpu: 4}
          volumeMounts:
            - {name: dshm, mountPath: /dev/shm}
            - {name: cache, mountPath: /cache}
      volumes:
        - name: dshm
          emptyDir: {medium: Memory, sizeLimit: 16Gi}
        - name: cache
          emptyDir: {}
"""

SERVE_WITH_HPA = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: serve, namespace: ml}
spec:
  selector: {matchLabels: {app: serve}}
  template:
    metadata:
      labels: {app: serve}
      annotations:
        mlgitops.io/external-claims: shared-models
    spec:
      securityContext: {runAsNonRoot: true}
      containers:
        - name: server
          image: ghcr.io/acme/serve:1.4.2
          readinessProbe: {httpGet: {path: /ready, port: 8080}}
          resources:
            requests: {cpu: "2"}
            limits: {memory: 4Gi}
          volumeMounts:
            - {name: models, mountPath: /models, readOnly: true}
            - {name: cache, mountPath: /cache}
      volumes:
        - name: models
          persistentVolumeClaim: {claimName: shared-models}
        - name: cache
          persistentVolumeClaim: {claimName: serve-cache}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: serve-cache
  namespace: ml
  annotations:
    argocd.argoproj.io/sync-options: Prune=false,Delete=false
    kustomize.toolkit.fluxcd.io/prune: disabled
spec:
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: 10Gi}}
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: serve, namespace: ml}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: serve}
  minReplicas: 2
  maxReplicas: 8
  metrics:
    - type: Resource
      resource: {name: cpu, target: {type: Utilization, averageUtilization: 70}}
    - type: Resource
      resource: {name: memory, target: {type: Utilization, averageUtilization: 80}}
"""

NIGHTLY = """\
apiVersion: batch/v1
kind: CronJob
metadata: {name: nightly, namespace: ml}
spec:
  schedule: "0 2 * * *"
  jobTemplate:
    spec:
      ttlSecondsAfterFinished: 3600
      template:
        spec:
          restartPolicy: Always
          securityContext: {runAsNonRoot: true}
          initContainers:
            - name: fetch
              image: ghcr.io/acme/fetch:1.0
          containers:
            - name: embed
              image: ghcr.io/acme/embed:1.0
              env:
                - {name: WANDB_API_KEY, value: "0123456789abcdef"}
                - {name: WANDB_PROJECT, value: embeddings}
              resources:
                requests: {cpu: "1", memory: 2Gi}
                limits: {memory: 2Gi}
"""


def _found(
    catalog: Catalog, text: str, rule: str, pools: tuple[NodePoolFacts, ...] = (), gitops: tuple[str, ...] | None = None
) -> list[tuple[int, int, str]]:
    found = findings_in(text, catalog, context=PolicyContext(node_pools=pools, gitops=gitops), rule=rule)
    return [(f.location.line, f.location.column, f.message) for f in found]


def test_pytorchjob_master_and_worker_pod_templates_are_both_checked(catalog: Catalog) -> None:
    # The Master's container sets limits only: the API server copies its memory limit into the
    # request, so only cpu is missing. The Worker requests everything.
    assert _found(catalog, PYTORCHJOB, "resources-requests") == [(15, 15, "container 'pytorch' does not request cpu")]
    # One GPU per pod: no NCCL between local ranks, so no /dev/shm finding for either replica type.
    assert _found(catalog, PYTORCHJOB, "gpu-shm") == []
    eight = PYTORCHJOB.replace("nvidia.com/gpu: 1}", "nvidia.com/gpu: 8}")
    assert [(line, column) for line, column, _ in _found(catalog, eight, "gpu-shm")] == [(11, 11), (22, 11)]


def test_without_a_cluster_profile_gpu_pods_must_tolerate_the_nvidia_taint(catalog: Catalog) -> None:
    # The Worker tolerates nvidia.com/gpu; the Master tolerates nothing.
    assert _found(catalog, PYTORCHJOB, "gpu-toleration") == [
        (
            11,
            11,
            "pod requests nvidia.com/gpu but tolerates no nvidia.com/gpu taint (any value), which such nodes usually carry; "
            "it may stay Pending",
        )
    ]
    # The Job tolerates its pool's own taint (dedicated): it targets nodes tainted that way, not nvidia.com/gpu.
    assert _found(catalog, GPU_JOB, "gpu-toleration") == []
    untolerated = GPU_JOB.replace(
        "        - {key: dedicated, operator: Exists, effect: NoSchedule}\n", "        - {key: x, effect: NoExecute}\n"
    )
    assert [(line, column) for line, column, _ in _found(catalog, untolerated, "gpu-toleration")] == [(12, 9)]


def test_with_a_cluster_profile_gpu_pods_must_tolerate_the_pools_own_taints(catalog: Catalog) -> None:
    # The a100 pool is tainted dedicated=ml-training: the Worker's nvidia.com/gpu toleration no longer suffices.
    assert [(line, column) for line, column, _ in _found(catalog, PYTORCHJOB, "gpu-toleration", POOLS)] == [(11, 11), (23, 24)]
    assert _found(catalog, GPU_JOB, "gpu-toleration", POOLS) == []


def test_gpu_pods_select_gpu_nodes(catalog: Catalog) -> None:
    assert [(line, column) for line, column, _ in _found(catalog, PYTORCHJOB, "gpu-node-selection")] == [(11, 11)]
    affinity = GPU_JOB.replace(
        "      nodeSelector: {node-pool: a100}\n",
        "      affinity:\n        nodeAffinity:\n          requiredDuringSchedulingIgnoredDuringExecution:\n"
        "            nodeSelectorTerms:\n              - matchExpressions:\n"
        "                  - {key: nvidia.com/gpu.product, operator: Exists}\n",
    )
    assert _found(catalog, affinity, "gpu-node-selection") == []
    unselected = GPU_JOB.replace("      nodeSelector: {node-pool: a100}\n", "")
    # Reported at the pod spec (the value of template.spec) that lacks a selector.
    assert [(line, column) for line, column, _ in _found(catalog, unselected, "gpu-node-selection")] == [(8, 7)]


def test_schedulable_compares_requests_with_the_pools_a_pod_may_use(catalog: Catalog) -> None:
    assert _found(catalog, GPU_JOB, "schedulable", POOLS) == []
    assert _found(catalog, GPU_JOB, "schedulable") == []  # no cluster profile: nothing to compare with
    greedy = GPU_JOB.replace("nvidia.com/gpu: 4}", "nvidia.com/gpu: 16}")
    # Pod-level sums are reported at the pod's containers.
    assert _found(catalog, greedy, "schedulable", POOLS) == [
        (14, 9, "pod requests 16 nvidia.com/gpu but the largest node it may use (pool 'a100') has 8: it would never schedule")
    ]
    assert _found(catalog, PYTORCHJOB, "schedulable", POOLS) == [
        (13, 13, "pod requests 1 nvidia.com/gpu but the largest node it may use (pool 'cpu') has 0: it would never schedule"),
        (24, 25, "no node pool admits this pod: none matches its nodeSelector with all of its taints tolerated"),
    ]


def test_gpu_limits_are_whole_and_requests_equal_them(catalog: Catalog) -> None:
    assert _found(catalog, GPU_JOB, "gpu-limits") == []
    uneven = GPU_JOB.replace("limits: {memory: 64Gi, nvidia.com/gpu: 4}", "limits: {memory: 64Gi, nvidia.com/gpu: 2}")
    assert [(line, column) for line, column, _ in _found(catalog, uneven, "gpu-limits")] == [(17, 64)]
    mig = GPU_JOB.replace("nvidia.com/gpu: 4", "nvidia.com/mig-1g.10gb: 0.5")
    assert "whole number" in _found(catalog, mig, "gpu-limits")[0][2]


def test_a_gpu_pod_has_a_sized_memory_backed_dev_shm(catalog: Catalog) -> None:
    assert _found(catalog, GPU_JOB, "gpu-shm") == []
    # Without a sizeLimit it is still shared memory: only emptydir-size reports the missing limit.
    unsized = GPU_JOB.replace("emptyDir: {medium: Memory, sizeLimit: 16Gi}", "emptyDir: {medium: Memory}")
    assert _found(catalog, unsized, "gpu-shm") == []
    assert [(line, column) for line, column, _ in _found(catalog, unsized, "emptydir-size")] == [(24, 11)]
    on_disk = GPU_JOB.replace("emptyDir: {medium: Memory, sizeLimit: 16Gi}", "emptyDir: {sizeLimit: 16Gi}")
    assert [(line, column) for line, column, _ in _found(catalog, on_disk, "gpu-shm")] == [(23, 9)]


def test_emptydir_is_fine_for_scratch_and_dev_shm_but_not_for_data(catalog: Catalog) -> None:
    assert _found(catalog, GPU_JOB, "emptydir-data") == []
    checkpoints = GPU_JOB.replace("mountPath: /cache}", "mountPath: /checkpoints}")
    assert [(line, column) for line, column, _ in _found(catalog, checkpoints, "emptydir-data")] == [(21, 40)]
    declared = checkpoints.replace(
        "  template:\n    spec:\n",
        "  template:\n    metadata:\n      annotations: {mlgitops.io/scratch-volumes: cache}\n    spec:\n",
    )
    # Declared scratch, yet at a checkpoint path: a warning (the path says keep, the volume says throw away).
    [warned] = findings_in(declared, catalog, context=PolicyContext(), rule="emptydir-data")
    assert (warned.severity, warned.location.line, warned.location.column) == ("warning", 23, 40)
    assert warned.message.startswith("scratch volume 'cache' is mounted at /checkpoints")
    at_cache = declared.replace("mountPath: /checkpoints}", "mountPath: /scratch/cache}")
    assert _found(catalog, at_cache, "emptydir-data") == []


def test_an_hpa_target_must_request_what_its_utilization_metrics_measure(catalog: Catalog) -> None:
    # The memory limit stands in for the missing memory request (the API server copies it).
    assert _found(catalog, SERVE_WITH_HPA, "hpa-target") == []
    no_memory = SERVE_WITH_HPA.replace("limits: {memory: 4Gi}", 'limits: {cpu: "4"}')
    assert _found(catalog, no_memory, "hpa-target") == [
        (
            52,
            24,
            "memory utilization is a share of the request, but container 'server' of Deployment 'serve' requests no memory: "
            "the HPA never acts",
        )
    ]
    missing = no_memory.replace("kind: Deployment, name: serve}", "kind: Deployment, name: serving}")
    assert [(line, column) for line, column, _ in _found(catalog, missing, "hpa-target")] == [(45, 65)]


def test_a_deployment_under_an_hpa_leaves_replicas_to_it(catalog: Catalog) -> None:
    assert _found(catalog, SERVE_WITH_HPA, "hpa-replicas") == []
    pinned = SERVE_WITH_HPA.replace("spec:\n  selector: {matchLabels", "spec:\n  replicas: 3\n  selector: {matchLabels", 1)
    synced = _found(catalog, pinned, "hpa-replicas", gitops=("argocd",))  # .mlgitops.yaml: gitops: [argocd]
    assert [(line, column) for line, column, _ in synced] == [(5, 13)]
    inverted = SERVE_WITH_HPA.replace("minReplicas: 2", "minReplicas: 9")
    assert _found(catalog, inverted, "hpa-replicas") == [(46, 16, "minReplicas 9 is above maxReplicas 8")]


def test_autoscaling_v1_needs_a_cpu_target(catalog: Catalog) -> None:
    v1 = "apiVersion: autoscaling/v1\nkind: HorizontalPodAutoscaler\nmetadata: {name: s}\nspec:\n  maxReplicas: 4\n"
    assert [(line, column) for line, column, _ in _found(catalog, v1, "hpa-metrics")] == [(4, 1)]
    assert _found(catalog, v1 + "  targetCPUUtilizationPercentage: 70\n", "hpa-metrics") == []


def test_claims_exist_in_the_set_or_are_declared_external(catalog: Catalog) -> None:
    assert _found(catalog, SERVE_WITH_HPA, "pvc-reference") == []
    undeclared = SERVE_WITH_HPA.replace("mlgitops.io/external-claims: shared-models", "acme.io/note: none")
    assert [(line, column) for line, column, _ in _found(catalog, undeclared, "pvc-reference")] == [(25, 46)]


def test_a_read_write_once_claim_is_not_shared_by_scaled_or_several_workloads(catalog: Catalog) -> None:
    assert [(line, column) for line, column, _ in _found(catalog, SERVE_WITH_HPA, "pvc-rwo-shared")] == [(27, 46)]
    shared = SERVE_WITH_HPA.replace("ReadWriteOnce", "ReadWriteMany")
    assert _found(catalog, shared, "pvc-rwo-shared") == []
    writer = GPU_JOB.replace(
        "        - name: cache\n          emptyDir: {}\n",
        "        - name: cache\n          persistentVolumeClaim: {claimName: serve-cache}\n",
    )
    unscaled = SERVE_WITH_HPA.split("---\n")[0] + "---\n" + SERVE_WITH_HPA.split("---\n")[1] + "---\n" + writer
    # Two workloads share the claim, and the one-replica Deployment's RollingUpdate starts a second pod.
    messages = [message for _, _, message in _found(catalog, unscaled, "pvc-rwo-shared")]
    assert len(messages) == 2
    assert any("plus 1 more during a RollingUpdate" in m and "strategy: Recreate" in m for m in messages)
    assert any("several workloads" in m for m in messages)


def test_pvcs_are_protected_from_a_gitops_prune(catalog: Catalog) -> None:
    assert _found(catalog, SERVE_WITH_HPA, "pvc-prune-protection") == []
    flux_only = SERVE_WITH_HPA.replace("    argocd.argoproj.io/sync-options: Prune=false,Delete=false\n", "")
    both = _found(catalog, flux_only, "pvc-prune-protection", gitops=("argocd", "flux"))  # gitops: [argocd, flux]
    assert [(line, column) for line, column, _ in both] == [(35, 5)]


def test_cronjob_pod_templates_and_init_containers_are_checked(catalog: Catalog) -> None:
    assert _found(catalog, NIGHTLY, "job-restart-policy") == [
        (11, 26, "a Job's pods need restartPolicy Never or OnFailure, not 'Always'")
    ]
    assert _found(catalog, NIGHTLY, "resources-requests") == [(14, 15, "init container 'fetch' does not request cpu and memory")]
    assert [(line, column) for line, column, _ in _found(catalog, NIGHTLY, "plaintext-secret")] == [(20, 48)]


def test_a_cronjobs_job_template_may_set_a_ttl_but_a_gitops_job_may_not(catalog: Catalog) -> None:
    # The CronJob's Jobs are not in git, so cleaning them up is right; a Job in git would be recreated and rerun.
    assert _found(catalog, NIGHTLY, "job-gitops-ttl") == []
    with_ttl = GPU_JOB.replace("  backoffLimit: 2\n", "  backoffLimit: 2\n  ttlSecondsAfterFinished: 600\n")
    synced = _found(catalog, with_ttl, "job-gitops-ttl", gitops=("argocd",))
    assert [(line, column) for line, column, _ in synced] == [(6, 28)]
    hook = with_ttl.replace(
        "metadata: {name: train-1a2b3c4d, namespace: ml}",
        "metadata:\n  name: train-1a2b3c4d\n  namespace: ml\n  annotations: {argocd.argoproj.io/hook: PostSync}",
    )
    assert _found(catalog, hook, "job-gitops-ttl") == []


AMBIGUOUS_VALUES = """\
apiVersion: batch/v1
kind: Job
metadata:
  name: sweep
  labels: {shuffle: n}
spec:
  template:
    spec:
      restartPolicy: Never
      containers:
        - name: trainer
          image: ml-image:1.0
          args: [--lr, 1e-4, --wd, '1e-5']
          env:
            - {name: LEARNING_RATE, value: 3e-4}
            - {name: SEED, value: "42"}
          resources:
            requests: {cpu: 1e3, memory: 8Gi}
"""


def test_values_go_readers_take_for_numbers_fail_where_kubernetes_wants_text(catalog: Catalog) -> None:
    found = findings_in(AMBIGUOUS_VALUES, catalog, context=PolicyContext(), rule="ambiguous-yaml-value")
    assert [(f.location.line, f.location.column, f.severity) for f in found] == [
        (5, 21, "error"),  # a label value
        (13, 24, "error"),  # an argument
        (15, 44, "error"),  # an env value
        (18, 29, "warning"),  # a quantity decodes from a number
    ]
    assert found[2].message == (
        "the plain value 3e-4 is text to PyYAML (Python tools, YAML 1.1); the number 0.0003 to kubectl and the API "
        "server (Go, YAML 1.1) and kustomize (kyaml, YAML 1.2): kubectl sends the number 0.0003 where Kubernetes "
        "expects text, so the apply fails: write '3e-4'"
    )


UNDECLARED_MOUNTS = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: embed
spec:
  selector: {matchLabels: {app: embed}}
  template:
    metadata: {labels: {app: embed}}
    spec:
      initContainers:
        - name: fetch
          image: ml-image:1.0
          volumeMounts: [{name: model, mountPath: /models}]
      containers:
        - name: server
          image: ml-image:1.0
          volumeMounts: [{name: models, mountPath: /models}]
          volumeDevices: [{name: raw-index, devicePath: /dev/xvdb}]
      volumes:
        - {name: models, persistentVolumeClaim: {claimName: model-store}}
"""


def test_mounts_of_undeclared_volumes_fail_in_init_containers_and_block_devices_too(catalog: Catalog) -> None:
    assert _found(catalog, UNDECLARED_MOUNTS, "volume-mounts") == [
        (
            13,
            33,
            "init container 'fetch' mounts volume 'model', which the pod does not declare in spec.volumes: "
            "the API server rejects the pod",
        ),
        (
            18,
            34,
            "container 'server' mounts volume 'raw-index', which the pod does not declare in spec.volumes: "
            "the API server rejects the pod",
        ),
    ]
