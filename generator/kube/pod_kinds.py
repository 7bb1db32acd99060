"""Pod templates of each workload kind, built-in and custom, with the pods each controller runs from them.

One reader per kind, in tables keyed by (API group, kind): ``BUILT_IN_READERS``, ``CUSTOM_READERS``
and ``KIND_SUFFIX_READERS`` (a new kind is one reader and one row); custom resources nobody taught this
module are searched by shape. ``generator.kube.pods`` is the public face of these readers.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

from mlgitops.kube.pod_shapes import (
    BUILT_IN_GROUPS,
    Container,
    FieldPath,
    PodTemplate,
    group_of,
    listed_containers,
    mapping,
    replicas_of,
    template_if_pod,
    value_at,
    whole,
)
from mlgitops.kube.serving_pods import kserve, leader_worker_set, llm_inference, seldon_server
from mlgitops.kube.trainjob import TRAINER_PATH, TRAINER_STEP, num_nodes, trainer_pod, written_at

# Custom resources nest pod templates a few levels down; the shape search stops here.
_SEARCH_DEPTH = 12




def _job_pods(job_spec: Any) -> tuple[int, str]:
    job_spec = job_spec if isinstance(job_spec, dict) else {}
    parallelism = whole(job_spec.get("parallelism"))
    completions = job_spec.get("completions")
    if isinstance(completions, int) and not isinstance(completions, bool) and 0 <= completions < parallelism:
        return completions, f"completions {completions}"
    return parallelism, f"parallelism {parallelism}"


def _jobset(spec: Any, path: FieldPath) -> Iterator[PodTemplate]:
    """Pod templates of a JobSet spec: each replicated Job's pods, ``replicas`` × ``parallelism``."""
    jobs = spec.get("replicatedJobs") if isinstance(spec, dict) else None
    for index, replicated in enumerate(jobs if isinstance(jobs, list) else []):
        if not isinstance(replicated, dict):
            continue
        job_spec = value_at(replicated, ("template", "spec"))
        per_job, how = _job_pods(job_spec)
        replicas = whole(replicated.get("replicas"))
        name = replicated.get("name", index)
        pod_path = (*path, "replicatedJobs", index, "template", "spec", "template", "spec")
        yield from template_if_pod(
            pod_path,
            value_at(job_spec, ("template", "spec")),
            replicas * per_job,
            f"replicatedJob {name}: replicas {replicas} × {how}",
            job=True,
        )


def _kubeflow(obj: dict[str, Any]) -> Iterator[PodTemplate]:
    spec = obj.get("spec")
    if not isinstance(spec, dict):
        return
    for key in sorted(k for k in spec if k.endswith("ReplicaSpecs")):
        replicas = spec[key]
        if not isinstance(replicas, dict):
            continue
        for role in sorted(replicas):
            entry = replicas[role] if isinstance(replicas[role], dict) else {}
            count = whole(entry.get("replicas"))
            path = ("spec", key, role, "template", "spec")
            yield from template_if_pod(path, value_at(obj, path), count, f"{role} replicas {count}")


def _ray_cluster(spec: Any, path: FieldPath) -> Iterator[PodTemplate]:
    if not isinstance(spec, dict):
        return
    yield from template_if_pod(
        (*path, "headGroupSpec", "template", "spec"), value_at(spec, ("headGroupSpec", "template", "spec")), 1, "the head"
    )
    autoscaled = spec.get("enableInTreeAutoscaling") is True
    groups = spec.get("workerGroupSpecs")
    for index, group in enumerate(groups if isinstance(groups, list) else []):
        if not isinstance(group, dict):
            continue
        hosts = whole(group.get("numOfHosts"))
        if autoscaled and isinstance(group.get("maxReplicas"), int):
            replicas, how = whole(group["maxReplicas"]), "maxReplicas"
        else:
            replicas, how = whole(group.get("replicas", group.get("minReplicas", 1))), "replicas"
        counted = f"workerGroupSpecs[{index}] {how} {replicas}" + (f" × numOfHosts {hosts}" if hosts != 1 else "")
        pod_path = (*path, "workerGroupSpecs", index, "template", "spec")
        yield from template_if_pod(pod_path, value_at(group, ("template", "spec")), replicas * hosts, counted)


def _ray_job(spec: Any, path: FieldPath) -> Iterator[PodTemplate]:
    if not isinstance(spec, dict):
        return
    yield from _ray_cluster(spec.get("rayClusterSpec"), (*path, "rayClusterSpec"))
    submitter = (*path, "submitterPodTemplate", "spec")
    yield from template_if_pod(submitter, value_at(spec, ("submitterPodTemplate", "spec")), 1, "the submitter", job=True)








def _train_job(obj: dict[str, Any]) -> Iterator[PodTemplate]:
    """A TrainJob's trainer pods (``kube.trainjob.trainer_pod``: spec.trainer with its runtime patches' pod settings).

    The trainer is partial (judged only for what it sets) when it leaves ``resourcesPerNode`` to
    the runtime. Patches of the runtime's other replicated jobs (initializers, an MPI launcher)
    are partial pod specs; so are the trainer's patches when spec.trainer is left out.
    """
    spec = mapping(obj.get("spec"))
    nodes = whole(num_nodes(obj))
    trainer = trainer_pod(obj)
    if trainer is not None:
        path, pod = trainer
        containers = pod.get("containers") or []
        renamed = tuple(
            (synthetic, written)
            for field in ("resources", "volumeMounts", "securityContext")
            if (written := written_at(obj, synthetic := (*TRAINER_PATH, field))) != synthetic
        )
        yield PodTemplate(
            path,
            pod,
            nodes,
            f"numNodes {nodes}",
            # Without resourcesPerNode the runtime's container sizes the pods: only what is written is judged.
            partial="resourcesPerNode" not in mapping(spec.get("trainer")),
            containers=tuple(Container(TRAINER_PATH, container) for container in containers),
            metadata_path=(*path[:-1], "metadata") if path != TRAINER_PATH else ("metadata",),
            renamed=renamed,
        )
    patches = spec.get("runtimePatches")
    for index, patch in enumerate(patches if isinstance(patches, list) else []):
        runtime = value_at(patch, ("trainingRuntimeSpec", "template", "spec"))
        base: FieldPath = ("spec", "runtimePatches", index, "trainingRuntimeSpec", "template", "spec")
        for template in _jobset(runtime, base):
            job = value_at(runtime, ("replicatedJobs", template.path[len(base) + 1], "name"))
            if trainer is not None and job == TRAINER_STEP:
                continue  # merged into the trainer's pods above
            yield PodTemplate(
                template.path,
                template.spec,
                template.pods,
                template.counted,
                job=True,
                partial=True,
                containers=template.containers,
                metadata_path=template.metadata_path,
            )


def _app_wrapper(obj: dict[str, Any]) -> Iterator[PodTemplate]:
    components = value_at(obj, ("spec", "components"))
    for index, component in enumerate(components if isinstance(components, list) else []):
        inner = value_at(component, ("template",))
        if isinstance(inner, dict) and isinstance(inner.get("kind"), str):
            base: FieldPath = ("spec", "components", index, "template")
            for template in templates_of(inner):
                yield _moved(template, base)


def _moved(template: PodTemplate, base: FieldPath) -> PodTemplate:
    return PodTemplate(
        (*base, *template.path),
        template.spec,
        template.pods,
        template.counted,
        template.job,
        template.partial,
        tuple(Container((*base, *c.path), c.spec, c.init) for c in template.containers),
        (*base, *template.metadata_path) if template.metadata_path is not None else None,
        tuple(((*base, *a), (*base, *b)) for a, b in template.renamed),
    )


def _volcano(obj: dict[str, Any]) -> Iterator[PodTemplate]:
    tasks = value_at(obj, ("spec", "tasks"))
    for index, task in enumerate(tasks if isinstance(tasks, list) else []):
        if isinstance(task, dict):
            replicas = whole(task.get("replicas"))
            path = ("spec", "tasks", index, "template", "spec")
            yield from template_if_pod(
                path, value_at(task, ("template", "spec")), replicas, f"tasks[{index}] replicas {replicas}"
            )


def _llm_inference_config(obj: dict[str, Any]) -> Iterator[PodTemplate]:
    """An LLMInferenceServiceConfig: a preset that LLMInferenceServices merge over KServe's own and their spec
    (``combineBaseRefsConfig``, kserve/kserve pkg/controller/v1alpha2/llmisvc/config_merge.go): its pods are partial."""
    for path, pod in _pod_specs_by_shape(("spec",), obj.get("spec"), 0, images=False):
        yield PodTemplate(path, pod, 1, "", partial=True, containers=listed_containers(pod, path), metadata_path=None)




def _pod(obj: dict[str, Any]) -> Iterator[PodTemplate]:
    yield from template_if_pod(("spec",), obj.get("spec"), 1, "one pod", metadata_path=("metadata",))


def _replicated(obj: dict[str, Any]) -> Iterator[PodTemplate]:
    """Deployment, ReplicaSet, StatefulSet, ReplicationController: ``replicas`` pods of one template."""
    spec = mapping(obj.get("spec"))
    replicas, counted = replicas_of(spec)
    yield from template_if_pod(("spec", "template", "spec"), value_at(spec, ("template", "spec")), replicas, counted)


def _daemon_set(obj: dict[str, Any]) -> Iterator[PodTemplate]:
    spec = mapping(obj.get("spec"))
    yield from template_if_pod(("spec", "template", "spec"), value_at(spec, ("template", "spec")), None, "one per node")


def _job(obj: dict[str, Any]) -> Iterator[PodTemplate]:
    spec = mapping(obj.get("spec"))
    pods, counted = _job_pods(spec)
    yield from template_if_pod(("spec", "template", "spec"), value_at(spec, ("template", "spec")), pods, counted, job=True)


def _cron_job(obj: dict[str, Any]) -> Iterator[PodTemplate]:
    job = value_at(mapping(obj.get("spec")), ("jobTemplate", "spec"))
    pods, counted = _job_pods(job)
    path: FieldPath = ("spec", "jobTemplate", "spec", "template", "spec")
    yield from template_if_pod(path, value_at(job, ("template", "spec")), pods, counted, job=True)


def _jobset_object(obj: dict[str, Any]) -> Iterator[PodTemplate]:
    yield from _jobset(obj.get("spec"), ("spec",))


def _training_runtime(obj: dict[str, Any]) -> Iterator[PodTemplate]:
    """A (Cluster)TrainingRuntime: the JobSet template its TrainJobs start from."""
    yield from _jobset(value_at(obj.get("spec"), ("template", "spec")), ("spec", "template", "spec"))


def _ray_cluster_object(obj: dict[str, Any]) -> Iterator[PodTemplate]:
    yield from _ray_cluster(obj.get("spec"), ("spec",))


def _ray_job_object(obj: dict[str, Any]) -> Iterator[PodTemplate]:
    yield from _ray_job(obj.get("spec"), ("spec",))


def _ray_service(obj: dict[str, Any]) -> Iterator[PodTemplate]:
    yield from _ray_cluster(value_at(obj.get("spec"), ("rayClusterConfig",)), ("spec", "rayClusterConfig"))


def _ray_cron_job(obj: dict[str, Any]) -> Iterator[PodTemplate]:
    yield from _ray_job(value_at(obj.get("spec"), ("jobTemplate",)), ("spec", "jobTemplate"))


def _katib_experiment(obj: dict[str, Any]) -> Iterator[PodTemplate]:
    """A Katib Experiment: its trial template's pods, parallelTrialCount times (Katib's default 3 when unset;
    kubeflow/katib pkg/apis/controller/experiments/v1beta1/constants.go DefaultTrialParallelCount)."""
    spec = mapping(obj.get("spec"))
    trial = value_at(spec, ("trialTemplate", "trialSpec"))
    if not isinstance(trial, dict):
        return
    parallel = whole(spec.get("parallelTrialCount", 3))
    for template in templates_of(trial):
        moved = _moved(template, ("spec", "trialTemplate", "trialSpec"))
        pods = None if moved.pods is None else moved.pods * parallel
        yield replace(moved, pods=pods, counted=f"parallelTrialCount {parallel} × {moved.counted}")


Reader = Callable[[dict[str, Any]], Iterator[PodTemplate]]
"""The pod templates of one kind's object, with the pods its controller runs from each."""

BUILT_IN_READERS: dict[tuple[str, str], Reader] = {
    ("", "Pod"): _pod,
    ("", "ReplicationController"): _replicated,
    ("apps", "Deployment"): _replicated,
    ("apps", "ReplicaSet"): _replicated,
    ("apps", "StatefulSet"): _replicated,
    ("apps", "DaemonSet"): _daemon_set,
    ("batch", "Job"): _job,
    ("batch", "CronJob"): _cron_job,
}
"""The built-in workload kinds by (API group, kind); any other kind of a built-in group has no pod template."""

CUSTOM_READERS: dict[tuple[str, str], Reader] = {
    ("jobset.x-k8s.io", "JobSet"): _jobset_object,
    ("trainer.kubeflow.org", "TrainingRuntime"): _training_runtime,
    ("trainer.kubeflow.org", "ClusterTrainingRuntime"): _training_runtime,
    ("trainer.kubeflow.org", "TrainJob"): _train_job,
    ("ray.io", "RayCluster"): _ray_cluster_object,
    ("ray.io", "RayJob"): _ray_job_object,
    ("ray.io", "RayService"): _ray_service,
    ("ray.io", "RayCronJob"): _ray_cron_job,
    ("leaderworkerset.x-k8s.io", "LeaderWorkerSet"): leader_worker_set,
    ("serving.kserve.io", "InferenceService"): kserve,
    ("serving.kserve.io", "LLMInferenceService"): llm_inference,
    ("batch.volcano.sh", "Job"): _volcano,
    ("kubeflow.org", "Experiment"): _katib_experiment,
    ("workload.codeflare.dev", "AppWrapper"): _app_wrapper,
    ("mlops.seldon.io", "Server"): seldon_server,
    ("serving.kserve.io", "LLMInferenceServiceConfig"): _llm_inference_config,
}
"""Custom resources this module knows by (API group, kind); others are searched by shape."""

KIND_SUFFIX_READERS: dict[tuple[str, str], Reader] = {("kubeflow.org", "Job"): _kubeflow}
"""Readers of every kind of an API group that ends in a suffix: Training Operator v1's PyTorchJob, TFJob, MPIJob,
XGBoostJob, PaddleJob and JAXJob share their ``*ReplicaSpecs``."""


def _reader(group: str, kind: str) -> Reader | None:
    reader = CUSTOM_READERS.get((group, kind))
    if reader is not None:
        return reader
    return next((found for (of, suffix), found in KIND_SUFFIX_READERS.items() if of == group and kind.endswith(suffix)), None)


def templates_of(obj: dict[str, Any]) -> list[PodTemplate]:
    """Every pod template of ``obj`` (its kind's reader in the tables above), in a stable order."""
    kind = str(obj.get("kind"))
    group = group_of(obj)
    built_in = BUILT_IN_READERS.get((group, kind))
    if built_in is not None:
        return list(built_in(obj))
    if group in BUILT_IN_GROUPS:
        return []
    reader = _reader(group, kind)
    if reader is not None:
        return list(reader(obj))
    spec = obj.get("spec")
    return [
        PodTemplate(path, pod, 1, "", containers=listed_containers(pod, path), metadata_path=_sibling_metadata(path))
        for path, pod in _pod_specs_by_shape(("spec",), spec, 0)
    ]


def _sibling_metadata(path: FieldPath) -> FieldPath | None:
    return (*path[:-1], "metadata") if path and path[-1] == "spec" else None


def _pod_specs_by_shape(
    path: FieldPath, value: Any, depth: int, *, images: bool = True
) -> Iterator[tuple[FieldPath, dict[str, Any]]]:
    """Pod specs anywhere in an unknown custom resource: mappings whose ``containers`` are containers with images
    (``images=False``: any containers, for presets and overrides that may leave the image to another object)."""
    if depth > _SEARCH_DEPTH:
        return
    if isinstance(value, dict):
        items = value.get("containers")
        if (
            isinstance(items, list)
            and items
            and all(isinstance(c, dict) and (isinstance(c.get("image"), str) or not images) for c in items)
        ):
            yield path, value
            return
        for key, child in value.items():
            if key != "metadata" and isinstance(child, (dict, list)):
                yield from _pod_specs_by_shape((*path, str(key)), child, depth + 1, images=images)
    elif isinstance(value, list):
        for index, child in enumerate(value):
            if isinstance(child, (dict, list)):
                yield from _pod_specs_by_shape((*path, index), child, depth + 1, images=images)
