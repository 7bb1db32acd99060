"""Kubernetes facts in generator/kube/: accelerators, pod templates and replica counts, defaults, the API server's rules."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from mlgitops.kube.accelerators import accelerator, requested, tolerated_by_the_platform, tolerates
from mlgitops.kube.api_rules import (
    cron_schedule_problem,
    job_template_problems,
    port_name_problem,
    quantity_problem,
    resource_problems,
    time_zone_problem,
)
from mlgitops.kube.defaults import defaulted
from mlgitops.kube.pod_kinds import BUILT_IN_READERS, CUSTOM_READERS, KIND_SUFFIX_READERS
from mlgitops.kube.pod_shapes import BUILT_IN_GROUPS
from mlgitops.kube.pods import pod_templates, rollout_surge, scaled, volume_claim_templates


def _obj(text: str) -> dict[str, Any]:
    loaded = yaml.safe_load(text)
    assert isinstance(loaded, dict)
    return loaded


@pytest.mark.parametrize(
    ("resource", "vendor", "taint_key", "kind"),
    [
        ("nvidia.com/gpu", "NVIDIA", "nvidia.com/gpu", "gpu"),
        ("nvidia.com/mig-1g.10gb", "NVIDIA", "nvidia.com/gpu", "gpu"),
        ("nvidia.com/gpu.shared", "NVIDIA", "nvidia.com/gpu", "gpu"),
        ("amd.com/gpu", "AMD", "amd.com/gpu", "gpu"),
        ("habana.ai/gaudi", "Intel Gaudi", "habana.ai/gaudi", "hpu"),
        ("aws.amazon.com/neuron", "AWS Neuron", "aws.amazon.com/neuron", "neuron"),
        ("aws.amazon.com/neuroncore", "AWS Neuron", "aws.amazon.com/neuron", "neuron"),
        ("aws.amazon.com/neurondevice", "AWS Neuron", "aws.amazon.com/neuron", "neuron"),
        ("google.com/tpu", "Google TPU", "google.com/tpu", "tpu"),
        ("huawei.com/ascend-1980", "Huawei Ascend", "huawei.com/ascend-1980", "npu"),
        ("huawei.com/Ascend910", "Huawei Ascend", "huawei.com/Ascend910", "npu"),
        ("gpu.intel.com/i915", "Intel GPU", "gpu.intel.com/i915", "gpu"),
        ("example.com/gpu", "GPU", "example.com/gpu", "gpu"),
    ],
)
def test_every_accelerator_family_has_its_own_taint_key(resource: str, vendor: str, taint_key: str, kind: str) -> None:
    found = accelerator(resource)
    assert found is not None
    assert (found.vendor, found.taint_key, found.kind) == (vendor, taint_key, kind)
    assert found.shared == (resource == "nvidia.com/gpu.shared")


@pytest.mark.parametrize(
    "resource", ["cpu", "memory", "ephemeral-storage", "hugepages-2Mi", "nvidia.com/gpucores", "example.com/fpga"]
)
def test_other_resources_are_not_accelerators(resource: str) -> None:
    assert accelerator(resource) is None


def test_zero_devices_ask_for_nothing_and_a_request_alone_still_counts() -> None:
    assert requested({}, {"nvidia.com/gpu": 0, "memory": "8Gi"}) == {}
    assert requested({"amd.com/gpu": "2"}, {}) == {"amd.com/gpu": 2}


@pytest.mark.parametrize(
    ("toleration", "ok"),
    [
        ({"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}, True),
        ({"key": "nvidia.com/gpu", "operator": "Equal", "value": "present", "effect": "NoSchedule"}, True),  # GKE
        ({"key": "nvidia.com/gpu", "value": "true"}, True),  # Equal is the default operator; no effect matches all
        ({"operator": "Exists"}, True),  # tolerates everything
        ({"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoExecute"}, False),
        ({"key": "amd.com/gpu", "operator": "Exists"}, False),
    ],
)
def test_a_toleration_of_the_taint_key_with_any_value_is_enough(toleration: dict[str, str], ok: bool) -> None:
    gpu = accelerator("nvidia.com/mig-2g.20gb")
    assert gpu is not None
    assert tolerates([toleration], gpu) is ok


def test_gke_adds_accelerator_tolerations_itself() -> None:
    tpu, gpu = accelerator("google.com/tpu"), accelerator("nvidia.com/gpu")
    assert tpu is not None
    assert gpu is not None
    assert tolerated_by_the_platform(tpu, [])
    assert tolerated_by_the_platform(gpu, ["cloud.google.com/gke-accelerator"])
    assert not tolerated_by_the_platform(gpu, ["node-pool"])


JOBSET = """\
apiVersion: jobset.x-k8s.io/v1alpha2
kind: JobSet
metadata: {name: pretrain}
spec:
  volumeClaimPolicies:
    - templates: [{metadata: {name: ckpt}, spec: {accessModes: [ReadWriteOnce]}}]
  replicatedJobs:
    - name: workers
      replicas: 3
      template:
        spec:
          parallelism: 4
          template:
            spec:
              containers: [{name: trainer, image: "t:1", resources: {limits: {cpu: "2", memory: 8Gi}}}]
    - name: driver
      template:
        spec:
          parallelism: 4
          completions: 1
          template:
            spec:
              restartPolicy: Always
              containers: [{name: driver, image: "d:1"}]
"""


def test_jobset_pods_are_replicas_times_parallelism_and_its_claims_are_shared() -> None:
    obj = _obj(JOBSET)
    workers, driver = pod_templates(obj)
    assert (workers.pods, workers.counted, workers.job) == (12, "replicatedJob workers: replicas 3 × parallelism 4", True)
    assert (driver.pods, driver.counted) == (1, "replicatedJob driver: replicas 1 × completions 1")
    assert volume_claim_templates(obj)["ckpt"].per_pod is False
    # The JobSet webhook fills in OnFailure; only the explicit Always is refused.
    assert [(p.path[-1], p.message) for p in job_template_problems(defaulted(obj))] == [
        ("restartPolicy", "a Job's pods need restartPolicy Never or OnFailure, not 'Always'")
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (  # Ray: the head, then worker groups (× hosts; maxReplicas when the Ray autoscaler owns replicas)
            "apiVersion: ray.io/v1\nkind: RayCluster\nmetadata: {name: r}\nspec:\n  enableInTreeAutoscaling: true\n"
            "  headGroupSpec: {template: {spec: {containers: [{name: h, image: 'r:1'}]}}}\n"
            "  workerGroupSpecs:\n  - {groupName: g, replicas: 1, maxReplicas: 6, numOfHosts: 2,"
            " template: {spec: {containers: [{name: w, image: 'r:1'}]}}}\n",
            [1, 12],
        ),
        (  # LeaderWorkerSet: replicas leaders, replicas × (size - 1) workers
            "apiVersion: leaderworkerset.x-k8s.io/v1\nkind: LeaderWorkerSet\nmetadata: {name: l}\nspec:\n  replicas: 2\n"
            "  leaderWorkerTemplate:\n    size: 4\n    leaderTemplate: {spec: {containers: [{name: l, image: 'v:1'}]}}\n"
            "    workerTemplate: {spec: {containers: [{name: w, image: 'v:1'}]}}\n",
            [2, 6],
        ),
        (  # without a leader template every pod of the group runs the worker template
            "apiVersion: leaderworkerset.x-k8s.io/v1\nkind: LeaderWorkerSet\nmetadata: {name: l}\nspec:\n  replicas: 2\n"
            "  leaderWorkerTemplate:\n    size: 4\n    workerTemplate: {spec: {containers: [{name: w, image: 'v:1'}]}}\n",
            [8],
        ),
        (  # TrainJob: numNodes pods of the runtime's node template, its trainer the container
            "apiVersion: trainer.kubeflow.org/v1alpha1\nkind: TrainJob\nmetadata: {name: t}\nspec:\n"
            "  runtimeRef: {name: torch-distributed}\n"
            "  trainer: {image: 't:1', numNodes: 4, resourcesPerNode: {limits: {nvidia.com/gpu: 8}}}\n",
            [4],
        ),
        (  # Volcano's batch.volcano.sh Job is not a batch/v1 Job: its tasks hold the pods
            "apiVersion: batch.volcano.sh/v1alpha1\nkind: Job\nmetadata: {name: v}\nspec:\n"
            "  tasks: [{name: w, replicas: 3,\n"
            "           template: {spec: {restartPolicy: Always, containers: [{name: w, image: 'w:1'}]}}}]\n",
            [3],
        ),
        (  # a Kubeflow v1 job: replicas per replica type
            "apiVersion: kubeflow.org/v1\nkind: PyTorchJob\nmetadata: {name: p}\nspec:\n  pytorchReplicaSpecs:\n"
            "    Master: {replicas: 1, template: {spec: {containers: [{name: pytorch, image: 'p:1'}]}}}\n"
            "    Worker: {replicas: 7, template: {spec: {containers: [{name: pytorch, image: 'p:1'}]}}}\n",
            [1, 7],
        ),
        (
            "apiVersion: apps/v1\nkind: DaemonSet\nmetadata: {name: d}\n"
            "spec: {template: {spec: {containers: [{name: c, image: 'c:1'}]}}}\n",
            [None],
        ),
    ],
)
def test_pods_are_counted_the_way_each_controller_runs_them(text: str, expected: list[int | None]) -> None:
    assert [template.pods for template in pod_templates(_obj(text))] == expected


def test_pod_templates_embedded_in_app_wrappers_and_ray_cron_jobs_are_found() -> None:
    wrapper = _obj(
        "apiVersion: workload.codeflare.dev/v1beta2\nkind: AppWrapper\nmetadata: {name: a}\nspec:\n  components:\n"
        "  - template:\n      apiVersion: batch/v1\n      kind: Job\n      metadata: {name: j}\n"
        "      spec: {parallelism: 2, template: {spec: {restartPolicy: Never, containers: [{name: c, image: 'c:1'}]}}}\n"
    )
    [job] = pod_templates(wrapper)
    assert (job.path, job.pods, job.job) == (("spec", "components", 0, "template", "spec", "template", "spec"), 2, True)
    cron = _obj(
        "apiVersion: ray.io/v1\nkind: RayCronJob\nmetadata: {name: r}\nspec:\n  schedule: '0 * * * *'\n  jobTemplate:\n"
        "    rayClusterSpec:\n      headGroupSpec: {template: {spec: {containers: [{name: h, image: 'r:1'}]}}}\n"
        "      workerGroupSpecs: [{groupName: g, replicas: 3, template: {spec: {containers: [{name: w, image: 'r:1'}]}}}]\n"
    )
    assert [t.pods for t in pod_templates(cron)] == [1, 3]


def test_a_volcano_job_is_matched_by_api_group_and_not_judged_as_a_batch_job() -> None:
    volcano = _obj(
        "apiVersion: batch.volcano.sh/v1alpha1\nkind: Job\nmetadata: {name: v}\nspec:\n"
        "  tasks: [{name: w, template: {spec: {restartPolicy: Always, containers: [{name: w, image: 'w:1'}]}}}]\n"
    )
    [task] = pod_templates(volcano)
    assert task.path == ("spec", "tasks", 0, "template", "spec")
    assert not task.job
    assert list(job_template_problems(volcano)) == []


def test_kserve_framework_predictors_transformers_and_explainers_are_containers() -> None:
    service = _obj(
        "apiVersion: serving.kserve.io/v1beta1\nkind: InferenceService\nmetadata: {name: s}\nspec:\n"
        "  predictor: {minReplicas: 1, maxReplicas: 4, pytorch: {storageUri: 's3://m', resources: {limits: {memory: 4Gi}}}}\n"
        "  transformer: {containers: [{name: kserve-container, image: 't:1'}]}\n"
        "  explainer: {art: {type: SquareAttack}}\n"
    )
    predictor, transformer, explainer = pod_templates(service)
    assert [c.path for c in predictor.containers] == [("spec", "predictor", "pytorch")]
    assert predictor.containers[0].label == "the container at spec.predictor.pytorch"
    assert (predictor.pods, predictor.counted) == (4, "maxReplicas 4")
    assert [c.spec["name"] for c in transformer.containers] == ["kserve-container"]
    assert [c.path for c in explainer.containers] == [("spec", "explainer", "art")]


def test_llm_inference_service_containers_need_no_image() -> None:
    service = _obj(
        "apiVersion: serving.kserve.io/v1alpha1\nkind: LLMInferenceService\nmetadata: {name: l}\nspec:\n  replicas: 2\n"
        "  template: {containers: [{name: main, resources: {limits: {nvidia.com/gpu: 2}}}]}\n"
        "  prefill: {replicas: 3, template: {containers: [{name: main}]}}\n"
    )
    assert [(t.path, t.pods, len(t.containers)) for t in pod_templates(service)] == [
        (("spec", "template"), 2, 1),
        (("spec", "prefill", "template"), 3, 1),
    ]


def test_a_rolling_update_adds_a_surge_pod_and_recreate_none() -> None:
    deployment = _obj("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec: {replicas: 1}\n")
    assert rollout_surge(deployment) == 1  # 25 % of one replica, rounded up
    deployment["spec"]["replicas"] = 8
    assert rollout_surge(deployment) == 2
    deployment["spec"]["strategy"] = {"type": "Recreate"}
    assert rollout_surge(deployment) == 0
    assert rollout_surge(_obj("apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: s}\nspec: {replicas: 3}\n")) == 0


@pytest.mark.parametrize(
    ("value", "total", "up", "pods"),
    [("90%", 3, True, 3), ("50%", 1, True, 1), ("0%", 5, True, 0), ("25%", 8, False, 2), (2, 9, True, 2)],
)
def test_int_or_percent_fields_scale_and_round_as_controllers_do(value: Any, total: int, up: bool, pods: int) -> None:
    assert scaled(value, total, round_up=up) == pods


def test_the_api_server_copies_limits_into_requests_and_drops_nulls() -> None:
    pod = _obj(
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p, labels: null}\nspec:\n"
        "  containers: [{name: c, image: 'c:1', resources: {limits: {cpu: '2', memory: 4Gi}, requests: {cpu: '1'}}}]\n"
    )
    result = defaulted(pod)
    assert result["spec"]["containers"][0]["resources"]["requests"] == {"cpu": "1", "memory": "4Gi"}
    assert "labels" not in result["metadata"]
    assert pod["spec"]["containers"][0]["resources"]["requests"] == {"cpu": "1"}  # the input is not changed
    already = _obj("apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {containers: [{name: c, image: 'c:1'}]}\n")
    assert defaulted(already) is already


def test_the_jobset_webhook_names_failure_policy_rules() -> None:
    jobset = _obj(
        "apiVersion: jobset.x-k8s.io/v1alpha2\nkind: JobSet\nmetadata: {name: j}\n"
        "spec:\n  failurePolicy: {rules: [{action: FailJobSet}]}\n"
    )
    assert defaulted(jobset)["spec"]["failurePolicy"]["rules"][0]["name"] == "failurePolicyRule0"


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("16GB", "'16GB' is not a Kubernetes quantity (did you mean '16Gi'?)"),
        ("-1", "'-1' is negative; resource quantities must be zero or more"),
        (True, "true is not a Kubernetes quantity (write e.g. '500m' or '4Gi')"),
        ("500m", None),
        (2, None),
    ],
)
def test_quantities(value: Any, problem: str | None) -> None:
    assert quantity_problem(value) == problem


@pytest.mark.parametrize(
    ("resources", "expected"),
    [
        ({"requests": {"cpu": "2"}, "limits": {"cpu": "1"}}, [(("limits", "cpu"), "limit")]),
        (
            {"requests": {"huawei.com/ascend-1980": 6}, "limits": {"huawei.com/ascend-1980": 8}},
            [(("requests", "huawei.com/ascend-1980"), "extended-resource")],
        ),
        ({"requests": {"nvidia.com/gpu.shared": 1}}, [(("requests", "nvidia.com/gpu.shared"), "extended-resource")]),
        ({"limits": {"amd.com/gpu": "1.5"}}, [(("limits", "amd.com/gpu"), "extended-resource")]),
        ({"limits": {"nvidia.com/gpu": "1000m"}}, []),  # 1000m is one whole device
        ({"requests": {"memory": "16GB"}}, [(("requests", "memory"), "quantity")]),
        ({"requests": {"cpu": "1", "example.com/fpga": 2}, "limits": {"cpu": "1", "example.com/fpga": 2}}, []),
    ],
)
def test_the_api_servers_resource_rules(resources: dict[str, Any], expected: list[tuple[tuple[str, str], str]]) -> None:
    assert [(p.path, p.topic) for p in resource_problems(resources)] == expected


@pytest.mark.parametrize(
    ("schedule", "ok"),
    [
        ("0 2 * * *", True),
        ("*/15 9-17 * * MON-FRI", True),
        ("@daily", True),
        ("@every 1h30m", True),
        ("99 99 * * *", False),
        ("0 0 * * 7", False),  # robfig/cron's weekdays run 0-6
        ("0 0 L * *", False),
        ("0 0 1 1 * 2025", False),
        ("TZ=Europe/Berlin 0 2 * * *", False),
        ("@fortnightly", False),
        ("every night", False),
    ],
)
def test_cron_schedules_as_the_cronjob_controller_parses_them(schedule: str, ok: bool) -> None:
    assert (cron_schedule_problem(schedule) is None) is ok


@pytest.mark.parametrize(
    ("zone", "ok"), [("Europe/Berlin", True), ("UTC", True), ("Mars/Olympus", False), ("Local", False), ("../etc/passwd", False)]
)
def test_time_zones_are_iana_names(zone: str, ok: bool) -> None:
    assert (time_zone_problem(zone) is None) is ok


@pytest.mark.parametrize(
    ("name", "ok"),
    [
        ("http", True),
        ("grpc-2", True),
        ("8080x", True),
        ("inference-grpc-port", False),
        ("a--b", False),
        ("-http", False),
        ("8080", False),
        ("HTTP", False),
    ],
)
def test_port_names_are_iana_service_names(name: str, ok: bool) -> None:
    assert (port_name_problem(name) is None) is ok


def test_each_reader_of_pod_templates_is_reachable_by_its_group_and_kind() -> None:
    """Built-in groups are answered from the built-in table alone, so no custom reader may sit in one."""
    for group, kind in [*CUSTOM_READERS, *KIND_SUFFIX_READERS]:
        assert group not in BUILT_IN_GROUPS, (group, kind)
    assert {group for group, _kind in BUILT_IN_READERS} <= BUILT_IN_GROUPS
