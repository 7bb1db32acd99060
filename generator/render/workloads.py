"""Workload kinds to Kubernetes objects: each kind's renderer, looked up in the registry (render/kinds.py).

training → Job (training.py), distributed-training → TrainJob or PyTorchJob (distributed.py, trainjob.py),
serving → Deployment/Service/HPA or an InferenceService (serving.py, kserve.py), llm-serving → Deployment or
LeaderWorkerSet (llm.py), batch → CronJob (batch.py), ray-job → RayJob and ray-service → RayService (ray.py).
What every kind shares is done here: the objects' metadata, the workload's own ServiceAccount, and the
ResourceClaimTemplate of accelerators claimed through DRA.
"""

from __future__ import annotations

from typing import Any

# Each module registers its kind's renderer (render.kinds.renders) when imported: importing them all here makes
# the registry complete whenever mlgitops.render is imported.
from mlgitops.render import batch, distributed, llm, ray, serving, training  # noqa: F401
from mlgitops.render.dra import render_claim_template
from mlgitops.render.identity import render_service_account
from mlgitops.render.kinds import renderer_of
from mlgitops.render.metadata import ObjectMeta, object_meta
from mlgitops.spec.environment import Environment
from mlgitops.spec.kinds import kind_of, resolved
from mlgitops.spec.placement import place
from mlgitops.spec.workloads import Workload


def render_workload(environment: Environment, environment_name: str, workload: Workload) -> list[dict[str, Any]]:
    """The workload's objects: its own ServiceAccount (if it declares one) first; accelerators claimed through
    DRA add the workload's ResourceClaimTemplate."""
    full = resolved(environment, workload)
    placement = place(environment, full)
    meta = _meta(environment, environment_name, full, kind_of(workload).component)
    renderer = renderer_of(workload)
    objects = renderer.objects(environment, full if renderer.resolved else workload, meta, placement)
    if placement.device_class is not None and full.resources.gpu is not None:
        objects.append(render_claim_template(environment, full, meta, placement))
    if workload.service_account is not None:
        account = render_service_account(
            environment, environment_name, workload.name, workload.service_account, app=workload.name
        )
        objects.insert(0, account)
    return objects


def _meta(environment: Environment, environment_name: str, workload: Workload, component: str) -> ObjectMeta:
    return object_meta(
        environment,
        environment_name,
        name=workload.name,
        app=workload.name,
        component=component,
        labels=dict(workload.labels),
        annotations=dict(workload.annotations),
    )
