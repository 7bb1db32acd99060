"""training: a Job per run, with GPUs in limits, the pool's tolerations and selector, and a memory-backed /dev/shm."""

from __future__ import annotations

from mlgitops.fleet.build import EnvironmentOutput
from tests.rendering import _objects


def test_gpu_jobs_get_limits_tolerations_and_the_pool_selector(example_fleet: dict[str, EnvironmentOutput]) -> None:
    gpus = {}
    for name, output in example_fleet.items():
        [job] = _objects(output, "Job")
        pod = job["spec"]["template"]["spec"]
        [container] = pod["containers"]
        resources = container["resources"]
        assert resources["limits"]["nvidia.com/gpu"] == resources["requests"]["nvidia.com/gpu"]
        gpus[name] = resources["limits"]["nvidia.com/gpu"]
        assert pod["tolerations"] == [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}]
        assert pod["nodeSelector"] == {"node-pool": "gpu-a100", "nvidia.com/gpu.product": "NVIDIA-A100-SXM4-80GB"}
        shm = next(v for v in pod["volumes"] if v["name"] == "dshm")
        assert shm["emptyDir"]["medium"] == "Memory"
        assert "sizeLimit" in shm["emptyDir"]
        assert all("persistentVolumeClaim" in v for v in pod["volumes"] if v["name"] != "dshm")
        assert "ttlSecondsAfterFinished" not in job["spec"]
    assert gpus == {"dev": 1, "staging": 2, "prod": 8}
