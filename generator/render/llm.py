"""An LLM server: a Deployment (one pod per replica) or a LeaderWorkerSet (one pod per pipeline stage), its Service.

A LeaderWorkerSet (leaderworkerset.x-k8s.io/v1) runs `replicas` groups of `size` pods: the leader
serves HTTP (the Service selects it by LeaderWorkerSet's worker-index label) and the workers join it.
A group is recreated as a whole when one of its pods restarts, and, when the pool declares a topology
label, placed exclusively in one topology domain. Source: https://lws.sigs.k8s.io/docs/
"""

from __future__ import annotations

from typing import Any

from mlgitops.kube.kueue_queues import TOPOLOGY_ANNOTATIONS
from mlgitops.render.autoscalers import scale_target
from mlgitops.render.download_job import download_job_claim, render_download_job
from mlgitops.render.dra import render_claim_template
from mlgitops.render.inference_pool import render_pool
from mlgitops.render.kinds import renders
from mlgitops.render.kueue import queued
from mlgitops.render.metadata import ObjectMeta, selector_labels
from mlgitops.render.model_download import DOWNLOAD_CONTAINER, download_container, shared_download, wait_container
from mlgitops.render.network import llm_ingress, network_policy, picker_ingress
from mlgitops.render.pod import EXTERNAL_SECRETS_ANNOTATION, pod_template
from mlgitops.render.serving import deployment, fixed_replicas, service
from mlgitops.render.serving_extras import render_server_extras
from mlgitops.spec.environment import Environment
from mlgitops.spec.inference_pool import EXT_PROC_PORT, METRICS_PORT
from mlgitops.spec.llm import LLM_PORT_NAME, LlmServing
from mlgitops.spec.llm_defaults import Role, home_volumes, with_llm_defaults
from mlgitops.spec.picker import picker_name
from mlgitops.spec.placement import Placement

LWS_API_VERSION = "leaderworkerset.x-k8s.io/v1"
LWS_WORKER_INDEX_LABEL = "leaderworkerset.sigs.k8s.io/worker-index"
EXCLUSIVE_TOPOLOGY_ANNOTATION = "leaderworkerset.sigs.k8s.io/exclusive-topology"
NO_SURGE = {"maxSurge": 0, "maxUnavailable": 1}
"""The rollout of a queued server: the old pod (or group) goes first and frees the quota its replacement needs.
Kueue gates every new pod of a Deployment until its own Workload is admitted (site/content/en/docs/tasks/run/
deployment.md, plain-pod integration), so a surge pod on a full queue waits for quota that only the rollout itself
would free (kubernetes-sigs/kueue#5118)."""
PICKER_PORTS = (EXT_PROC_PORT, METRICS_PORT)
PODSET_GROUP_ANNOTATION = "kueue.x-k8s.io/podset-group-name"


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
        if (shared and role == "worker") or download_job_claim(environment, raw) is not None:
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
    """The server's objects, its InferencePool and endpoint picker, and a canary's candidate beside it.

    ``workload`` is as written: the leader's and the workers' pods each derive their own defaults.
    """
    objects = _server(environment, workload, meta, placement)
    candidate = workload.candidate()
    policy = environment.network_policy
    defaults = policy.allow_from if policy is not None else []
    if candidate is not None:
        renamed = _renamed(meta, candidate.name)
        objects += _server(environment, candidate, renamed, placement)
        if placement.device_class is not None:
            objects.append(render_claim_template(environment, with_llm_defaults(candidate), renamed, placement))
        # The candidate's pods are reached like the stable ones: through the stable server's route.
        routed = candidate.model_copy(update={"http_route": workload.http_route})
        objects.append(network_policy(environment, meta, candidate.name, llm_ingress(environment, routed, defaults)))
    for server in (workload, candidate):
        if server is not None and server.inference_pool is not None:
            name = picker_name(server)
            objects.append(network_policy(environment, meta, name, picker_ingress(environment, server, PICKER_PORTS)))
    return [obj for obj in objects if obj is not None]


def _renamed(meta: ObjectMeta, name: str) -> ObjectMeta:
    return ObjectMeta(name, {**meta.labels, "app.kubernetes.io/name": name}, meta.annotations)


def _server(environment: Environment, workload: LlmServing, meta: ObjectMeta, placement: Placement) -> list[Any]:
    """Deployment or LeaderWorkerSet, Service, the server's autoscaler, PDB, ServiceMonitor and route, and its pool.

    Queued in Kueue (``queue``), the Deployment or LeaderWorkerSet carries the queue's labels (Kueue's webhooks
    gate its pods until admitted: a Deployment pod by pod, a LeaderWorkerSet group by group) and rolls out without
    surge, so an update never waits for quota its own old pods hold.
    """
    server = with_llm_defaults(workload)
    job = queued(environment, workload, meta)
    leader = _template(environment, workload, server, meta, placement, role="leader" if workload.multi_node else "single")
    if not workload.multi_node:
        volumes = [workload.model.volume, workload.home.volume, *(mount.volume for mount in workload.mounts)]
        main = deployment(environment, workload, job.meta, leader, volumes)
        if job.queue is not None and main["spec"].get("strategy", {}).get("type") != "Recreate":
            main["spec"] = _before_template(main["spec"], "strategy", {"type": "RollingUpdate", "rollingUpdate": NO_SURGE})
        target = scale_target("apps/v1", "Deployment", meta.name)
        selector = selector_labels(workload.name)
    else:
        worker = _template(environment, workload, with_llm_defaults(workload, "worker"), meta, placement, role="worker")
        if job.queue is not None:
            _one_domain(leader, worker, workload.name)
        spec = fixed_replicas(workload)
        spec["startupPolicy"] = "LeaderCreated"
        if job.queue is not None:
            # LWS's own default (maxSurge 0, maxUnavailable 1: api/leaderworkerset/v1/leaderworkerset_types.go),
            # written down: a surge group would wait for quota its old group holds.
            spec["rolloutStrategy"] = {"type": "RollingUpdate", "rollingUpdateConfiguration": NO_SURGE}
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
            "metadata": job.meta.render(environment.namespace, extra),
            "spec": spec,
        }
        selector = {**selector_labels(workload.name), LWS_WORKER_INDEX_LABEL: "0"}
    extras = render_server_extras(environment, server, meta, target)
    if download_job_claim(environment, workload) is not None:
        extras.append(render_download_job(environment, workload, server, meta))
    return [main, service(environment, workload, meta, selector), *extras, *render_pool(environment, workload, meta)]


def _one_domain(leader: dict[str, Any], worker: dict[str, Any], group: str) -> None:
    """Leader and workers of a queued group that ask Kueue for a topology share one domain: the same
    kueue.x-k8s.io/podset-group-name on both templates (Kueue docs tasks/run/leaderworkerset.md; allowed with a
    preferred or required topology, for exactly two pod sets one of which has one pod: pkg/controller/jobframework/
    tas_validation.go)."""
    asked = (TOPOLOGY_ANNOTATIONS["preferred"], TOPOLOGY_ANNOTATIONS["required"])
    templates = (leader["metadata"], worker["metadata"])
    if all(any(key in meta.get("annotations", {}) for key in asked) for meta in templates):
        for meta in templates:
            meta["annotations"] = dict(sorted({**meta["annotations"], PODSET_GROUP_ANNOTATION: group}.items()))


def _before_template(spec: dict[str, Any], key: str, value: Any) -> dict[str, Any]:
    """``spec`` with ``key`` set just before its template (the order the Deployment's fields are written in)."""
    ordered = {k: v for k, v in spec.items() if k not in (key, "template")}
    return {**ordered, key: value, "template": spec["template"]}
