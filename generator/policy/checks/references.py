"""Rules secret-reference, configmap-reference, serviceaccount-reference and pvc-reference: one check.

What a pod names must exist: be produced by an object of the run, or be declared in an annotation as
created outside git. A pod whose Secret or ConfigMap (an env ``*KeyRef``, ``envFrom``, a volume) does
not exist fails to start (CreateContainerConfigError, or it stays in ContainerCreating; a missing
image pull Secret is an ImagePullBackOff); one whose ServiceAccount does not exist is never created
(the ReplicaSet or Job reports 'serviceaccount not found'); one whose PersistentVolumeClaim does not
exist stays Pending. Each rule is one ``Reference``: the kind, where pods name it, what produces it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from mlgitops.kube.manifest import FieldPath, Manifest
from mlgitops.policy.checks import check
from mlgitops.policy.checks.pods import all_containers, each_pod
from mlgitops.policy.checks.storage import _annotated, claim_volumes, context_all
from mlgitops.policy.model import Policy, PolicyContext, Violation

Found = Iterator[tuple[Manifest, Violation]]
Containers = list[tuple[FieldPath, dict[str, Any]]]
Uses = Iterator[tuple[FieldPath, str]]
EXTERNAL_SECRETS = "mlgitops.io/external-secrets"
EXTERNAL_CONFIG_MAPS = "mlgitops.io/external-configmaps"
EXTERNAL_SERVICE_ACCOUNTS = "mlgitops.io/external-serviceaccounts"
EXTERNAL_CLAIMS = "mlgitops.io/external-claims"


@dataclass(frozen=True)
class Reference:
    """What one reference rule looks for.

    ``uses(pod, containers, pod_path)`` yields (field path in the object, name) for each name the pod
    refers to; ``produced(manifests)`` the (namespace, name) pairs the run creates; ``missing`` is the
    finding's message, ``{name}`` standing for the quoted name.
    """

    kind: str
    annotation: str
    """The annotation (on the object or its pod template) listing names created outside git, comma-separated."""
    uses: Callable[[dict[str, Any], Containers, FieldPath], Uses]
    produced: Callable[[list[Manifest]], set[tuple[str, str]]]
    missing: str
    always_there: frozenset[str] = frozenset()
    """Names every namespace has (the default ServiceAccount, the API server's CA bundle ConfigMap)."""


def _of_kind(kind: str) -> Callable[[list[Manifest]], set[tuple[str, str]]]:
    return lambda everything: {(m.namespace, m.ref.name) for m in everything if m.ref.kind == kind}


def _produced_claims(everything: list[Manifest]) -> set[tuple[str, str]]:
    """Claims of the set, and those a Fluid Dataset's runtime creates under the Dataset's name in its namespace
    (fluid-cloudnative/fluid ``CreatePersistentVolumeClaimForRuntime``, pkg/utils/dataset/volume/create.go)."""
    return {
        (m.namespace, m.ref.name)
        for m in everything
        if m.ref.kind == "PersistentVolumeClaim" or (m.ref.kind == "Dataset" and m.ref.api_version.startswith("data.fluid.io/"))
    }


def _produced_secrets(everything: list[Manifest]) -> set[tuple[str, str]]:
    produced = set()
    for manifest in everything:
        kind = manifest.ref.kind
        if kind in ("Secret", "SealedSecret"):
            produced.add((manifest.namespace, manifest.ref.name))
        elif kind == "ExternalSecret":
            target = ((manifest.obj.get("spec") or {}).get("target") or {}).get("name") or manifest.ref.name
            produced.add((manifest.namespace, str(target)))
    return produced


def _key_refs(containers: Containers, key_ref: str, source_ref: str, *, optional_counts: bool) -> Uses:
    """Names in env ``valueFrom.<key_ref>`` and ``envFrom[].<source_ref>`` (optional ones skipped unless ``optional_counts``)."""
    for path, container in containers:
        for index, variable in enumerate(container.get("env") or []):
            reference = ((variable or {}).get("valueFrom") or {}).get(key_ref) if isinstance(variable, dict) else None
            if isinstance(reference, dict) and (optional_counts or not reference.get("optional")):
                yield (*path, "env", index, "valueFrom", key_ref, "name"), str(reference.get("name"))
        for index, source in enumerate(container.get("envFrom") or []):
            reference = (source or {}).get(source_ref) if isinstance(source, dict) else None
            if isinstance(reference, dict) and (optional_counts or not reference.get("optional")):
                yield (*path, "envFrom", index, source_ref, "name"), str(reference.get("name"))


def _secret_uses(pod: dict[str, Any], containers: Containers, pod_path: FieldPath) -> Uses:
    for index, volume in enumerate(pod.get("volumes") or []):
        if isinstance(volume, dict) and isinstance(volume.get("secret"), dict):
            yield (*pod_path, "volumes", index, "secret", "secretName"), str(volume["secret"].get("secretName"))
    for index, pull in enumerate(pod.get("imagePullSecrets") or []):
        if isinstance(pull, dict) and pull.get("name"):
            yield (*pod_path, "imagePullSecrets", index, "name"), str(pull["name"])
    yield from _key_refs(containers, "secretKeyRef", "secretRef", optional_counts=True)


def _config_map_uses(pod: dict[str, Any], containers: Containers, pod_path: FieldPath) -> Uses:
    for index, volume in enumerate(pod.get("volumes") or []):
        if isinstance(volume, dict) and isinstance(volume.get("configMap"), dict):
            yield (*pod_path, "volumes", index, "configMap", "name"), str(volume["configMap"].get("name"))
    yield from _key_refs(containers, "configMapKeyRef", "configMapRef", optional_counts=False)


def _service_account_uses(pod: dict[str, Any], containers: Containers, pod_path: FieldPath) -> Uses:
    name = pod.get("serviceAccountName")
    if isinstance(name, str) and name:
        yield (*pod_path, "serviceAccountName"), name


def _claim_uses(pod: dict[str, Any], containers: Containers, pod_path: FieldPath) -> Uses:
    for index, _, claim in claim_volumes(pod):
        yield (*pod_path, "volumes", index, "persistentVolumeClaim", "claimName"), claim


REFERENCES = {
    "secret-reference": Reference(
        "Secret",
        EXTERNAL_SECRETS,
        _secret_uses,
        _produced_secrets,
        "Secret {name} is not produced by an ExternalSecret or SealedSecret of this set; add one, or declare it in the "
        f"{EXTERNAL_SECRETS} annotation if it is created elsewhere",
    ),
    "configmap-reference": Reference(
        "ConfigMap",
        EXTERNAL_CONFIG_MAPS,
        _config_map_uses,
        _of_kind("ConfigMap"),
        f"ConfigMap {{name}} is not in this set of manifests and not declared as existing ({EXTERNAL_CONFIG_MAPS}); the pod "
        "will not start without it",
        frozenset({"kube-root-ca.crt"}),
    ),
    "serviceaccount-reference": Reference(
        "ServiceAccount",
        EXTERNAL_SERVICE_ACCOUNTS,
        _service_account_uses,
        _of_kind("ServiceAccount"),
        f"ServiceAccount {{name}} is not in this set of manifests and not declared as existing ({EXTERNAL_SERVICE_ACCOUNTS}); "
        "no pod is created without it",
        frozenset({"default"}),
    ),
    "pvc-reference": Reference(
        "PersistentVolumeClaim",
        EXTERNAL_CLAIMS,
        _claim_uses,
        _produced_claims,
        "claim {name} is not a PersistentVolumeClaim of this set; add it, or declare it in the "
        f"{EXTERNAL_CLAIMS} annotation if it exists outside git",
    ),
}


@check(*REFERENCES)
def referenced_object_exists(manifests: list[Manifest], policy: Policy, context: PolicyContext) -> Found:
    """Each name a pod refers to is produced by the run, declared in the rule's annotation, or always there."""
    reference = REFERENCES[policy.check or policy.id]
    produced = reference.produced(context_all(manifests, context))
    for manifest, pod_path, pod in each_pod(manifests):
        declared = _annotated(manifest, pod_path, reference.annotation) | reference.always_there
        for path, name in reference.uses(pod, all_containers(manifest, pod_path, pod), pod_path):
            if (manifest.namespace, name) not in produced and name not in declared:
                yield manifest, Violation(reference.missing.format(name=repr(name)), path)
