"""Values derived from a whole environment model, computed once per model instead of once per workload.

Rendering and checking go workload by workload, and several steps need an environment-wide view
(volumes by name, the rendered names of ConfigMaps). Rebuilt for every workload, these cost
workloads x volumes: quadratic in the size of a fleet. Models are frozen (a changed environment
is a new object), so a value derived from one model object stays right as long as it lives.
"""

from __future__ import annotations

import functools
from bisect import bisect_left
from collections.abc import Callable
from typing import TypeVar

from mlgitops.spec.cluster import NodePool
from mlgitops.spec.environment import Environment
from mlgitops.spec.storage import Volume

Model = TypeVar("Model")
Derived = TypeVar("Derived")
# Models remembered per derived value: a render holds a few environments (one per environment, plus
# what the policy step derives from them), tracing findings works container by container; beyond
# this the memory is given back.
REMEMBERED = 16


def per_model(derive: Callable[[Model], Derived], most: int = REMEMBERED) -> Callable[[Model], Derived]:
    """``derive`` remembered per model object (by identity; the object is kept so its id is not reused), for ``most``
    models at once.

    Callers must treat the value as read-only: it is shared by every later call.
    """
    remembered: dict[int, tuple[Model, Derived]] = {}

    @functools.wraps(derive)
    def derived(model: Model) -> Derived:
        entry = remembered.get(id(model))
        if entry is not None and entry[0] is model:
            return entry[1]
        if len(remembered) >= most:
            remembered.clear()
        value = derive(model)
        remembered[id(model)] = (model, value)
        return value

    return derived


def per_environment(derive: Callable[[Environment], Derived]) -> Callable[[Environment], Derived]:
    """``derive`` remembered per environment object (``per_model``)."""
    return per_model(derive)


@per_environment
def volumes_by_name(environment: Environment) -> dict[str, Volume]:
    """The environment's volumes by name (read-only)."""
    return {volume.name: volume for volume in environment.volumes}


@per_environment
def node_pools_by_name(environment: Environment) -> dict[str, NodePool]:
    """The environment's node pools by name, the first of each name (read-only): a workload's ``nodePool`` looked up
    (placing N workloads each pinned to one of N pools went through every pool for each)."""
    pools: dict[str, NodePool] = {}
    for pool in environment.cluster.node_pools:
        pools.setdefault(pool.name, pool)
    return pools


@per_environment
def sorted_workload_names(environment: Environment) -> list[str]:
    """The names of the environment's workloads, sorted (read-only): those that start with a prefix stand together."""
    return sorted(workload.name for workload in environment.workloads)


def names_extending(environment: Environment, name: str) -> list[str]:
    """The names of the environment's workloads that extend ``name`` (``name-…``), sorted: they stand together in
    ``sorted_workload_names`` from where ``name-`` would go, found by bisection (every workload's alerts scanning every
    name was quadratic in the workloads of an environment with monitoring)."""
    names, prefix = sorted_workload_names(environment), f"{name}-"
    at = end = bisect_left(names, prefix)
    while end < len(names) and names[end].startswith(prefix):
        end += 1
    return names[at:end]


@per_environment
def config_map_positions(environment: Environment) -> dict[str, int]:
    """Each ConfigMap the environment renders (by spec name) → its index in ``configMaps`` (read-only)."""
    return {spec.name: index for index, spec in enumerate(environment.config_maps)}


__all__ = [
    "REMEMBERED",
    "config_map_positions",
    "names_extending",
    "node_pools_by_name",
    "per_environment",
    "per_model",
    "sorted_workload_names",
    "volumes_by_name",
]
