"""Cluster-scoped objects of an environment (rendered/<env>/cluster/): Karpenter NodePools, PriorityClasses.

They live in their own kustomize root because a namespace transformer must not touch them,
and because the platform team usually syncs them with other permissions than workloads.
"""

from __future__ import annotations

from typing import Any

from mlgitops.kube.quantity import format_cpu, format_exact_bytes, parse_quantity
from mlgitops.render.metadata import object_meta
from mlgitops.spec.cluster import NodePool
from mlgitops.spec.environment import Environment

CLUSTER_FOLDER = "cluster"


def render_node_pool(environment: Environment, environment_name: str, pool: NodePool) -> dict[str, Any]:
    """A karpenter.sh/v1 NodePool whose node labels and taints are the pool's: pods tolerate exactly these."""
    karpenter = environment.cluster.karpenter
    assert karpenter is not None
    meta = object_meta(environment, environment_name, name=pool.name, app=pool.name, component="node-pool")
    requirements: list[dict[str, Any]] = []
    if pool.instance_types:
        requirements.append({"key": "node.kubernetes.io/instance-type", "operator": "In", "values": sorted(pool.instance_types)})
    if pool.capacity_types:
        requirements.append({"key": "karpenter.sh/capacity-type", "operator": "In", "values": sorted(pool.capacity_types)})
    if not requirements:
        requirements.append({"key": "kubernetes.io/os", "operator": "In", "values": ["linux"]})
    node_spec: dict[str, Any] = {
        "nodeClassRef": {
            "group": karpenter.node_class_ref.group,
            "kind": karpenter.node_class_ref.kind,
            "name": karpenter.node_class_ref.name,
        },
        "requirements": requirements,
    }
    if pool.taints:
        node_spec["taints"] = [
            {"key": t.key, **({"value": t.value} if t.value is not None else {}), "effect": t.effect} for t in pool.taints
        ]
    spec: dict[str, Any] = {
        "template": {
            "metadata": {"labels": dict(sorted(pool.labels.items()))} if pool.labels else {},
            "spec": node_spec,
        },
        "disruption": disruption(pool),
    }
    if pool.max_nodes is not None:
        limits: dict[str, Any] = {
            "cpu": format_cpu(parse_quantity(pool.allocatable.cpu) * pool.max_nodes),
            "memory": format_exact_bytes(parse_quantity(pool.allocatable.memory) * pool.max_nodes),
        }
        if pool.allocatable.gpus and pool.device_class is None:
            # Karpenter limits resources only; DRA devices are not one, so a DeviceClass pool has no GPU limit.
            limits[pool.gpu_resource] = str(pool.allocatable.gpus * pool.max_nodes)
        spec["limits"] = limits
    return {"apiVersion": "karpenter.sh/v1", "kind": "NodePool", "metadata": meta.render(None), "spec": spec}


def disruption(pool: NodePool) -> dict[str, str]:
    """The NodePool's spec.disruption, always with consolidateAfter.

    Karpenter v1 defaults to consolidationPolicy WhenEmptyOrUnderutilized, which moves running pods to pack nodes;
    pools with accelerators default here to WhenEmpty (a moved GPU pod loses its work or its loaded model), and pods
    of queued jobs carry karpenter.sh/do-not-disrupt either way (render/pod.py). A written disruption block must
    have consolidateAfter in every released Karpenter v1 up to 1.14.1 (kubernetes-sigs/karpenter
    pkg/apis/v1/nodepool.go; the default disruption stanza arrived in 1.1.0).
    """
    policy = pool.disruption.consolidation_policy
    if policy is None:
        policy = "WhenEmpty" if pool.allocatable.gpus else "WhenEmptyOrUnderutilized"
    return {"consolidationPolicy": policy, "consolidateAfter": pool.disruption.consolidate_after}


def render_priority_classes(environment: Environment, environment_name: str) -> list[dict[str, Any]]:
    objects = []
    for priority in environment.priorities.classes:
        meta = object_meta(environment, environment_name, name=priority.name, app=priority.name, component="scheduling")
        obj: dict[str, Any] = {
            "apiVersion": "scheduling.k8s.io/v1",
            "kind": "PriorityClass",
            "metadata": meta.render(None),
            "value": priority.value,
            "preemptionPolicy": priority.preemption_policy,
        }
        if priority.description:
            obj["description"] = priority.description
        objects.append(obj)
    return objects
