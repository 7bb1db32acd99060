"""Where pods live inside workload objects, how many run at once, and what their controllers add.

``pod_templates(obj)`` finds every pod template of a Kubernetes object, built-in or custom,
matched by API group *and* kind (Volcano's ``batch.volcano.sh`` Job is not a ``batch/v1``
Job). Each comes with the containers that run in it (KServe's framework predictors and a
TrainJob's trainer included, although they are not in a ``containers`` list) and with the
number of pods that run it at once, counted the way each controller does:

===========================================  ==========================================================
object                                       pods of one template
===========================================  ==========================================================
Deployment, ReplicaSet, StatefulSet, RC      ``spec.replicas`` (default 1)
DaemonSet                                    one per node (``pods`` is None)
Job, CronJob (one run)                       ``parallelism`` (default 1), at most ``completions``
JobSet, TrainingRuntime (a JobSet template)  ``replicatedJobs[i].replicas`` × the Job's parallelism
Kubeflow v1 jobs (PyTorchJob, TFJob, …)      ``<kind>ReplicaSpecs.<type>.replicas`` (default 1)
TrainJob                                     ``trainer.numNodes`` (default 1)
RayCluster, RayJob, RayService, RayCronJob   head 1; ``workerGroupSpecs[i].replicas`` × ``numOfHosts``
                                             (``maxReplicas`` when the Ray autoscaler is on)
LeaderWorkerSet                              ``replicas`` leaders; ``replicas × (size - 1)`` workers
InferenceService (predictor, transformer,    ``maxReplicas`` if above ``minReplicas``, else
explainer)                                   ``minReplicas`` (default 1)
LLMInferenceService                          ``replicas`` (default 1) per template
Volcano Job                                  ``tasks[i].replicas`` (default 1)
other custom resources                       1 per pod spec found by shape (containers with images)
===========================================  ==========================================================

An autoscaler (HPA, KEDA) may run more pods than ``spec.replicas``: callers that know the
autoscaler use its bounds instead. Controller-made volumes (a StatefulSet's
``volumeClaimTemplates``, a LeaderWorkerSet's, a JobSet's ``volumeClaimPolicies``) are in
``volume_claim_templates``.
"""

from __future__ import annotations

from typing import Any

from mlgitops.kube.pod_kinds import templates_of
from mlgitops.kube.pod_shapes import (
    BUILT_IN_GROUPS,
    BUILT_IN_KINDS,
    KSERVE_CONTAINER_KEYS,
    Container,
    FieldPath,
    PodTemplate,
    VolumeClaimTemplate,
    dotted,
    group_of,
    is_built_in,
    mapping,
    scaled,
    value_at,
    whole,
)

__all__ = [
    "BUILT_IN_GROUPS",
    "BUILT_IN_KINDS",
    "KSERVE_CONTAINER_KEYS",
    "Container",
    "FieldPath",
    "PodTemplate",
    "VolumeClaimTemplate",
    "dotted",
    "group_of",
    "is_built_in",
    "mapping",
    "pod_templates",
    "rollout_surge",
    "runs_pods",
    "scaled",
    "value_at",
    "volume_claim_templates",
    "whole",
    "written_path",
]


def pod_templates(obj: dict[str, Any]) -> list[PodTemplate]:
    """Every pod template of ``obj`` (see the module table), in a stable order."""
    return templates_of(obj)


def runs_pods(obj: dict[str, Any]) -> bool:
    """Whether the object runs pods: it has at least one pod template."""
    return bool(pod_templates(obj))


def written_path(obj: dict[str, Any], path: FieldPath) -> FieldPath:
    """Where a field that checks see under a synthesised name is written (a trainer's resourcesPerNode)."""
    if str(obj.get("kind")) != "TrainJob":
        return path
    for template in pod_templates(obj):
        for synthetic, written in template.renamed:
            if path[: len(synthetic)] == synthetic:
                return (*written, *path[len(synthetic) :])
    return path


def volume_claim_templates(obj: dict[str, Any]) -> dict[str, VolumeClaimTemplate]:
    """Volumes a controller adds to the object's pods, by volume name (claims it creates from templates)."""
    kind, group = str(obj.get("kind")), group_of(obj)
    found: dict[str, VolumeClaimTemplate] = {}
    if group == "apps" and kind == "StatefulSet":
        for claim in value_at(obj, ("spec", "volumeClaimTemplates")) or []:
            name = value_at(claim, ("metadata", "name"))
            if isinstance(name, str):
                found[name] = VolumeClaimTemplate(name, _modes(value_at(claim, ("spec", "accessModes"))), per_pod=True)
    if group == "leaderworkerset.x-k8s.io" and kind == "LeaderWorkerSet":
        # Each group's leader and worker StatefulSets get the claims (kubernetes-sigs/lws
        # api/leaderworkerset/v1/leaderworkerset_types.go volumeClaimTemplates; pkg/controllers).
        for claim in value_at(obj, ("spec", "leaderWorkerTemplate", "volumeClaimTemplates")) or []:
            name = value_at(claim, ("metadata", "name"))
            if isinstance(name, str):
                found[name] = VolumeClaimTemplate(name, _modes(value_at(claim, ("spec", "accessModes"))), per_pod=True)
    jobset_spec = None
    if group == "jobset.x-k8s.io" and kind == "JobSet":
        jobset_spec = obj.get("spec")
    elif group == "trainer.kubeflow.org" and kind in ("TrainingRuntime", "ClusterTrainingRuntime"):
        jobset_spec = value_at(obj, ("spec", "template", "spec"))
    policies = value_at(jobset_spec, ("volumeClaimPolicies",)) if isinstance(jobset_spec, dict) else None
    for policy in policies if isinstance(policies, list) else []:
        for claim in value_at(policy, ("templates",)) or []:
            name = value_at(claim, ("metadata", "name"))
            if isinstance(name, str):
                found[name] = VolumeClaimTemplate(name, _modes(value_at(claim, ("spec", "accessModes"))), per_pod=False)
    return found


def _modes(value: Any) -> tuple[str, ...]:
    return tuple(str(mode) for mode in value) if isinstance(value, list) else ()


def rollout_surge(obj: dict[str, Any]) -> int:
    """Extra pods a rollout of the object starts before old ones stop (a Deployment's RollingUpdate maxSurge).

    Deployments default to RollingUpdate with maxSurge 25 % (rounded up, so at least one pod
    for one replica); ``strategy: Recreate`` stops the old pods first. Other kinds replace
    pods one by one (StatefulSet) or create new Jobs: 0.
    """
    if group_of(obj) != "apps" or obj.get("kind") != "Deployment":
        return 0
    strategy = value_at(obj, ("spec", "strategy"))
    strategy = strategy if isinstance(strategy, dict) else {}
    if strategy.get("type") == "Recreate":
        return 0
    surge = value_at(strategy, ("rollingUpdate", "maxSurge"))
    replicas = whole(value_at(obj, ("spec", "replicas")))
    return scaled(surge if surge is not None else "25%", replicas, round_up=True)
