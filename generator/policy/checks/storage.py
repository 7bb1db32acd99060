"""Storage rules: no data on emptyDir, claims that exist, ReadWriteOnce claims used by one pod only."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from generator.kube.footprint import count
from generator.kube.manifest import FieldPath, Manifest
from generator.policy.checks.pods import all_containers, autoscalers, each_pod
from generator.policy.model import Policy, PolicyContext, Violation
from generator.policy.targets import containers, pod_metadata

Found = Iterator[tuple[Manifest, Violation]]
EXTERNAL_CLAIMS = "mlgitops.io/external-claims"
SCRATCH_VOLUMES = "mlgitops.io/scratch-volumes"
DEFAULT_DATA_PATHS = [
    "data",
    "dataset",
    "datasets",
    "model",
    "models",
    "checkpoint",
    "checkpoints",
    "ckpt",
    "output",
    "outputs",
    "artifact",
    "artifacts",
]


def _listed(annotations: Any, key: str) -> set[str]:
    if not isinstance(annotations, dict) or not isinstance(annotations.get(key), str):
        return set()
    return {part.strip() for part in annotations[key].split(",") if part.strip()}


def _annotated(manifest: Manifest, pod_path: FieldPath, key: str) -> set[str]:
    metadata = manifest.obj.get("metadata")
    own = metadata.get("annotations") if isinstance(metadata, dict) else None
    return _listed(own, key) | _listed(pod_metadata(manifest, pod_path).get("annotations"), key)


def _words(words: list[str]) -> re.Pattern[str]:
    return re.compile(r"(^|[/_.-])(" + "|".join(map(re.escape, words)) + r")([/_.-]|$)", re.IGNORECASE)


def emptydir_data(manifests: list[Manifest], policy: Policy, context: PolicyContext) -> Found:
    words = policy.params.get("pathWords", DEFAULT_DATA_PATHS)
    pattern = _words(words)
    cache_words = _words(policy.params.get("scratchWords", ["cache", "caches", "tmp", "temp", "scratch"]))
    for manifest, pod_path, pod in each_pod(manifests):
        empty_dirs = {
            v.get("name"): v["emptyDir"]
            for v in pod.get("volumes") or []
            if isinstance(v, dict) and isinstance(v.get("emptyDir"), dict)
        }
        if not empty_dirs:
            continue
        scratch = _annotated(manifest, pod_path, SCRATCH_VOLUMES)
        # A scratch volume an init container fills (a model download) is refilled on every start: a cache.
        refilled = {
            mount.get("name")
            for _, init in containers(manifest, pod_path, pod, init=True)
            if init.get("restartPolicy") != "Always"
            for mount in init.get("volumeMounts") or []
            if isinstance(mount, dict) and not mount.get("readOnly")
        }
        for path, container in all_containers(manifest, pod_path, pod):
            for index, mount in enumerate(container.get("volumeMounts") or []):
                if not isinstance(mount, dict) or mount.get("name") not in empty_dirs:
                    continue
                mount_path = str(mount.get("mountPath", ""))
                memory = empty_dirs[mount.get("name")].get("medium") == "Memory"
                if (memory and mount_path == "/dev/shm") or not pattern.search(mount_path):
                    continue
                if mount.get("name") in scratch and (cache_words.search(mount_path) or mount.get("name") in refilled):
                    continue
                if mount.get("name") in scratch:
                    # Declared scratch, yet mounted where checkpoints or models usually go: a warning, not a veto.
                    yield (
                        manifest,
                        Violation(
                            f"scratch volume {mount.get('name')!r} is mounted at {mount_path}, a path for data, models or "
                            "checkpoints; whatever is written there is lost with the pod",
                            (*path, "volumeMounts", index, "mountPath"),
                            severity="warning",
                        ),
                    )
                else:
                    yield (
                        manifest,
                        Violation(
                            f"emptyDir volume {mount.get('name')!r} is mounted at {mount_path}, where data lives; it is "
                            "deleted with the pod: use a PersistentVolumeClaim",
                            (*path, "volumeMounts", index, "mountPath"),
                        ),
                    )


def _claims(manifests: list[Manifest]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(m.ref.namespace, m.ref.name): m.obj for m in manifests if m.obj.get("kind") == "PersistentVolumeClaim"}


def _claim_volumes(pod: dict[str, Any]) -> Iterator[tuple[int, dict[str, Any], str]]:
    for index, volume in enumerate(pod.get("volumes") or []):
        if isinstance(volume, dict) and isinstance(volume.get("persistentVolumeClaim"), dict):
            yield index, volume, str(volume["persistentVolumeClaim"].get("claimName", ""))


def pvc_reference(manifests: list[Manifest], policy: Policy, context: PolicyContext) -> Found:
    claims = _claims(context_all(manifests, context))
    for manifest, pod_path, pod in each_pod(manifests):
        external = _annotated(manifest, pod_path, EXTERNAL_CLAIMS)
        for index, _, claim in _claim_volumes(pod):
            if (manifest.ref.namespace, claim) not in claims and claim not in external:
                yield (
                    manifest,
                    Violation(
                        f"claim {claim!r} is not a PersistentVolumeClaim of this set; add it, or declare it in the "
                        f"{EXTERNAL_CLAIMS} annotation if it exists outside git",
                        (*pod_path, "volumes", index, "persistentVolumeClaim", "claimName"),
                    ),
                )


def context_all(manifests: list[Manifest], context: PolicyContext) -> list[Manifest]:
    """Cross-object checks look at every manifest of the run, not only those their policy matched."""
    return list(context.all_manifests) if context.all_manifests else manifests


def _pods_of(manifest: Manifest, hpas: dict[tuple[str, str, str], dict[str, Any]]) -> tuple[int, str]:
    """How many pods may run the object's template at once, and why (for the message)."""
    obj = manifest.obj
    kind = obj.get("kind")
    spec = obj.get("spec") or {}
    if kind in ("Deployment", "StatefulSet", "ReplicaSet"):
        hpa = hpas.get((manifest.ref.namespace, str(kind), manifest.ref.name))
        if hpa is not None:
            return count(hpa.get("maxReplicas")), "an HPA scales it"
        return count(spec.get("replicas")), "replicas"
    if kind == "Job":
        return count(spec.get("parallelism", 1)), "parallelism"
    if kind == "PyTorchJob":
        total = sum(count((r or {}).get("replicas", 1)) for r in (spec.get("pytorchReplicaSpecs") or {}).values())
        return total, "replicas"
    if kind == "InferenceService":
        return count((spec.get("predictor") or {}).get("maxReplicas")), "maxReplicas"
    return 1, ""


def pvc_rwo_shared(manifests: list[Manifest], policy: Policy, context: PolicyContext) -> Found:
    everything = context_all(manifests, context)
    claims = _claims(everything)
    hpas = autoscalers(everything)
    users: dict[tuple[str, str], list[tuple[Manifest, FieldPath]]] = {}
    for manifest, pod_path, pod in each_pod(manifests):
        for index, _, claim in _claim_volumes(pod):
            key = (manifest.ref.namespace, claim)
            pvc = claims.get(key)
            modes = set(((pvc or {}).get("spec") or {}).get("accessModes") or [])
            if not modes or not modes <= {"ReadWriteOnce", "ReadWriteOncePod"}:
                continue
            where = (*pod_path, "volumes", index, "persistentVolumeClaim", "claimName")
            count, why = _pods_of(manifest, hpas)
            if count > 1:
                yield (
                    manifest,
                    Violation(
                        f"ReadWriteOnce claim {claim!r} is mounted by up to {count} pods ({why}); pods on other nodes "
                        "fail with Multi-Attach errors: use ReadWriteMany or one pod",
                        where,
                    ),
                )
            users.setdefault(key, []).append((manifest, where))
    for (_, claim), mounts in sorted(users.items()):
        owners = {(m.ref.kind, m.ref.name) for m, _ in mounts}
        if len(owners) > 1:
            for manifest, where in mounts[1:]:
                names = ", ".join(f"{kind} {name}" for kind, name in sorted(owners))
                yield (
                    manifest,
                    Violation(
                        f"ReadWriteOnce claim {claim!r} is mounted by several workloads ({names}); only one node can attach it",
                        where,
                    ),
                )


def _mounts(container: dict[str, Any], field_name: str) -> Iterator[tuple[int, dict[str, Any]]]:
    for index, mount in enumerate(container.get(field_name) or []):
        if isinstance(mount, dict):
            yield index, mount


def volume_mounts(manifests: list[Manifest], policy: Policy, context: PolicyContext) -> Found:
    """Mounts of volumes the pod does not declare, and two mounts at one path: the API server refuses both."""
    for manifest, pod_path, pod in each_pod(manifests):
        declared = {volume.get("name") for volume in pod.get("volumes") or [] if isinstance(volume, dict)}
        for path, container in all_containers(manifest, pod_path, pod):
            name = container.get("name")
            for field_name in ("volumeMounts", "volumeDevices"):
                for index, mount in _mounts(container, field_name):
                    if mount.get("name") not in declared:
                        yield (
                            manifest,
                            Violation(
                                f"container {name!r} mounts volume {mount.get('name')!r}, which the pod does not declare "
                                "in spec.volumes: the API server rejects the pod",
                                (*path, field_name, index, "name"),
                            ),
                        )
            first_at: dict[str, int] = {}
            for index, mount in _mounts(container, "volumeMounts"):
                where = mount.get("mountPath")
                if isinstance(where, str) and first_at.setdefault(where, index) != index:
                    yield (
                        manifest,
                        Violation(
                            f"container {name!r} mounts two volumes at {where} (the first is mount {first_at[where]}): "
                            "the API server rejects the pod",
                            (*path, "volumeMounts", index, "mountPath"),
                        ),
                    )
