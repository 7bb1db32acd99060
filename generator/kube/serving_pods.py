"""Pod templates of the serving custom resources: KServe InferenceService and LLMInferenceService, LeaderWorkerSet,
Seldon Core v2 Server. Readers for ``kube/pod_kinds.py``'s tables (one per kind)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from mlgitops.kube.pod_shapes import (
    KSERVE_CONTAINER_KEYS,
    Container,
    FieldPath,
    PodTemplate,
    listed_containers,
    mapping,
    replicas_of,
    template_if_pod,
    value_at,
    whole,
)


def kserve(obj: dict[str, Any]) -> Iterator[PodTemplate]:
    for component, keys in KSERVE_CONTAINER_KEYS.items():
        pod = value_at(obj, ("spec", component))
        if not isinstance(pod, dict):
            continue
        path: FieldPath = ("spec", component)
        low = whole(pod.get("minReplicas"))
        high = pod.get("maxReplicas")
        pods, counted = (
            (whole(high), f"maxReplicas {high}") if isinstance(high, int) and high > low else (low, f"minReplicas {low}")
        )
        extra = tuple(Container((*path, key), pod[key]) for key in keys if isinstance(pod.get(key), dict))
        yield PodTemplate(path, pod, pods, counted, containers=(*extra, *listed_containers(pod, path)), metadata_path=path)


def llm_inference(obj: dict[str, Any]) -> Iterator[PodTemplate]:
    spec = mapping(obj.get("spec"))
    for prefix in ((), ("prefill",)):
        part = value_at(spec, prefix)
        if not isinstance(part, dict):
            continue
        replicas, counted = replicas_of(part)
        for key in ("template", "worker"):
            path = ("spec", *prefix, key)
            yield from template_if_pod(path, part.get(key), replicas, counted, metadata_path=None)


def leader_worker_set(obj: dict[str, Any]) -> Iterator[PodTemplate]:
    spec = mapping(obj.get("spec"))
    replicas = whole(spec.get("replicas"))
    lws = mapping(spec.get("leaderWorkerTemplate"))
    size = whole(lws.get("size"))
    base: FieldPath = ("spec", "leaderWorkerTemplate")
    has_leader = isinstance(value_at(lws, ("leaderTemplate", "spec")), dict)
    yield from template_if_pod(
        (*base, "leaderTemplate", "spec"), value_at(lws, ("leaderTemplate", "spec")), replicas, f"replicas {replicas}"
    )
    workers = size - 1 if has_leader else size
    yield from template_if_pod(
        (*base, "workerTemplate", "spec"),
        value_at(lws, ("workerTemplate", "spec")),
        replicas * max(workers, 0),
        f"replicas {replicas} × (size {size}{' - 1 leader' if has_leader else ''})",
    )


def seldon_server(obj: dict[str, Any]) -> Iterator[PodTemplate]:
    """A Seldon Core v2 Server: ``spec.podSpec`` only overrides the pod of its ServerConfig (SeldonIO/seldon-core
    operator/apis/mlops/v1alpha1/server_types.go, "PodSpec overrides"), so it is judged only for what it sets."""
    spec = mapping(obj.get("spec"))
    replicas, counted = replicas_of(spec)
    yield from template_if_pod(("spec", "podSpec"), spec.get("podSpec"), replicas, counted, partial=True, metadata_path=None)


__all__ = ["kserve", "leader_worker_set", "llm_inference", "seldon_server"]
