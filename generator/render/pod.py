"""The pod template every workload kind shares: containers, placement, identity, storage, security."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from mlgitops.render.config_maps import config_map_names
from mlgitops.render.container import (
    SHM_VOLUME,
    container_security,
    probes,
    render_container,
    resource_amounts,
)
from mlgitops.render.dra import CLAIM_NAME, pod_resource_claims
from mlgitops.render.metadata import ObjectMeta, selector_labels
from mlgitops.spec.container import ExtraContainer, WorkloadBase
from mlgitops.spec.derived import volumes_by_name
from mlgitops.spec.environment import Environment
from mlgitops.spec.kinds import kind_of
from mlgitops.spec.placement import GPU_PRODUCT_LABEL, Placement
from mlgitops.spec.queues import topology_annotations
from mlgitops.spec.run_as import pod_run_as
from mlgitops.spec.storage import Volume

EXTERNAL_CLAIMS_ANNOTATION = "mlgitops.io/external-claims"
SCRATCH_VOLUMES_ANNOTATION = "mlgitops.io/scratch-volumes"
EXTERNAL_SECRETS_ANNOTATION = "mlgitops.io/external-secrets"
EXTERNAL_CONFIG_MAPS_ANNOTATION = "mlgitops.io/external-configmaps"
EXTERNAL_SERVICE_ACCOUNTS_ANNOTATION = "mlgitops.io/external-serviceaccounts"
HOST_IPC_RULE = "security-host-ipc"
WAIVER_PREFIX = "mlgitops.io/waive."
DO_NOT_DISRUPT = "karpenter.sh/do-not-disrupt"
"""Karpenter (v1) does not disrupt a node running a pod with this annotation set to "true" (consolidation, drift):
kubernetes-sigs/karpenter v1.14.1, pkg/utils/pod/scheduling.go ``IsDoNotDisruptActive``, statenode.go
``ValidatePodsDisruptable``. Expiry and a NodeClaim's terminationGracePeriod still end such a node."""
ZONE_LABEL = "topology.kubernetes.io/zone"
HOSTNAME_LABEL = "kubernetes.io/hostname"
DEPLOYMENT_REVISION_LABEL = "pod-template-hash"
MATCH_LABEL_KEYS_SINCE = (1, 27)
"""MatchLabelKeysInPodTopologySpread: alpha 1.25, beta and on by default from 1.27 (kubernetes pkg/features)."""


def container_resources(workload: WorkloadBase, placement: Placement) -> dict[str, Any]:
    """Requests and limits of the main container. GPUs go in limits, with an equal request (or, on a pool with a
    DRA deviceClass, come from the pod's ResourceClaim); memory is always limited."""
    if workload.resources.gpu is not None and placement.device_class is not None:
        # DRA: the devices come from the pod's ResourceClaim, not from an extended resource.
        return {**resource_amounts(workload.resources, None), "claims": [{"name": CLAIM_NAME}]}
    return resource_amounts(workload.resources, placement.gpu_resource)


def containers_of(workload: WorkloadBase) -> list[WorkloadBase | ExtraContainer]:
    """The main container's spec (the workload itself), its sidecars and its init containers."""
    return [workload, *workload.sidecars, *workload.init_containers]


def _volume(volume: Volume, config_map_name: Any) -> dict[str, Any]:
    if volume.scratch is not None:
        empty_dir: dict[str, Any] = {}
        if volume.scratch.memory:
            empty_dir["medium"] = "Memory"
        empty_dir["sizeLimit"] = volume.scratch.size_limit
        return {"name": volume.name, "emptyDir": empty_dir}
    if volume.config_map is not None:
        return {"name": volume.name, "configMap": {"name": config_map_name(volume.config_map)}}
    if volume.image is not None:
        return {"name": volume.name, "image": {"reference": volume.image, "pullPolicy": volume.image_pull_policy}}
    return {"name": volume.name, "persistentVolumeClaim": {"claimName": volume.claim_name}}


def _pod_volumes(workload: WorkloadBase, volumes: dict[str, Volume], config_map_name: Any) -> list[dict[str, Any]]:
    pod_volumes: dict[str, dict[str, Any]] = {}
    for container in containers_of(workload):
        for mount in container.mounts:
            pod_volumes[mount.volume] = _volume(volumes[mount.volume], config_map_name)
    if workload.shm_size is not None:
        pod_volumes[SHM_VOLUME] = {"name": SHM_VOLUME, "emptyDir": {"medium": "Memory", "sizeLimit": workload.shm_size}}
    return sorted(pod_volumes.values(), key=lambda v: str(v["name"]))


def _pod_security(workload: WorkloadBase) -> dict[str, Any]:
    security = workload.security
    run_as = pod_run_as(security)
    context: dict[str, Any] = {"runAsNonRoot": run_as.non_root}
    if run_as.user is not None:
        context["runAsUser"] = run_as.user
    for field, key in (("run_as_group", "runAsGroup"), ("fs_group", "fsGroup")):
        value = getattr(security, field)
        if value is not None:
            context[key] = value
    context["seccompProfile"] = {"type": security.seccomp_profile}
    return context


def default_priority_class(environment: Environment, workload: WorkloadBase) -> str | None:
    """The environment's priority class for this kind of workload (training low, serving high): ``priority`` in the
    kind's row of ``spec/kinds.py``."""
    priorities = environment.priorities
    by_family = {"training": priorities.training, "serving": priorities.serving, "batch": priorities.batch}
    return by_family[kind_of(workload).priority]


def _requirement(requirement: Any) -> dict[str, Any]:
    rendered: dict[str, Any] = {"key": requirement.key, "operator": requirement.operator}
    if requirement.values:
        rendered["values"] = list(requirement.values)
    return rendered


def _affinity(workload: WorkloadBase) -> dict[str, Any]:
    affinity: dict[str, Any] = {}
    node = workload.node_affinity
    if node is not None and (node.required or node.preferred):
        node_affinity: dict[str, Any] = {}
        if node.required:
            node_affinity["requiredDuringSchedulingIgnoredDuringExecution"] = {
                "nodeSelectorTerms": [{"matchExpressions": [_requirement(r) for r in node.required]}]
            }
        if node.preferred:
            node_affinity["preferredDuringSchedulingIgnoredDuringExecution"] = [
                {"weight": term.weight, "preference": {"matchExpressions": [_requirement(r) for r in term.match]}}
                for term in node.preferred
            ]
        affinity["nodeAffinity"] = node_affinity
    anti = workload.anti_affinity
    if anti is not None:
        term = {"labelSelector": {"matchLabels": selector_labels(workload.name)}, "topologyKey": anti.topology_key}
        if anti.required:
            affinity["podAntiAffinity"] = {"requiredDuringSchedulingIgnoredDuringExecution": [term]}
        else:
            affinity["podAntiAffinity"] = {
                "preferredDuringSchedulingIgnoredDuringExecution": [{"weight": anti.weight, "podAffinityTerm": term}]
            }
    return affinity


def _version(text: str) -> tuple[int, int]:
    major, minor = text.lstrip("v").split(".")[:2]
    return int(major), int(minor)


def spread_constraints(workload: WorkloadBase, revision_label: str | None = None) -> list[dict[str, Any]]:
    """The workload's topologySpreadConstraints: its own, or for a server of 2+ replicas (``most_replicas()``) zones
    then nodes.

    ``revision_label`` is the label the pods' controller stamps on each revision (a Deployment's
    `pod-template-hash`): as `matchLabelKeys` it counts skew among the pods of one revision only, so a rollout's
    old and new ReplicaSets are each spread (KEP-3243; beta and on by default since Kubernetes 1.27; the key must
    not appear in labelSelector, which it needs)."""
    selector = {"matchLabels": selector_labels(workload.name)}
    keys = {"matchLabelKeys": [revision_label]} if revision_label is not None else {}
    if workload.spread is not None:
        rendered = []
        for constraint in workload.spread:
            entry: dict[str, Any] = {
                "maxSkew": constraint.max_skew,
                "topologyKey": constraint.topology_key,
                "whenUnsatisfiable": constraint.when_unsatisfiable,
                "labelSelector": selector,
            }
            if constraint.min_domains is not None:
                entry["minDomains"] = constraint.min_domains
            rendered.append({**entry, **keys})
        return rendered
    if workload.most_replicas() >= 2:
        # Replicas of one server on one node (or zone) all go down with it. ScheduleAnyway: a
        # single-zone cluster still schedules every replica, only less evenly.
        return [
            {"maxSkew": 1, "topologyKey": key, "whenUnsatisfiable": "ScheduleAnyway", "labelSelector": selector, **keys}
            for key in (ZONE_LABEL, HOSTNAME_LABEL)
        ]
    return []


def revision_label(environment: Environment, controller: str | None) -> str | None:
    """The label a pod's controller puts on each revision, where spread constraints may match on it: a Deployment's
    (KServe predictors run as Deployments too) from Kubernetes 1.27; None for other controllers (Jobs and
    LeaderWorkerSets have no pod-template-hash) and older clusters."""
    if controller != "Deployment" or _version(environment.kubernetes_version) < MATCH_LABEL_KEYS_SINCE:
        return None
    return DEPLOYMENT_REVISION_LABEL


def _placement(placement: Placement, workload: WorkloadBase, revision: str | None = None) -> dict[str, Any]:
    rendered: dict[str, Any] = {}
    taints = {(t.key, t.effect) for t in placement.extra_gpu_taints}
    selector: dict[str, str] = {}
    if placement.pool is not None:
        selector.update(placement.pool.labels)
        taints |= {(t.key, t.effect) for t in placement.pool.taints}
    if workload.resources.gpu_product is not None and workload.resources.gpu is not None:
        selector[GPU_PRODUCT_LABEL] = workload.resources.gpu_product
    if selector:
        rendered["nodeSelector"] = dict(sorted(selector.items()))
    affinity = _affinity(workload)
    if affinity:
        rendered["affinity"] = affinity
    tolerations: list[dict[str, Any]] = [{"key": key, "operator": "Exists", "effect": effect} for key, effect in sorted(taints)]
    for extra in workload.tolerations:
        toleration: dict[str, Any] = {}
        if extra.key is not None:
            toleration["key"] = extra.key
        toleration["operator"] = extra.operator
        if extra.value is not None:
            toleration["value"] = extra.value
        if extra.effect is not None:
            toleration["effect"] = extra.effect
        if extra.toleration_seconds is not None:
            toleration["tolerationSeconds"] = extra.toleration_seconds
        if toleration not in tolerations:
            tolerations.append(toleration)
    if tolerations:
        rendered["tolerations"] = tolerations
    spread = spread_constraints(workload, revision)
    if spread:
        rendered["topologySpreadConstraints"] = spread
    return rendered


def service_account_of(workload: WorkloadBase) -> str | None:
    """The ServiceAccount the pods run as: the workload's own (named after it), a named one, or the default."""
    if workload.service_account is not None:
        return workload.name
    return workload.service_account_name


def pull_secrets_of(environment: Environment, workload: WorkloadBase) -> list[str]:
    return list(workload.image_pull_secrets if workload.image_pull_secrets is not None else environment.image_pull_secrets)


def _listed(names: set[str], declared: list[str]) -> str | None:
    found = sorted(names & set(declared))
    return ",".join(found) if found else None


def _annotations(
    environment: Environment, workload: WorkloadBase, volumes: dict[str, Volume], meta: ObjectMeta, placement: Placement
) -> dict[str, str]:
    """The pod template's annotations: the workload's, what rules need to know about objects made elsewhere, the
    topology a queued pod set asks Kueue for, and Karpenter's do-not-disrupt for pods that run to completion."""
    annotations = dict(meta.annotations)
    containers = containers_of(workload)
    mounted = [volumes[mount.volume] for container in containers for mount in container.mounts]
    secrets = {var.secret_key_ref.name for c in containers for var in c.env if var.secret_key_ref is not None}
    secrets |= {source.secret_ref.name for c in containers for source in c.env_from if source.secret_ref is not None}
    secrets |= set(pull_secrets_of(environment, workload))
    config_maps = {var.config_map_key_ref.name for c in containers for var in c.env if var.config_map_key_ref is not None}
    config_maps |= {s.config_map_ref.name for c in containers for s in c.env_from if s.config_map_ref is not None}
    config_maps |= {volume.config_map for volume in mounted if volume.config_map is not None}
    account = service_account_of(workload)
    found = {
        EXTERNAL_CLAIMS_ANNOTATION: ",".join(sorted({v.existing_claim for v in mounted if v.existing_claim is not None})),
        SCRATCH_VOLUMES_ANNOTATION: ",".join(sorted({v.name for v in mounted if v.scratch is not None})),
        EXTERNAL_SECRETS_ANNOTATION: _listed(secrets, environment.existing_secrets),
        EXTERNAL_CONFIG_MAPS_ANNOTATION: _listed(config_maps, environment.existing_config_maps),
        EXTERNAL_SERVICE_ACCOUNTS_ANNOTATION: _listed({account} if account else set(), environment.existing_service_accounts),
    }
    annotations.update({key: value for key, value in found.items() if value})
    if workload.host_ipc is not None:
        until = f" until={workload.host_ipc.until.isoformat()}" if workload.host_ipc.until is not None else ""
        annotations[WAIVER_PREFIX + HOST_IPC_RULE] = workload.host_ipc.reason + until
    annotations.update(topology_annotations(environment, workload, placement.pool))
    if kind_of(workload).do_not_disrupt:
        annotations[DO_NOT_DISRUPT] = "true"
    return dict(sorted(annotations.items()))


def pod_template(
    environment: Environment,
    workload: WorkloadBase,
    placement: Placement,
    meta: ObjectMeta,
    *,
    restart_policy: str | None,
    ports: list[dict[str, Any]] | None = None,
    container_name: str | None = None,
    readiness_port: str | None = None,
    own_volumes: Sequence[Volume] = (),
    controller: str | None = None,
) -> dict[str, Any]:
    """A PodTemplateSpec for ``workload``; a server without a readiness probe gets a TCP check of ``readiness_port``.

    ``own_volumes`` are volumes of this pod alone that its mounts may name besides the environment's (an LLM
    server's home); ``controller`` the kind that runs the pods ('Deployment': spread per rollout revision)."""
    volumes = volumes_by_name(environment)
    if own_volumes:
        volumes = {**volumes, **{volume.name: volume for volume in own_volumes}}
    names = config_map_names(environment) if environment.config_maps else {}

    def config_map_name(name: str) -> str:
        return names.get(name, name)

    main = render_container(
        workload,
        name=container_name or workload.name,
        resources=container_resources(workload, placement),
        security=container_security(workload.security),
        config_map_name=config_map_name,
        ports=ports,
        probe_fields=probes(workload.probes, readiness_port),
        shm=workload.shm_size is not None,
    )
    init_containers = [
        render_container(
            extra,
            name=extra.name,
            resources=resource_amounts(extra.resources, None),
            security=container_security(workload.security, extra.security),
            config_map_name=config_map_name,
            probe_fields=probes(extra.probes) if sidecar else None,
            restart_policy="Always" if sidecar else None,
        )
        for sidecar, extras in ((True, workload.sidecars), (False, workload.init_containers))
        for extra in extras
    ]

    template_meta: dict[str, Any] = {"labels": dict(meta.labels)}
    annotations = _annotations(environment, workload, volumes, meta, placement)
    if annotations:
        template_meta["annotations"] = annotations

    spec: dict[str, Any] = {}
    account = service_account_of(workload)
    if account:
        spec["serviceAccountName"] = account
    spec["automountServiceAccountToken"] = workload.automount_service_account_token
    priority_class = workload.priority_class_name or default_priority_class(environment, workload)
    if priority_class:
        spec["priorityClassName"] = priority_class
    if restart_policy:
        spec["restartPolicy"] = restart_policy
    spec["securityContext"] = _pod_security(workload)
    if workload.host_ipc is not None:
        spec["hostIPC"] = True
    pull_secrets = pull_secrets_of(environment, workload)
    if pull_secrets:
        spec["imagePullSecrets"] = [{"name": name} for name in pull_secrets]
    spec.update(_placement(placement, workload, revision_label(environment, controller)))
    if workload.resources.gpu is not None and placement.device_class is not None:
        spec["resourceClaims"] = pod_resource_claims(workload.name)
    if init_containers:
        spec["initContainers"] = init_containers
    spec["containers"] = [main]
    pod_volumes = _pod_volumes(workload, volumes, config_map_name)
    if pod_volumes:
        spec["volumes"] = pod_volumes
    return {"metadata": template_meta, "spec": spec}
