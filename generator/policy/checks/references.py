"""Rules configmap-reference and serviceaccount-reference: what a pod names exists, or is declared to.

A pod whose ConfigMap (env configMapKeyRef, envFrom, a configMap volume) does not exist fails to
start (CreateContainerConfigError, or stays in ContainerCreating); one whose ServiceAccount does
not exist is never created (the ReplicaSet or Job reports 'serviceaccount not found').
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from mlgitops.kube.manifest import FieldPath, Manifest
from mlgitops.policy.checks.pods import all_containers, each_pod
from mlgitops.policy.checks.storage import _annotated, context_all
from mlgitops.policy.model import Policy, PolicyContext, Violation

Found = Iterator[tuple[Manifest, Violation]]
EXTERNAL_CONFIG_MAPS = "mlgitops.io/external-configmaps"
EXTERNAL_SERVICE_ACCOUNTS = "mlgitops.io/external-serviceaccounts"
# Every namespace has these: the default ServiceAccount, and the CA bundle ConfigMap the API server publishes.
ALWAYS_THERE = {"ServiceAccount": {"default"}, "ConfigMap": {"kube-root-ca.crt"}}


def _names(everything: list[Manifest], kind: str) -> set[tuple[str, str]]:
    return {(m.namespace, m.ref.name) for m in everything if m.ref.kind == kind}


def _config_map_uses(
    pod: dict[str, Any], containers: list[tuple[FieldPath, dict[str, Any]]], pod_path: FieldPath
) -> Iterator[tuple[FieldPath, str]]:
    for index, volume in enumerate(pod.get("volumes") or []):
        if isinstance(volume, dict) and isinstance(volume.get("configMap"), dict):
            yield (*pod_path, "volumes", index, "configMap", "name"), str(volume["configMap"].get("name"))
    for path, container in containers:
        for index, variable in enumerate(container.get("env") or []):
            reference = ((variable or {}).get("valueFrom") or {}).get("configMapKeyRef") if isinstance(variable, dict) else None
            if isinstance(reference, dict) and not reference.get("optional"):
                yield (*path, "env", index, "valueFrom", "configMapKeyRef", "name"), str(reference.get("name"))
        for index, source in enumerate(container.get("envFrom") or []):
            reference = (source or {}).get("configMapRef") if isinstance(source, dict) else None
            if isinstance(reference, dict) and not reference.get("optional"):
                yield (*path, "envFrom", index, "configMapRef", "name"), str(reference.get("name"))


def configmap_reference(manifests: list[Manifest], policy: Policy, context: PolicyContext) -> Found:
    produced = _names(context_all(manifests, context), "ConfigMap")
    for manifest, pod_path, pod in each_pod(manifests):
        declared = _annotated(manifest, pod_path, EXTERNAL_CONFIG_MAPS) | ALWAYS_THERE["ConfigMap"]
        for path, name in _config_map_uses(pod, all_containers(manifest, pod_path, pod), pod_path):
            if (manifest.namespace, name) not in produced and name not in declared:
                yield (
                    manifest,
                    Violation(
                        f"ConfigMap {name!r} is not in this set of manifests and not declared as existing "
                        f"({EXTERNAL_CONFIG_MAPS}); the pod will not start without it",
                        path,
                    ),
                )


def serviceaccount_reference(manifests: list[Manifest], policy: Policy, context: PolicyContext) -> Found:
    produced = _names(context_all(manifests, context), "ServiceAccount")
    for manifest, pod_path, pod in each_pod(manifests):
        name = pod.get("serviceAccountName")
        if not isinstance(name, str) or not name:
            continue
        declared = _annotated(manifest, pod_path, EXTERNAL_SERVICE_ACCOUNTS) | ALWAYS_THERE["ServiceAccount"]
        if (manifest.namespace, name) not in produced and name not in declared:
            yield (
                manifest,
                Violation(
                    f"ServiceAccount {name!r} is not in this set of manifests and not declared as existing "
                    f"({EXTERNAL_SERVICE_ACCOUNTS}); no pod is created without it",
                    (*pod_path, "serviceAccountName"),
                ),
            )
