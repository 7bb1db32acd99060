"""Ray's kinds (ray-job, ray-service): pools, the Ray autoscaler and its token, upgrades, Kueue and GitOps."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlgitops.kube.footprint import footprint
from mlgitops.load.environments import load_environments
from tests.kinds.specs import CLUSTER, RAYJOB, RAYSERVICE, _build, _error
from tests.rendering import HEAD, _findings, _obj, _one, _refused, _render
from tests.support import write


def test_rayjob_places_head_and_each_worker_group_on_its_pool(tmp_path: Path) -> None:
    job = _one(_build(tmp_path, CLUSTER + RAYJOB), "RayJob")
    assert job["apiVersion"] == "ray.io/v1"
    assert job["metadata"]["name"].startswith("tune-")
    spec = job["spec"]
    assert spec["entrypoint"] == "python tune.py --trials=64"
    assert spec["runtimeEnvYAML"] == "pip:\n- optuna==4.1.0\n"
    assert spec["shutdownAfterJobFinishes"] is True
    assert "ttlSecondsAfterFinished" not in spec
    cluster = spec["rayClusterSpec"]
    head = cluster["headGroupSpec"]["template"]["spec"]
    assert head["nodeSelector"] == {"node-pool": "cpu"}
    assert "tolerations" not in head
    assert head["containers"][0]["name"] == "ray-head"
    gpu, cpu = cluster["workerGroupSpecs"]
    assert (gpu["groupName"], gpu["replicas"], gpu["minReplicas"], gpu["maxReplicas"]) == ("gpu", 2, 2, 2)
    worker = gpu["template"]["spec"]
    assert worker["nodeSelector"] == {"node-pool": "gpu"}
    assert worker["tolerations"] == [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}]
    assert worker["containers"][0]["resources"]["limits"]["nvidia.com/gpu"] == 1
    assert "tolerations" not in cpu["template"]["spec"]
    # Head 4 CPU + 2 GPU workers x 16 + 3 CPU workers x 8; GPUs: 2 x 1.
    total = footprint([job])
    assert (total.cpu, total.gpu_total) == (4 + 2 * 16 + 3 * 8, 2)


def test_ray_service_leaves_worker_counts_to_the_ray_autoscaler_and_argocd_ignores_them(tmp_path: Path) -> None:
    gitops = "gitops: {repoUrl: 'https://git.example/fleet.git', argocd: {project: ml}}\n"
    output = _build(tmp_path, CLUSTER + gitops + RAYSERVICE)
    service = _one(output, "RayService")
    assert service["spec"]["serveConfigV2"] == "applications:\n- import_path: app:deployment\n  name: embed\n  route_prefix: /\n"
    cluster = service["spec"]["rayClusterConfig"]
    assert cluster["enableInTreeAutoscaling"] is True
    assert cluster["autoscalerOptions"] == {"idleTimeoutSeconds": 120, "upscalingMode": "Conservative"}
    [group] = cluster["workerGroupSpecs"]
    assert "replicas" not in group
    assert (group["minReplicas"], group["maxReplicas"]) == (1, 6)
    [app] = [item.obj for item in output.gitops if item.kind == "Application"]
    assert {
        "group": "ray.io",
        "kind": "RayService",
        "jqPathExpressions": [".spec.rayClusterConfig.workerGroupSpecs[].replicas"],
    } in app["spec"]["ignoreDifferences"]
    # The resource table counts the head and the autoscaler's minimum.
    assert footprint([service]).gpu_total == 1


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            RAYSERVICE.replace("        minReplicas: 1\n", "        replicas: 2\n"),
            "dev.yaml:29:19: workloads[embed].workerGroups[gpu].replicas: replicas and autoscaling are both set: the Ray "
            "autoscaler owns the worker count (drop replicas, use minReplicas and maxReplicas)",
        ),
        (
            RAYJOB.replace("        replicas: 3\n", "        maxReplicas: 3\n"),
            "dev.yaml:32:22: workloads[tune].workerGroups[cpu].maxReplicas: maxReplicas needs the Ray autoscaler (set "
            "autoscaling), or use replicas",
        ),
        (
            RAYJOB.replace("    entrypoint:", "    command: [python]\n    entrypoint:"),
            "dev.yaml:21:14: workloads[tune].command: KubeRay starts Ray in the container itself (`ray start`): remove "
            "command and put the program in entrypoint",
        ),
        (
            RAYJOB.replace("gpu: 1}", "gpu: 16}"),
            "dev.yaml:29:52: workloads[tune].workerGroups[gpu].resources.gpu: asks for 16 GPUs (nvidia.com/gpu) but the "
            "largest node of pool 'gpu' can allocate 8; these pods would never schedule",
        ),
        (
            RAYJOB.replace("        replicas: 2\n", "        replicas: 40\n"),
            "dev.yaml:28:19: workloads[tune].workerGroups[gpu].replicas: 40 pods need 40 GPUs (nvidia.com/gpu) at once, "
            "but node pool 'gpu' holds at most 32 GPUs (nvidia.com/gpu) (maxNodes 4 x 8 GPUs (nvidia.com/gpu)); they "
            "would never all run",
        ),
    ],
    ids=["replicas-under-autoscaler", "max-without-autoscaler", "command", "worker-gpus-over-node", "gang-over-pool"],
)
def test_ray_mistakes_are_located(tmp_path: Path, text: str, expected: str) -> None:
    assert _error(tmp_path, CLUSTER + text) == expected


def test_queued_rayjob_leaves_suspend_to_kueue_and_kueue_refusals_are_caught_before_the_cluster_does(tmp_path: Path) -> None:
    queued = CLUSTER + "kueue: {defaultQueue: research, existingQueues: [research]}\n"
    job = _one(_build(tmp_path, queued + RAYJOB), "RayJob")
    assert "suspend" not in job["spec"]
    assert job["metadata"]["labels"]["kueue.x-k8s.io/queue-name"] == "research"
    assert _error(
        tmp_path,
        queued
        + RAYJOB.replace(
            "    nodePool: cpu\n    workerGroups", "    nodePool: cpu\n    shutdownAfterJobFinishes: false\n    workerGroups"
        ),
    ) == (
        "dev.yaml:27:31: workloads[tune].shutdownAfterJobFinishes: Kueue refuses queued RayJobs (queue 'research') that "
        "keep their Ray cluster after the job: it would hold the queue's quota; set shutdownAfterJobFinishes: true"
    )


def test_rayjob_ttl_is_refused_under_gitops_and_rendered_without(tmp_path: Path) -> None:
    with_ttl = RAYJOB.replace(
        "    nodePool: cpu\n    workerGroups", "    nodePool: cpu\n    ttlSecondsAfterFinished: 600\n    workerGroups"
    )
    assert _one(_build(tmp_path, CLUSTER + with_ttl), "RayJob")["spec"]["ttlSecondsAfterFinished"] == 600
    flux = "gitops: {repoUrl: 'https://git.example/fleet.git', flux: {}}\n"
    assert _error(tmp_path, CLUSTER + flux + with_ttl).startswith(
        "dev.yaml:27:30: workloads[tune].ttlSecondsAfterFinished: ttlSecondsAfterFinished under ArgoCD/Flux"
    )


def test_a_worker_group_telling_ray_more_gpus_than_it_has_is_a_render_finding(tmp_path: Path) -> None:
    from mlgitops.fleet.run import render_fleet

    told = RAYJOB.replace(
        '        resources: {cpu: "16", memory: 120Gi, gpu: 1}\n',
        '        resources: {cpu: "16", memory: 120Gi, gpu: 1}\n        rayStartParams: {num-gpus: "4"}\n',
    )
    write(tmp_path / "env" / "dev.yaml", CLUSTER + told)
    fleet = render_fleet(load_environments(tmp_path / "env"), tmp_path / "rendered", [])
    [finding] = [f for f in fleet.findings if f.rule == "ray-worker-gpus"]
    assert (finding.severity, finding.message) == (
        "warning",
        "worker group 'gpu' tells Ray num-gpus=4 but its pods get 1 GPU: Ray would schedule GPU tasks onto GPUs that "
        "are not there",
    )
    # render points at the environment-file field, not at a rendered file.
    assert finding.location.file.endswith("dev.yaml")
    assert finding.location.line >= 17  # within the workload "- name: tune" (line 17) of the environment file


RAY = (
    HEAD
    + """\
cluster:
  nodePools:
    - name: cpu
      labels: {node-pool: cpu}
      allocatable: {cpu: "15", memory: 58Gi}
    - name: a100
      labels: {node-pool: a100}
      taints: [{key: nvidia.com/gpu, value: present, effect: NoSchedule}]
      allocatable: {cpu: "94", memory: 1800Gi, gpus: 8}
budget: {gpus: 6}
workloads:
  - name: embed
    kind: ray-service
    image: rayproject/ray-ml:2.41.0-py311-gpu
    serveConfig: {applications: [{name: embed, import_path: "embed:app"}]}
    security: {runAsUser: 1000}
    resources: {cpu: "2", memory: 8Gi}
    nodePool: cpu
    autoscaling: {idleTimeoutSeconds: 300}
    workerGroups:
      - {name: gpu, minReplicas: 1, maxReplicas: 4, resources: {cpu: "8", memory: 64Gi, gpu: 1}, nodePool: a100}
"""
)


def test_an_autoscaled_ray_head_keeps_its_service_account_token(tmp_path: Path) -> None:
    cluster = _obj(_render(tmp_path, RAY), "RayService", "embed")["spec"]["rayClusterConfig"]
    assert cluster["headGroupSpec"]["template"]["spec"]["automountServiceAccountToken"] is True
    assert cluster["workerGroupSpecs"][0]["template"]["spec"]["automountServiceAccountToken"] is False
    line = _refused(tmp_path, RAY + "    automountServiceAccountToken: false\n")
    assert line.endswith(
        ":24:35: workloads[embed].automountServiceAccountToken: the Ray autoscaler runs in the head pod and calls the "
        "Kubernetes API with its ServiceAccount token: the head must mount it (drop automountServiceAccountToken: "
        "false, or turn off autoscaling)"
    )


def test_the_budget_counts_autoscaled_ray_workers_at_max_and_the_upgrade_cluster(tmp_path: Path) -> None:
    # No GatewayClass: a NewCluster upgrade runs a second cluster of the full size, 2 x (4 workers) GPUs.
    [finding] = _findings(tmp_path, RAY, "env-budget")
    assert "requests up to 8 nvidia.com/gpu with every autoscaler at its maximum" in finding.message
    service = _obj(_render(tmp_path, RAY), "RayService", "embed")
    assert service["spec"]["upgradeStrategy"] == {"type": "NewCluster"}
    # With the environment's GatewayClass, KubeRay 1.7 upgrades incrementally: 4 + 25% of 4 = 5 GPUs at most.
    gateway = RAY + "gateway: {className: eg, implementation: envoy-gateway}\n"
    assert _findings(tmp_path, gateway, "env-budget") == []
    strategy = _obj(_render(tmp_path, gateway), "RayService", "embed")["spec"]["upgradeStrategy"]
    assert strategy == {
        "type": "NewClusterWithIncrementalUpgrade",
        "clusterUpgradeOptions": {"gatewayClassName": "eg", "maxSurgePercent": 25, "stepSizePercent": 25, "intervalSeconds": 60},
    }
    [finding] = _findings(tmp_path, gateway.replace("budget: {gpus: 6}", "budget: {gpus: 4}"), "env-budget")
    assert "requests up to 5 nvidia.com/gpu" in finding.message


def test_an_incremental_upgrade_the_kuberay_release_cannot_do_is_refused(tmp_path: Path) -> None:
    text = RAY + "    upgrade: {strategy: NewClusterWithIncrementalUpgrade, gatewayClassName: eg}\n"
    line = _refused(tmp_path, text + "operators: {kuberay: '1.6'}\n")
    assert (
        "workloads[embed].upgrade.strategy: NewClusterWithIncrementalUpgrade needs KubeRay 1.7 (operators.kuberay is 1.6)" in line
    )
    assert "with the gate off KubeRay applies no change to the cluster at all" in line
    line = _refused(
        tmp_path,
        text.replace("    autoscaling: {idleTimeoutSeconds: 300}\n", "").replace("minReplicas: 1, maxReplicas: 4", "replicas: 2"),
    )
    assert "workloads[embed].upgrade.strategy: NewClusterWithIncrementalUpgrade needs the Ray autoscaler" in line
    old = _obj(_render(tmp_path, RAY + "operators: {kuberay: '1.2'}\n"), "RayService", "embed")
    assert "upgradeStrategy" not in old["spec"]
