"""The render half of the registry of workload kinds: each kind's renderer, registered in the kind's render module.

The rest of a kind's row (component label, priority class, name rule, queueing, checks) is in
``spec/kinds.py``. A render module registers its kind with ``@renders(Model)`` on the function that turns a
workload into its objects; ``render/workloads.py`` imports every such module, so the registry is complete
once ``mlgitops.render`` is imported.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from mlgitops.render.metadata import ObjectMeta
from mlgitops.spec.container import WorkloadBase
from mlgitops.spec.environment import Environment
from mlgitops.spec.placement import Placement
from mlgitops.spec.serving import IngressPeer

W = TypeVar("W", bound=WorkloadBase)
Objects = list[dict[str, Any]]
Render = Callable[[Environment, W, ObjectMeta, Placement], Objects]
"""A workload's objects, from the environment, the workload, its objects' metadata and its pods' placement."""
Ingress = Callable[[Environment, W, list[IngressPeer]], Objects]
"""The NetworkPolicy ingress rules that let traffic reach the workload's pods (given the environment's default
sources); none: only the default deny."""


@dataclass(frozen=True)
class KindRenderer(Generic[W]):
    """How one kind is rendered: its objects, and who may reach its pods under the environment's network policy."""

    objects: Render[W]
    resolved: bool = True
    """The renderer is given the workload resolved (``spec/kinds.py`` resolved()); False: as written (it derives
    what it needs itself)."""
    ingress: Ingress[W] | None = None


RENDERERS: dict[type[WorkloadBase], KindRenderer[Any]] = {}
"""Every kind's renderer by its spec model."""


def renders(model: type[W], *, resolved: bool = True, ingress: Ingress[W] | None = None) -> Callable[[Render[W]], Render[W]]:
    """Register the decorated function as the renderer of ``model``'s workloads; raises ValueError for a second one."""

    def register(objects: Render[W]) -> Render[W]:
        if model in RENDERERS:
            raise ValueError(f"{model.__name__} has a renderer already")
        RENDERERS[model] = KindRenderer(objects, resolved, ingress)
        return objects

    return register


def renderer_of(workload: WorkloadBase) -> KindRenderer[Any]:
    """The renderer of the workload's kind."""
    return RENDERERS[type(workload)]
