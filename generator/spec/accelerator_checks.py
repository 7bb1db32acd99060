"""Semantic checks of accelerators: what a node pool hands out (an extended resource or a DRA DeviceClass) and asks.

Dynamic Resource Allocation's resource.k8s.io/v1 API is GA (served by default) from Kubernetes 1.34;
extended resources are the device plugins' names (nvidia.com/gpu, amd.com/gpu, habana.ai/gaudi, ...).
"""

from __future__ import annotations

from mlgitops.kube.cluster import is_gpu_resource
from mlgitops.spec.container import WorkloadBase
from mlgitops.spec.environment import Environment
from mlgitops.spec.placement import Placement
from mlgitops.spec.problems import FieldPath, SpecProblem

DRA_SINCE = (1, 34)


def _minor(version: str) -> tuple[int, int]:
    major, minor = version.lstrip("v").split(".")[:2]
    return int(major), int(minor)


def pool_problems(environment: Environment) -> list[SpecProblem]:
    """Each pool hands out one kind of accelerator, one it can: a known extended resource, or DRA on 1.34+."""
    problems = []
    for index, pool in enumerate(environment.cluster.node_pools):
        at = ("cluster", "nodePools", index)
        explicit = pool.model_fields_set
        if "gpu_resource" in explicit and not is_gpu_resource(pool.gpu_resource):
            problems.append(
                SpecProblem(
                    (*at, "gpuResource"),
                    f"{pool.gpu_resource!r} is not an accelerator resource (expected e.g. 'nvidia.com/gpu', "
                    "'nvidia.com/mig-1g.10gb', 'amd.com/gpu', 'habana.ai/gaudi', 'aws.amazon.com/neuroncore', 'google.com/tpu')",
                )
            )
        if pool.device_class is None:
            if pool.device_driver is not None:
                problems.append(SpecProblem((*at, "deviceDriver"), "deviceDriver needs a deviceClass (DRA)"))
            continue
        if "gpu_resource" in explicit:
            problems.append(
                SpecProblem(
                    (*at, "deviceClass"),
                    "a pool hands out its accelerators either as an extended resource (gpuResource) or through DRA "
                    "(deviceClass), not both: remove one",
                )
            )
        if _minor(environment.kubernetes_version) < DRA_SINCE:
            problems.append(
                SpecProblem(
                    (*at, "deviceClass"),
                    f"Dynamic Resource Allocation (resource.k8s.io/v1) is GA from Kubernetes 1.34, but kubernetesVersion "
                    f"is {environment.kubernetes_version}: raise it, or use gpuResource",
                )
            )
    return problems


def device_problems(workload: WorkloadBase, placement: Placement, at: FieldPath) -> list[SpecProblem]:
    """`resources.device` selects DRA devices: it needs GPUs from a pool with a DeviceClass."""
    if workload.resources.device is None:
        return []
    if workload.resources.gpu is None:
        return [SpecProblem((*at, "resources", "device"), "device selection needs gpu (the device count)")]
    if placement.device_class is None:
        where = f"pool {placement.pool.name!r}" if placement.pool is not None else "the pool"
        return [
            SpecProblem(
                (*at, "resources", "device"),
                f"device selection applies to DRA claims, but {where} hands out the extended resource "
                f"{placement.gpu_resource}: use a pool with a deviceClass, or gpuProduct to select nodes by label",
            )
        ]
    return []
