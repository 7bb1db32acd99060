"""An LLM server: a Deployment (one pod per replica) or a LeaderWorkerSet (one pod per pipeline stage), its Service.

A LeaderWorkerSet (leaderworkerset.x-k8s.io/v1) runs `replicas` groups of `size` pods: the leader
serves HTTP (the Service selects it by LeaderWorkerSet's worker-index label) and the workers join it.
A group is recreated as a whole when one of its pods restarts, and, when the pool declares a topology
label, placed exclusively in one topology domain. Source: https://lws.sigs.k8s.io/docs/
"""

from __future__ import annotations

from typing import Any

from mlgitops.render.autoscalers import scale_target
from mlgitops.render.kinds import renders
from mlgitops.render.metadata import ObjectMeta, selector_labels
from mlgitops.render.model_download import DOWNLOAD_CONTAINER, download_container, shared_download, wait_container
from mlgitops.render.network import llm_ingress
from mlgitops.render.pod import EXTERNAL_SECRETS_ANNOTATION, pod_template
from mlgitops.render.serving import deployment, fixed_replicas, service
from mlgitops.render.serving_extras import render_server_extras
from mlgitops.spec.environment import Environment
from mlgitops.spec.llm import LLM_PORT_NAME, LlmServing
from mlgitops.spec.llm_defaults import Role, home_volumes, with_llm_defaults
from mlgitops.spec.placement import Placement

LWS_API_VERSION = "leaderworkerset.x-k8s.io/v1"
LWS_WORKER_INDEX_LABEL = "leaderworkerset.sigs.k8s.io/worker-index"
EXCLUSIVE_TOPOLOGY_ANNOTATION = "leaderworkerset.sigs.k8s.io/exclusive-topology"


def _template(
    environment: Environment,
    raw: LlmServing,
    server: LlmServing,
    meta: ObjectMeta,
    placement: Placement,
    *,
    role: Role,
) -> dict[str, Any]:
    """The pod template of the single server, or of a group's leader or workers (``role``)."""
    serves = role != "worker"
    ports = [{"name": LLM_PORT_NAME, "containerPort": server.port, "protocol": "TCP"}] if serves else None
    controller = "Deployment" if role == "single" else "LeaderWorkerSet"
    template = pod_template(
        environment,
        server,
        placement,
        meta,
        restart_policy=None,
        ports=ports,
        own_volumes=home_volumes(raw),
        controller=controller,
    )
    download = raw.model.download
    if download is not None:
        # Per-pod scratch space: every pod downloads its own copy. A claim the group shares: the leader downloads
        # once and the workers wait for it (model_download.py).
        shared = shared_download(environment, raw)
        if shared and role == "worker":
            fetch = wait_container(raw, server)
        else:
            fetch = download_container(raw, server, leader_of_group=shared)
        pod = template["spec"]
        ordered = {key: value for key, value in pod.items() if key != "containers"}
        # After the native sidecars (which the download may use), before the workload's own init containers.
        extras = pod.get("initContainers", [])
        sidecars = [container for container in extras if container.get("restartPolicy") == "Always"]
        others = [container for container in extras if container.get("restartPolicy") != "Always"]
        ordered["initContainers"] = [*sidecars, fetch, *others]
        template["spec"] = {**ordered, "containers": pod["containers"]}
        if "volumes" in pod:
            template["spec"]["volumes"] = pod["volumes"]
        secrets = {var.secret_key_ref.name for var in download.env if var.secret_key_ref is not None}
        existing = secrets & set(environment.existing_secrets) if fetch["name"] == DOWNLOAD_CONTAINER else set()
        if existing:
            annotations = template["metadata"].setdefault("annotations", {})
            known = set(filter(None, annotations.get(EXTERNAL_SECRETS_ANNOTATION, "").split(",")))
            annotations[EXTERNAL_SECRETS_ANNOTATION] = ",".join(sorted(known | existing))
            template["metadata"]["annotations"] = dict(sorted(annotations.items()))
    return template


@renders(LlmServing, resolved=False, ingress=llm_ingress)
def render_llm_server(
    environment: Environment, workload: LlmServing, meta: ObjectMeta, placement: Placement
) -> list[dict[str, Any]]:
    """Deployment or LeaderWorkerSet, Service, and the server's autoscaler, PDB and ServiceMonitor.

    ``workload`` is as written: the leader's and the workers' pods each derive their own defaults.
    """
    server = with_llm_defaults(workload)
    leader = _template(environment, workload, server, meta, placement, role="leader" if workload.multi_node else "single")
    if not workload.multi_node:
        volumes = [workload.model.volume, workload.home.volume, *(mount.volume for mount in workload.mounts)]
        main = deployment(environment, workload, meta, leader, volumes)
        target = scale_target("apps/v1", "Deployment", meta.name)
        selector = selector_labels(workload.name)
    else:
        worker = _template(environment, workload, with_llm_defaults(workload, "worker"), meta, placement, role="worker")
        spec = fixed_replicas(workload)
        spec["startupPolicy"] = "LeaderCreated"
        spec["leaderWorkerTemplate"] = {
            "size": workload.pipeline_parallel,
            # A pipeline stage that restarts loses the group's state: restart the whole group together.
            "restartPolicy": "RecreateGroupOnPodRestart",
            "leaderTemplate": leader,
            "workerTemplate": worker,
        }
        topology = placement.pool.topology_label if placement.pool is not None else None
        extra = {EXCLUSIVE_TOPOLOGY_ANNOTATION: topology} if topology else None
        target = scale_target(LWS_API_VERSION, "LeaderWorkerSet", meta.name)
        main = {
            "apiVersion": LWS_API_VERSION,
            "kind": "LeaderWorkerSet",
            "metadata": meta.render(environment.namespace, extra),
            "spec": spec,
        }
        selector = {**selector_labels(workload.name), LWS_WORKER_INDEX_LABEL: "0"}
    return [main, service(environment, workload, meta, selector), *render_server_extras(environment, server, meta, target)]
