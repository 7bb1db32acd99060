"""The kustomization.yaml of one environment folder."""

from __future__ import annotations

import copy
from typing import Any

from mlgitops.render.metadata import common_labels
from mlgitops.spec.environment import Environment


def kustomization(environment: Environment, environment_name: str, files: list[str], namespace: str | None) -> dict[str, Any]:
    """A kustomize v5 root listing every file, with the namespace and `labels:` (not commonLabels).

    The objects already carry the namespace and labels, so kustomize's transformers change
    nothing: what ArgoCD or Flux applies is exactly what the files say. The root of
    cluster-scoped objects has no namespace.
    """
    root: dict[str, Any] = {"apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization"}
    if namespace is not None:
        root["namespace"] = namespace
    root["labels"] = [{"pairs": common_labels(environment, environment_name), "includeSelectors": False}]
    root["resources"] = sorted(files)
    return root


# The cluster-scoped kinds kustomize's built-in OpenAPI knows (kubectl 1.32's kustomize v5): its namespace
# transformer leaves these without metadata.namespace and namespaces every other kind, custom resources
# and the newer cluster-scoped APIs (DeviceClass, ValidatingAdmissionPolicy) included.
KUSTOMIZE_CLUSTER_SCOPED = frozenset(
    {
        ("v1", "ComponentStatus"),
        ("v1", "Namespace"),
        ("v1", "Node"),
        ("v1", "PersistentVolume"),
        ("admissionregistration.k8s.io/v1", "MutatingWebhookConfiguration"),
        ("admissionregistration.k8s.io/v1", "ValidatingWebhookConfiguration"),
        ("apiextensions.k8s.io/v1", "CustomResourceDefinition"),
        ("apiregistration.k8s.io/v1", "APIService"),
        ("certificates.k8s.io/v1", "CertificateSigningRequest"),
        ("networking.k8s.io/v1", "IngressClass"),
        ("node.k8s.io/v1", "RuntimeClass"),
        ("rbac.authorization.k8s.io/v1", "ClusterRole"),
        ("rbac.authorization.k8s.io/v1", "ClusterRoleBinding"),
        ("scheduling.k8s.io/v1", "PriorityClass"),
        ("storage.k8s.io/v1", "CSIDriver"),
        ("storage.k8s.io/v1", "CSINode"),
        ("storage.k8s.io/v1", "StorageClass"),
        ("storage.k8s.io/v1", "VolumeAttachment"),
    }
)


# Fields besides metadata.namespace that kustomize's namespace transformer sets (its built-in namespace
# field specs, as kubectl 1.32 applies them): (apiVersion, kind) → (path, create when missing).
_NAMESPACE_FIELDS: dict[tuple[str, str], tuple[tuple[str, ...], bool]] = {
    ("v1", "Namespace"): (("metadata", "name"), True),
    ("apiregistration.k8s.io/v1", "APIService"): (("spec", "service", "namespace"), True),
    ("apiextensions.k8s.io/v1", "CustomResourceDefinition"): (
        ("spec", "conversion", "webhook", "clientConfig", "service", "namespace"),
        False,
    ),
}


def built(obj: dict[str, Any], root: dict[str, Any]) -> dict[str, Any]:
    """``obj`` as `kustomize build` of ``root`` (a kustomization this module wrote) emits it.

    The root's `namespace:` on metadata.namespace of every kind kustomize namespaces (and on the
    few other fields its namespace transformer sets: a Namespace's name, an APIService's service,
    a CRD's conversion webhook service), and its `labels:` pairs on metadata.labels
    (``includeSelectors: false``: selectors and templates untouched). Rendered objects already
    carry both, so only extra manifests change. ``obj`` itself is not modified.
    """
    result = copy.deepcopy(obj)
    metadata = result.setdefault("metadata", {})
    namespace = root.get("namespace")
    kind = (str(result.get("apiVersion")), str(result.get("kind")))
    if namespace is not None:
        if kind not in KUSTOMIZE_CLUSTER_SCOPED:
            metadata["namespace"] = namespace
        if kind in _NAMESPACE_FIELDS:
            path, create = _NAMESPACE_FIELDS[kind]
            _set(result, path, namespace, create)
    labels = metadata.setdefault("labels", {})
    for entry in root.get("labels", []):
        labels.update(entry["pairs"])
    if not labels:
        del metadata["labels"]
    return result


def _set(obj: dict[str, Any], path: tuple[str, ...], value: str, create: bool) -> None:
    for key in path[:-1]:
        if not isinstance(obj.get(key), dict):
            if not create:
                return
            obj[key] = {}
        obj = obj[key]
    obj[path[-1]] = value
