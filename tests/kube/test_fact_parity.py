"""One fact, one answer: render's spec checks and lint's rules judge the same case alike.

Each fact below has one implementation in ``kube/`` (``volumes.py``, ``autoscalers.py``, ``fit.py``) that a spec
check (run by render on the environment file) and a policy rule (run by lint on objects) both call. Each test feeds
one case to both sides and compares their verdicts, so a copy of the fact that drifts on either side fails here.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from mlgitops.kube.autoscalers import scaled_object_bounds
from mlgitops.kube.cluster import NodePoolFacts, Taint, requirement_matches
from mlgitops.kube.kueue_admission import matches
from mlgitops.kube.kueue_queues import Flavor, PodSet
from mlgitops.kube.manifest import load_manifests
from mlgitops.kube.volumes import attaches_to_one_node, repeated_paths
from mlgitops.load.environments import load_environments
from mlgitops.policy import PolicyContext, evaluate, load_catalog
from mlgitops.render import render_environment
from mlgitops.spec.checks import check_environment
from mlgitops.spec.environment import Environment
from tests.support import write

HEADER = """\
namespace: ml
kubernetesVersion: "1.32"
cluster:
  nodePools:
    - name: gpu
      labels: {node-pool: gpu}
      taints: [{key: nvidia.com/gpu}]
      allocatable: {cpu: "94", memory: 1800Gi, gpus: 8}
    - name: cpu
      labels: {node-pool: cpu}
      allocatable: {cpu: "16", memory: 64Gi}
"""
SERVER = """\
  - name: serve
    kind: serving
    image: registry.example/serve:1
    ports: [{name: http, port: 8080}]
    resources: {cpu: "1", memory: 1Gi}
"""
KEDA = """\
    keda:
      minReplicas: %d
      maxReplicas: %d
      prometheus: http://prometheus.monitoring.svc:9090
      triggers: [{query: "sum(rate(requests_total[1m]))", target: "50", activation: "1"}]
    probes: {startup: {httpGet: {path: /ready, port: http}}}
"""
HPA = """\
    autoscaling:
      minReplicas: %d
      maxReplicas: %d
      metrics: [{type: cpu, utilization: 70}]
"""


def _environment(tmp_path: Path, body: str) -> Environment:
    write(tmp_path / "environments" / "dev.yaml", HEADER + body)
    [loaded] = load_environments(tmp_path / "environments")
    return loaded.spec


def _spec_messages(tmp_path: Path, body: str, *, about: str) -> list[str]:
    """What render's spec checks say about fields whose path contains ``about``."""
    return [p.message for p in check_environment(_environment(tmp_path, body)) if about in p.path]


def _rule_paths(
    text: str, rule: str, pools: tuple[NodePoolFacts, ...] = (), gitops: tuple[str, ...] | None = None
) -> list[tuple[str | int, ...]]:
    """Where lint's ``rule`` finds something in the manifests of ``text`` (the fields of its findings)."""
    context = PolicyContext(node_pools=pools, gitops=gitops)
    findings = evaluate(load_manifests(text, "manifests.yaml"), load_catalog(), context)
    return [finding.path for finding in findings if finding.rule == rule]


# Two mounts at one path: spec/checks.py (mounts of environment volumes) and volume-mounts (the pod's volumeMounts).
PATHS = [["/data", "/out"], ["/data", "/data"], ["/a", "/b", "/a", "/b"], ["/a", "/a", "/a"]]


@pytest.mark.parametrize("paths", PATHS, ids=["distinct", "one-repeat", "two-repeats", "three-at-one"])
def test_repeated_mount_paths_are_the_same_mounts_in_render_and_lint(tmp_path: Path, paths: list[str]) -> None:
    volumes = "volumes:\n" + "".join(f"  - name: v{i}\n    claim: {{size: 1Gi}}\n" for i in range(len(paths)))
    mounts = "    mounts:\n" + "".join(f"      - {{volume: v{i}, path: {p}, role: data}}\n" for i, p in enumerate(paths))
    problems = check_environment(_environment(tmp_path, volumes + "workloads:\n" + SERVER + mounts))
    spec = sorted(int(p.path[3]) for p in problems if p.path[-1] == "path" and "mounted twice" in p.message)
    pod = "apiVersion: v1\nkind: Pod\nmetadata: {name: serve}\nspec:\n  containers:\n    - name: serve\n      image: x:1\n"
    pod += "      volumeMounts:\n" + "".join(f"        - {{name: v{i}, mountPath: {p}}}\n" for i, p in enumerate(paths))
    pod += "  volumes:\n" + "".join(f"    - {{name: v{i}, emptyDir: {{}}}}\n" for i in range(len(paths)))
    lint = sorted(int(path[4]) for path in _rule_paths(pod, "volume-mounts") if path[-1] == "mountPath")
    assert spec == lint == sorted(repeated_paths(paths))


def test_render_keeps_the_shared_memory_path_for_its_own_volume(tmp_path: Path) -> None:
    body = "volumes:\n  - name: v0\n    claim: {size: 1Gi}\nworkloads:\n" + SERVER
    body += "    mounts: [{volume: v0, path: /dev/shm, role: data}]\n"
    assert _spec_messages(tmp_path, body, about="mounts") == ["path '/dev/shm' is mounted twice"]


# Claims that attach to one node: render's rollout strategy, the LLM server's claim check and pvc-rwo-shared.
MODES = [
    (["ReadWriteOnce"], True),
    (["ReadWriteOncePod"], True),
    (["ReadWriteOnce", "ReadWriteOncePod"], True),
    (["ReadWriteMany"], False),
    (["ReadOnlyMany"], False),
    (["ReadWriteOnce", "ReadOnlyMany"], False),
]


@pytest.mark.parametrize(("modes", "one_node"), MODES, ids=["+".join(modes) for modes, _ in MODES])
def test_claims_that_attach_to_one_node_are_the_same_in_render_and_lint(tmp_path: Path, modes: list[str], one_node: bool) -> None:
    assert attaches_to_one_node(modes) is one_node  # kubernetes pkg/volume/util/util.go IsMultiAttachAllowed
    body = f"volumes:\n  - name: data\n    claim: {{size: 1Gi, accessModes: [{', '.join(modes)}]}}\nworkloads:\n" + SERVER
    body += "    mounts: [{volume: data, path: /data, role: data}]\n"
    [deployment] = [r.obj for r in render_environment(_environment(tmp_path, body), "dev") if r.kind == "Deployment"]
    recreated = deployment["spec"].get("strategy") == {"type": "Recreate"}
    text = f"""\
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {{name: data}}
spec: {{accessModes: [{", ".join(modes)}], resources: {{requests: {{storage: 1Gi}}}}}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {{name: serve}}
spec:
  replicas: 2
  selector: {{matchLabels: {{app: serve}}}}
  template:
    metadata: {{labels: {{app: serve}}}}
    spec:
      containers: [{{name: serve, image: "x:1", volumeMounts: [{{name: data, mountPath: /data}}]}}]
      volumes: [{{name: data, persistentVolumeClaim: {{claimName: data}}}}]
"""
    shared = bool(_rule_paths(text, "pvc-rwo-shared"))
    assert recreated is shared is one_node


# Autoscaler bounds: spec/serving_checks.py and spec/server_checks.py against hpa-replicas.
BOUNDS = [(1, 3), (3, 3), (4, 3), (9, 1)]


def _autoscaler_manifests(kind: str, low: int | None, high: int | None, *, replicas: int | None = None) -> str:
    deployment = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: serve}\nspec:\n"
    deployment += f"  replicas: {replicas}\n" if replicas is not None else ""
    deployment += "  selector: {matchLabels: {app: serve}}\n  template:\n    metadata: {labels: {app: serve}}\n"
    deployment += '    spec: {containers: [{name: serve, image: "x:1", resources: {requests: {cpu: "1"}}}]}\n'
    if kind == "HorizontalPodAutoscaler":
        autoscaler = "apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {name: serve}\nspec:\n"
        autoscaler += "  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: serve}\n"
        autoscaler += f"  minReplicas: {low}\n  maxReplicas: {high}\n"
        autoscaler += (
            "  metrics: [{type: Resource, resource: {name: cpu, target: {type: Utilization, averageUtilization: 70}}}]\n"
        )
    else:
        autoscaler = "apiVersion: keda.sh/v1alpha1\nkind: ScaledObject\nmetadata: {name: serve}\nspec:\n"
        autoscaler += "  scaleTargetRef: {name: serve}\n"
        autoscaler += f"  minReplicaCount: {low}\n" if low is not None else ""
        autoscaler += f"  maxReplicaCount: {high}\n" if high is not None else ""
        autoscaler += '  triggers: [{type: prometheus, metadata: {serverAddress: "http://p:9090", query: q, threshold: "5"}}]\n'
    return deployment + "---\n" + autoscaler


@pytest.mark.parametrize(("low", "high"), BOUNDS)
def test_hpa_bounds_are_judged_alike_in_render_and_lint(tmp_path: Path, low: int, high: int) -> None:
    spec = _spec_messages(tmp_path, "workloads:\n" + SERVER + HPA % (low, high), about="maxReplicas")
    lint = _rule_paths(_autoscaler_manifests("HorizontalPodAutoscaler", low, high), "hpa-replicas")
    assert bool(spec) is bool(lint) is (low > high)


@pytest.mark.parametrize(("low", "high"), [(0, 1), *BOUNDS])
def test_keda_bounds_are_judged_alike_in_render_and_lint(tmp_path: Path, low: int, high: int) -> None:
    spec = _spec_messages(tmp_path, "workloads:\n" + SERVER + KEDA % (low, high), about="maxReplicas")
    lint = _rule_paths(_autoscaler_manifests("ScaledObject", low, high), "hpa-replicas")
    assert bool(spec) is bool(lint) is (low > high)


def test_keda_judges_an_explicit_zero_minimum_as_one() -> None:
    """kedacore/keda CheckReplicaCountBoundsAreValid: GetHPAMinReplicas turns a minReplicaCount of 0 into 1."""
    assert scaled_object_bounds(None, 0).inverted is False
    assert scaled_object_bounds(0, 0).inverted is True
    assert scaled_object_bounds(None, None) == scaled_object_bounds(None, 100)
    findings = evaluate(load_manifests(_autoscaler_manifests("ScaledObject", 0, 0), "m.yaml"), load_catalog(), PolicyContext())
    assert [f.message for f in findings if f.rule == "hpa-replicas"] == [
        "minReplicaCount 0 (which KEDA takes as 1) is above maxReplicaCount 0"
    ]
    assert _rule_paths(_autoscaler_manifests("ScaledObject", None, 0), "hpa-replicas") == []


@pytest.mark.parametrize("kind", ["HorizontalPodAutoscaler", "ScaledObject"])
@pytest.mark.parametrize("replicas", [None, 2])
def test_replicas_under_an_autoscaler_are_judged_alike(tmp_path: Path, kind: str, replicas: int | None) -> None:
    scaling = HPA % (1, 3) if kind == "HorizontalPodAutoscaler" else KEDA % (1, 3)
    body = "workloads:\n" + SERVER + (f"    replicas: {replicas}\n" if replicas is not None else "") + scaling
    spec = [p for p in check_environment(_environment(tmp_path, body)) if p.path[-1] == "replicas"]
    # What mlgitops renders is synced by GitOps; lint judges replicas under an autoscaler where GitOps shows (issue 28).
    lint = _rule_paths(_autoscaler_manifests(kind, 1, 3, replicas=replicas), "hpa-replicas", gitops=("argocd",))
    assert bool(spec) is bool(lint) is (replicas is not None)
    assert _rule_paths(_autoscaler_manifests(kind, 1, 3, replicas=replicas), "hpa-replicas") == []


@pytest.mark.parametrize(("hpa", "keda"), [(True, True), (True, False), (False, True)])
def test_two_autoscalers_on_one_target_are_judged_alike(tmp_path: Path, hpa: bool, keda: bool) -> None:
    body = "workloads:\n" + SERVER + (HPA % (1, 3) if hpa else "") + (KEDA % (1, 3) if keda else "")
    spec = [p for p in check_environment(_environment(tmp_path, body)) if "both scale this workload" in p.message]
    text = _autoscaler_manifests("HorizontalPodAutoscaler", 1, 3) if hpa else ""
    if keda:
        scaled = _autoscaler_manifests("ScaledObject", 1, 3).split("---\n")[1]
        text = (text + "---\n" + scaled) if hpa else _autoscaler_manifests("ScaledObject", 1, 3)
    lint = _rule_paths(text, "hpa-keda-conflict")
    assert bool(spec) is bool(lint) is (hpa and keda)


# GPUs per pod against the largest node: spec/checks.py (every pod group, Ray's too) and ray-worker-gpus.
GPU_POOL = NodePoolFacts(
    "gpu",
    labels={"node-pool": "gpu"},
    taints=(Taint("nvidia.com/gpu"),),
    allocatable={"cpu": Decimal(94), "memory": Decimal(1800 * 2**30), "nvidia.com/gpu": Decimal(8)},
)


@pytest.mark.parametrize("gpus", [4, 8, 9, 16])
def test_ray_gpus_per_pod_are_judged_alike_in_render_and_lint(tmp_path: Path, gpus: int) -> None:
    body = f"""\
workloads:
  - name: tune
    kind: ray-job
    image: rayproject/ray:2.41.0
    entrypoint: python tune.py
    resources: {{cpu: "2", memory: 8Gi}}
    nodePool: cpu
    workerGroups:
      - name: gpu
        replicas: 1
        nodePool: gpu
        resources: {{cpu: "8", memory: 64Gi, gpu: {gpus}}}
"""
    spec = [p for p in check_environment(_environment(tmp_path, body)) if p.path[-1] == "gpu"]
    text = f"""\
apiVersion: ray.io/v1
kind: RayCluster
metadata: {{name: tune}}
spec:
  headGroupSpec:
    rayStartParams: {{}}
    template:
      spec:
        containers: [{{name: ray-head, image: "rayproject/ray:2.41.0", resources: {{requests: {{cpu: "2", memory: 8Gi}}}}}}]
  workerGroupSpecs:
    - groupName: gpu
      replicas: 1
      rayStartParams: {{}}
      template:
        spec:
          nodeSelector: {{node-pool: gpu}}
          tolerations: [{{key: nvidia.com/gpu, operator: Exists, effect: NoSchedule}}]
          containers:
            - name: ray-worker
              image: "rayproject/ray:2.41.0-gpu"
              resources:
                requests: {{cpu: "8", memory: 64Gi}}
                limits: {{memory: 64Gi, nvidia.com/gpu: {gpus}}}
"""
    lint = _rule_paths(text, "ray-worker-gpus", (GPU_POOL,))
    assert bool(spec) is bool(lint) is (gpus > 8)


# A required node affinity requirement against a pool's labels: spec/pod_checks.py (render) and Kueue's flavor
# matching (kube/kueue_admission.py, behind kueue-quota and render's budget split).
REQUIREMENTS = [
    ("In", ["a100", "h100"], True),
    ("In", ["a100"], False),
    ("NotIn", ["h100"], False),
    ("NotIn", ["a100"], True),
    ("Exists", [], True),
    ("DoesNotExist", [], False),
    ("Gt", ["40"], True),
    ("Gt", ["80"], False),
    ("Lt", ["100"], True),
    ("Lt", ["80"], False),
]


@pytest.mark.parametrize(("operator", "values", "met"), REQUIREMENTS)
def test_node_affinity_against_a_pools_labels_is_judged_alike(
    tmp_path: Path, operator: str, values: list[str], met: bool
) -> None:
    labels = {"gpu.product": "h100", "gpu.memory": "80"}
    key = "gpu.memory" if operator in ("Gt", "Lt") else "gpu.product"
    body = "workloads:\n" + SERVER + "    nodePool: cpu\n"
    quoted = ", ".join(repr(value) for value in values)
    body += f"    nodeAffinity: {{required: [{{key: {key}, operator: {operator}, values: [{quoted}]}}]}}\n"
    header = HEADER.replace("labels: {node-pool: cpu}", "labels: {node-pool: cpu, gpu.product: h100, gpu.memory: '80'}")
    write(tmp_path / "environments" / "dev.yaml", header + body)
    [loaded] = load_environments(tmp_path / "environments")
    spec = [p for p in check_environment(loaded.spec) if "nodeAffinity" in p.path]
    expression = {"key": key, "operator": operator, "values": values}
    refusal = matches(PodSet("main", 1, {}, affinity_terms=((expression,),)), Flavor("cpu", node_labels=labels))
    assert (not spec) is (refusal is None) is met


def test_gt_and_lt_compare_as_go_reads_whole_numbers() -> None:
    """apimachinery's Requirement.Matches: strconv.ParseInt(_, 10, 64) on both sides; anything else never matches."""
    assert requirement_matches("mem", "Gt", ["+40"], {"mem": "80"})
    assert not requirement_matches("mem", "Gt", ["40"], {"mem": "eighty"})
    assert not requirement_matches("mem", "Lt", ["40"], {"mem": str(-(2**63) - 1)})
    assert not requirement_matches("mem", "Gt", ["4_0"], {"mem": "80"})
    assert not requirement_matches("mem", "In", ["80"], {})
    assert requirement_matches("mem", "NotIn", ["80"], {})


# Taints that keep off a pod tolerating none: spec/placement.py (where a CPU pod may go) and schedulable.
@pytest.mark.parametrize(
    ("effects", "kept_off"),
    [
        ([], False),
        (["PreferNoSchedule"], False),
        (["NoSchedule"], True),
        (["NoExecute"], True),
        (["PreferNoSchedule", "NoExecute"], True),
    ],
)
def test_taints_that_keep_off_an_untolerating_pod_are_judged_alike(tmp_path: Path, effects: list[str], kept_off: bool) -> None:
    taints = ", ".join(f"{{key: t{index}, effect: {effect}}}" for index, effect in enumerate(effects))
    header = f'namespace: ml\nkubernetesVersion: "1.32"\ncluster:\n  nodePools:\n    - name: cpu\n      taints: [{taints}]\n'
    header += '      allocatable: {cpu: "16", memory: 64Gi}\n'
    write(tmp_path / "environments" / "dev.yaml", header + "workloads:\n" + SERVER)
    [loaded] = load_environments(tmp_path / "environments")
    spec = [p for p in check_environment(loaded.spec) if "every node pool is tainted" in p.message]
    pool = NodePoolFacts("cpu", taints=tuple(Taint(f"t{index}", effect) for index, effect in enumerate(effects)))
    pod = "apiVersion: v1\nkind: Pod\nmetadata: {name: serve}\nspec:\n  containers: [{name: serve, image: 'x:1'}]\n"
    lint = _rule_paths(pod, "schedulable", (pool,))
    assert bool(spec) is bool(lint) is kept_off
