"""Storage rules: no data on emptyDir, ReadWriteOnce claims used by one pod only, mounts of declared volumes."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from mlgitops.kube.manifest import FieldPath, Manifest
from mlgitops.kube.pods import PodTemplate, VolumeClaimTemplate, rollout_surge, volume_claim_templates, whole
from mlgitops.kube.volumes import SHM_PATH, attaches_to_one_node, repeated_paths
from mlgitops.policy.checks import check
from mlgitops.policy.checks.pods import all_containers, autoscalers, each_pod
from mlgitops.policy.message import listed
from mlgitops.policy.model import Policy, PolicyContext, Violation
from mlgitops.policy.severity import Severity
from mlgitops.policy.targets import containers, pod_metadata, templates

Found = Iterator[tuple[Manifest, Violation]]
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


@check("emptydir-data")
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
                if (memory and mount_path == SHM_PATH) or not pattern.search(mount_path):
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
                            severity=Severity.WARNING,
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
    return {(m.namespace, m.ref.name): m.obj for m in manifests if m.obj.get("kind") == "PersistentVolumeClaim"}


def claim_volumes(pod: dict[str, Any]) -> Iterator[tuple[int, dict[str, Any], str]]:
    for index, volume in enumerate(pod.get("volumes") or []):
        if isinstance(volume, dict) and isinstance(volume.get("persistentVolumeClaim"), dict):
            yield index, volume, str(volume["persistentVolumeClaim"].get("claimName", ""))


def context_all(manifests: list[Manifest], context: PolicyContext) -> list[Manifest]:
    """Cross-object checks look at every manifest of the run, not only those their policy matched."""
    return list(context.all_manifests) if context.all_manifests else manifests


def _hpa_bound(manifest: Manifest, hpas: dict[tuple[str, str, str], dict[str, Any]]) -> int | None:
    hpa = hpas.get((manifest.namespace, manifest.ref.kind, manifest.ref.name))
    return whole(hpa.get("maxReplicas")) if hpa is not None else None


def _at_once(manifest: Manifest, template: PodTemplate, hpas: dict[tuple[str, str, str], dict[str, Any]]) -> tuple[int, str, int]:
    """Most pods of ``template`` that run at once, why (for messages), and how many of them a rollout adds.

    An autoscaler's maxReplicas replaces spec.replicas; one pod per node (a DaemonSet) counts
    as two; a Deployment's RollingUpdate adds its surge pods.
    """
    bound = _hpa_bound(manifest, hpas)
    pods, why = (bound, f"an HPA scales it to {bound}") if bound is not None else (template.pods, template.counted)
    if pods is None:
        return 2, "one pod per node", 0
    surge = rollout_surge({**manifest.obj, "spec": {**(manifest.obj.get("spec") or {}), "replicas": pods}})
    if surge:
        return pods + surge, f"{why}, plus {surge} more during a RollingUpdate", surge
    return pods, why, 0


@check("pvc-rwo-shared")
def pvc_rwo_shared(manifests: list[Manifest], policy: Policy, context: PolicyContext) -> Found:
    """A ReadWriteOnce claim attaches to one node: more than one pod using it may land elsewhere and hang on Multi-Attach."""
    everything = context_all(manifests, context)
    claims = _claims(everything)
    hpas = autoscalers(everything)
    users: dict[tuple[str, str], list[tuple[Manifest, FieldPath]]] = {}
    for manifest in manifests:
        created = volume_claim_templates(manifest.obj)
        per_claim: dict[str, tuple[int, int, list[str], FieldPath]] = {}
        for template in templates(manifest):
            pods, why, surge = _at_once(manifest, template, hpas)
            for volume_name, claim, where in _template_claims(template, created, claims, manifest.namespace):
                total, surged, reasons, first = per_claim.get(claim, (0, 0, [], where))
                per_claim[claim] = (total + pods, surged + surge, [*reasons, why], first)
                if not (created.get(volume_name) and not created[volume_name].per_pod):
                    users.setdefault((manifest.namespace, claim), []).append((manifest, where))
        for claim, (total, surged, reasons, where) in per_claim.items():
            if total - surged == 1 and surged:
                fix = "set strategy: Recreate (the old pod stops first) or use ReadWriteMany"
            else:
                fix = "use ReadWriteMany or one pod"
            if total > 1:
                yield (
                    manifest,
                    Violation(
                        f"ReadWriteOnce claim {claim!r} is mounted by up to {total} pods ({'; '.join(reasons)}); pods on "
                        f"other nodes hang on Multi-Attach errors: {fix}",
                        where,
                    ),
                )
    for (_, claim), mounts in sorted(users.items()):
        owners = {(m.ref.kind, m.ref.name) for m, _ in mounts}
        if len(owners) > 1:
            names = listed([f"{kind} {name}" for kind, name in sorted(owners)])
            for manifest, where in mounts[1:]:
                if (manifest.ref.kind, manifest.ref.name) == (mounts[0][0].ref.kind, mounts[0][0].ref.name):
                    continue
                yield (
                    manifest,
                    Violation(
                        f"ReadWriteOnce claim {claim!r} is mounted by several workloads ({names}); only one node can attach it",
                        where,
                    ),
                )


def _template_claims(
    template: PodTemplate,
    created: dict[str, VolumeClaimTemplate],
    claims: dict[tuple[str, str], dict[str, Any]],
    namespace: str,
) -> Iterator[tuple[str, str, FieldPath]]:
    """(volume, claim, where) for each ReadWriteOnce claim the template's pods share."""
    for index, volume, claim in claim_volumes(template.spec):
        modes = ((claims.get((namespace, claim)) or {}).get("spec") or {}).get("accessModes")
        if isinstance(modes, list) and attaches_to_one_node(str(mode) for mode in modes):
            yield str(volume.get("name")), claim, (*template.path, "volumes", index, "persistentVolumeClaim", "claimName")
    mounted = {
        str(mount.get("name")): (container, index)
        for container in template.containers
        for index, mount in enumerate(container.spec.get("volumeMounts") or [])
        if isinstance(mount, dict)
    }
    for name, claim_template in created.items():
        if not claim_template.per_pod and name in mounted and attaches_to_one_node(claim_template.access_modes):
            container, index = mounted[name]
            yield name, name, (*container.path, "volumeMounts", index, "name")


def _mounts(container: dict[str, Any], field_name: str) -> Iterator[tuple[int, dict[str, Any]]]:
    for index, mount in enumerate(container.get(field_name) or []):
        if isinstance(mount, dict):
            yield index, mount


@check("volume-mounts")
def volume_mounts(manifests: list[Manifest], policy: Policy, context: PolicyContext) -> Found:
    """Mounts of volumes the pod does not declare, and two mounts at one path: the API server refuses both.

    Volumes a controller adds (a StatefulSet's volumeClaimTemplates, a JobSet's
    volumeClaimPolicies) count as declared; a TrainJob's overrides get theirs from the runtime.
    """
    for manifest in manifests:
        provided = set(volume_claim_templates(manifest.obj))
        for template in templates(manifest):
            declared = provided | {v.get("name") for v in template.spec.get("volumes") or [] if isinstance(v, dict)}
            for container in template.containers:
                if not template.partial:
                    for field_name in ("volumeMounts", "volumeDevices"):
                        for index, mount in _mounts(container.spec, field_name):
                            if mount.get("name") not in declared:
                                yield (
                                    manifest,
                                    Violation(
                                        f"{container.label} mounts volume {mount.get('name')!r}, which the pod does not "
                                        "declare in spec.volumes: the API server rejects the pod",
                                        (*container.path, field_name, index, "name"),
                                    ),
                                )
                paths = _mount_paths(container.spec)
                for index, first in repeated_paths(paths).items():
                    yield (
                        manifest,
                        Violation(
                            f"{container.label} mounts two volumes at {paths[index]} (the first is mount {first}): "
                            "the API server rejects the pod",
                            (*container.path, "volumeMounts", index, "mountPath"),
                        ),
                    )


def _mount_paths(container: dict[str, Any]) -> list[object]:
    """The mountPath of each of the container's volumeMounts, in order (None where a mount is not a mapping)."""
    mounts = container.get("volumeMounts")
    if not isinstance(mounts, list):
        return []
    return [mount.get("mountPath") if isinstance(mount, dict) else None for mount in mounts]
