"""What an environment's objects cost per hour on its priced node pools, and the GPU-hours of its finite jobs.

How the figures are computed (the README's "What a change costs" says the same to users):

- Each pod is placed on the node pool whose labels its ``nodeSelector`` carries (the most specific when several
  match); pods on a pool without ``prices``, or on no pool, are counted as unpriced and cost nothing here.
- On a pool priced per node-hour, a pod costs the share of one node its largest request takes (CPU, memory or
  accelerators over the pool's ``allocatable``) times the node-hour price of the capacity type that applies
  (spec/cluster.py ``NodePool.node_hour_price``). Nodes are rarely packed full, so this is a floor of the bill.
- On a pool priced per accelerator-hour, a pod costs its accelerators times that price.
- "At minimum" counts pods as kube/footprint.py does by default (autoscaled workloads at their minimum, one run of
  each CronJob); "at maximum" with ``most`` (HPA / ScaledObject / InferenceService maxima, Ray workers at
  maxReplicas, a RayService's upgrade cluster).
- GPU-hours of finite jobs: for each Job, RayJob, TrainJob and PyTorchJob with a time limit, its pods × their
  accelerators × the limit in hours. The limit is ``spec.activeDeadlineSeconds`` (batch/v1 JobSpec; KubeRay
  ray-operator/apis/ray/v1/rayjob_types.go ``ActiveDeadlineSeconds``; Kubeflow Trainer TrainJobSpec from 2.2,
  kubeflow/trainer docs/proposals/2899-add-TTL) or ``spec.runPolicy.activeDeadlineSeconds`` (Training Operator v1
  RunPolicy, kubeflow/training-operator). Jobs without one are listed as unbounded, not guessed.

Left out: storage (PersistentVolumeClaims), network egress, load balancers, control-plane fees and idle capacity.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from mlgitops.kube.footprint import PodGroup, claim_templates, count, pod_footprint, pod_groups
from mlgitops.kube.quantity import parse_quantity
from mlgitops.load.environments import LoadedEnvironment
from mlgitops.spec.cluster import NodePool

FINITE_KINDS = ("Job", "RayJob", "TrainJob", "PyTorchJob")
"""Kinds whose pods run to completion: their time limit bounds their GPU-hours."""
SECONDS_PER_HOUR = Decimal(3600)


@dataclass(frozen=True)
class EnvironmentCost:
    """Hourly cost of one environment's pods (in ``currency``) and the GPU-hours of its finite jobs."""

    currency: str | None
    """The priced pools' currency; None when no pool has prices (the hourly figures are then 0)."""
    at_minimum: Decimal
    """Per hour, every workload at its minimum replicas."""
    at_maximum: Decimal
    """Per hour, every workload at its maximum replicas."""
    job_gpu_hours: Decimal
    """Accelerator-hours of the finite jobs that have a time limit (pods × accelerators × limit in hours)."""
    unbounded_gpu_jobs: int = 0
    """Finite jobs with accelerators but no time limit (their GPU-hours are unknown)."""
    unpriced_pods: int = 0
    """Pods (at minimum) on pools without prices or on no known pool: left out of the hourly figures."""

    @property
    def priced(self) -> bool:
        return self.currency is not None


def _pool_of(pod_spec: dict[str, Any], pools: Sequence[NodePool]) -> NodePool | None:
    selector = pod_spec.get("nodeSelector") or {}
    if not isinstance(selector, dict):
        return None
    matching = [pool for pool in pools if pool.labels and all(selector.get(k) == v for k, v in pool.labels.items())]
    return max(matching, key=lambda pool: len(pool.labels), default=None)


def pod_hourly_cost(pod_spec: dict[str, Any], pool: NodePool, templates: dict[str, dict[str, int]]) -> Decimal | None:
    """What one pod of ``pod_spec`` costs per hour on ``pool`` (None: the pool has no prices)."""
    if pool.prices is None:
        return None
    one = pod_footprint(pod_spec, templates)
    if pool.prices.accelerator_hour is not None:
        return one.gpu_total * pool.prices.accelerator_hour
    price = pool.node_hour_price
    if price is None:
        return None
    shares = [one.cpu / parse_quantity(pool.allocatable.cpu), one.memory / parse_quantity(pool.allocatable.memory)]
    if pool.allocatable.gpus:
        shares.append(Decimal(one.gpu_total) / pool.allocatable.gpus)
    return max(shares) * price


def _hourly(groups: list[PodGroup], pools: Sequence[NodePool], templates: dict[str, dict[str, int]]) -> tuple[Decimal, int]:
    total, unpriced = Decimal(0), 0
    for group in groups:
        pool = _pool_of(group.pod_spec, pools)
        cost = pod_hourly_cost(group.pod_spec, pool, templates) if pool is not None else None
        if cost is None:
            unpriced += group.pods
        else:
            total += cost * group.pods
    return total, unpriced


def time_limit(obj: dict[str, Any]) -> int | None:
    """A finite job's time limit in seconds (spec.activeDeadlineSeconds, or spec.runPolicy's), None without one."""
    spec = obj.get("spec")
    spec = spec if isinstance(spec, dict) else {}
    run_policy = spec.get("runPolicy")
    run_policy = run_policy if isinstance(run_policy, dict) else {}
    for value in (spec.get("activeDeadlineSeconds"), run_policy.get("activeDeadlineSeconds")):
        seconds = count(value, 0)
        if seconds > 0:
            return seconds
    return None


def _job_gpu_hours(objects: list[dict[str, Any]], templates: dict[str, dict[str, int]]) -> tuple[Decimal, int]:
    hours, unbounded = Decimal(0), 0
    for obj in objects:
        if obj.get("kind") not in FINITE_KINDS:
            continue
        gpus = sum(pod_footprint(group.pod_spec, templates).gpu_total * group.pods for group in pod_groups([obj]))
        if not gpus:
            continue
        limit = time_limit(obj)
        if limit is None:
            unbounded += 1
        else:
            hours += gpus * Decimal(limit) / SECONDS_PER_HOUR
    return hours, unbounded


def environment_cost(objects: list[dict[str, Any]], pools: Sequence[NodePool]) -> EnvironmentCost:
    """The cost figures of an environment's rendered ``objects`` on its node ``pools`` (spec.cluster.nodePools)."""
    templates = claim_templates(objects)
    currency = next((pool.prices.currency for pool in pools if pool.prices is not None), None)
    at_minimum, unpriced = _hourly(list(pod_groups(objects)), pools, templates)
    at_maximum, _ = _hourly(list(pod_groups(objects, most=True)), pools, templates)
    gpu_hours, unbounded = _job_gpu_hours(objects, templates)
    return EnvironmentCost(currency, at_minimum, at_maximum, gpu_hours, unbounded, unpriced)


def money(amount: Decimal, currency: str | None) -> str:
    """``amount`` to the cent with its currency code: '412.30 USD' (no currency: the bare amount)."""
    shown = f"{amount.quantize(Decimal('0.01')):,}"
    return f"{shown} {currency}" if currency else shown


def budget_warning(environment: LoadedEnvironment, objects: list[dict[str, Any]]) -> str | None:
    """A one-line, located warning when the environment's maximum hourly cost is above ``budget.costPerHour``."""
    budget = environment.spec.budget
    if budget is None or budget.cost_per_hour is None:
        return None
    cost = environment_cost(objects, environment.spec.cluster.node_pools)
    if not cost.priced or cost.at_maximum <= budget.cost_per_hour:
        return None
    where = environment.locate(("budget", "costPerHour"))
    return (
        f"{where}: warning: {environment.name} costs up to {money(cost.at_maximum, cost.currency)} per hour with every "
        f"workload at its maximum replicas, above budget.costPerHour {money(budget.cost_per_hour, cost.currency)} "
        "(lower maxReplicas or resources, or raise the budget)"
    )


__all__ = ["FINITE_KINDS", "EnvironmentCost", "budget_warning", "environment_cost", "money", "pod_hourly_cost", "time_limit"]
