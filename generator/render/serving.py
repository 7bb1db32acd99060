"""Serving → a Deployment, its Service and the server's extras (autoscaler, PDB, ServiceMonitor, Ingress, HTTPRoute),
or with `kserve` a KServe InferenceService (kserve.py).

The Deployment spec and Service of a server are built here once, for `serving` and for LLM servers (llm.py).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from mlgitops.kube.readiness import PROGRESS_DEADLINE_DEFAULT, startup_window, wait_for
from mlgitops.render.autoscalers import scale_target
from mlgitops.render.kinds import renders
from mlgitops.render.kserve import render_inference_service
from mlgitops.render.metadata import ObjectMeta, selector_labels
from mlgitops.render.network import server_ingress
from mlgitops.render.pod import pod_template
from mlgitops.render.serving_extras import render_server_extras
from mlgitops.render.storage import rollout_strategy
from mlgitops.spec.environment import Environment
from mlgitops.spec.placement import Placement
from mlgitops.spec.serving import ServerBase, Serving


def fixed_replicas(workload: ServerBase) -> dict[str, Any]:
    """spec.replicas of a server's Deployment or LeaderWorkerSet: the fixed count (default 1), none under an autoscaler.

    Under an HPA (or KEDA's), spec.replicas stays out of git, or ArgoCD and the autoscaler fight over it.
    """
    if workload.autoscaling is None and workload.keda is None:
        return {"replicas": 1 if workload.replicas is None else workload.replicas}
    return {}


def deployment(
    environment: Environment, workload: ServerBase, meta: ObjectMeta, template: dict[str, Any], volumes: Iterable[str | None]
) -> dict[str, Any]:
    """An apps/v1 Deployment of the server's pods (``template``); a claim among ``volumes`` may set its rollout."""
    spec = fixed_replicas(workload)
    spec["selector"] = {"matchLabels": selector_labels(workload.name)}
    strategy = rollout_strategy(environment, volumes)
    if strategy is not None:
        spec["strategy"] = strategy
    window = startup_window(template["spec"])
    if wait_for(window) > PROGRESS_DEADLINE_DEFAULT:
        # A server that loads its model for longer than the default 10 minutes would be reported Failed
        # (ProgressDeadlineExceeded) while still loading, and GitOps health checks would give up (kube/readiness.py).
        spec["progressDeadlineSeconds"] = wait_for(window)
    spec["template"] = template
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": meta.render(environment.namespace), "spec": spec}


def service(environment: Environment, workload: ServerBase, meta: ObjectMeta, selector: dict[str, str]) -> dict[str, Any]:
    """The ClusterIP Service of the server's ports (``service_ports()``), to the pods ``selector`` picks."""
    ports = [
        {"name": port.name, "port": port.port, "targetPort": port.name, "protocol": port.protocol}
        for port in workload.service_ports()
    ]
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": meta.render(environment.namespace),
        "spec": {"type": "ClusterIP", "selector": selector, "ports": ports},
    }


@renders(Serving, ingress=server_ingress)
def render_serving(environment: Environment, workload: Serving, meta: ObjectMeta, placement: Placement) -> list[dict[str, Any]]:
    if workload.kserve is not None:
        return [render_inference_service(environment, workload, meta, placement)]
    ports = [{"name": p.name, "containerPort": p.port, "protocol": p.protocol} for p in workload.ports]
    readiness = workload.ports[0].name if workload.ports else None
    template = pod_template(
        environment,
        workload,
        placement,
        meta,
        restart_policy=None,
        ports=ports,
        readiness_port=readiness,
        controller="Deployment",
    )
    main = deployment(environment, workload, meta, template, (mount.volume for mount in workload.mounts))
    target = scale_target("apps/v1", "Deployment", meta.name)
    extras = render_server_extras(environment, workload, meta, target)
    return [main, service(environment, workload, meta, selector_labels(workload.name)), *extras]
