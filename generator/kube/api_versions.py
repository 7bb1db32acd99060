"""Which built-in API versions the API server serves, deprecates or no longer serves at a Kubernetes version.

Two facts, used by lint's ``api-version`` rule (and by the ``schema`` rule, which leaves these objects to it):

- ``LIFECYCLE``: every built-in API version of an object kind that Kubernetes deprecated or removed, with the
  release that deprecated it (from then on the API server answers each request with a deprecation warning) and
  the release that stopped serving it. SOURCE: kubernetes/api ``<group>/<version>/zz_generated.prerelease-lifecycle.go``
  (``APILifecycleDeprecated``, ``APILifecycleRemoved``; the API server stops serving a version at its removal
  release: kubernetes/apiserver pkg/server/deleted_kinds.go), read at commit 10b39a39bcee (and, for versions whose
  files were deleted since, autoscaling/v2beta1 and v2beta2 at d8ea27e9498a^, flowcontrol/v1alpha1 at c1b160a6d5ce^,
  networking/v1alpha1 at 39d7731c13a9^, coordination/v1alpha1 at fac8edb567b9^, policy/v1beta1 PodSecurityPolicy at
  5a75c6e751ef^); the same dates as the Kubernetes deprecated API migration guide
  (kubernetes.io/docs/reference/using-api/deprecation-guide). Request-only kinds (reviews, Scale, Eviction) are left out.
- ``served_api_versions``: the apiVersions each built-in kind is served at in a Kubernetes version, from the
  ``x-kubernetes-group-version-kind`` of the OpenAPI documents kubernetes-validate ships for that version.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

Release = tuple[int, int]


@dataclass(frozen=True)
class Lifecycle:
    """When Kubernetes deprecated, and then stopped serving, one built-in API version of a kind."""

    deprecated: Release
    removed: Release


def _release(text: str) -> Release:
    major, minor = text.split(".")
    return int(major), int(minor)


def _api(api_version: str, kinds: tuple[str, ...], *, deprecated: str, removed: str) -> dict[tuple[str, str], Lifecycle]:
    return {(api_version, kind): Lifecycle(_release(deprecated), _release(removed)) for kind in kinds}


LIFECYCLE: dict[tuple[str, str], Lifecycle] = {
    key: lifecycle
    for table in (
        _api("apps/v1beta1", ("ControllerRevision", "Deployment", "StatefulSet"), deprecated="1.8", removed="1.16"),
        _api(
            "apps/v1beta2",
            ("ControllerRevision", "DaemonSet", "Deployment", "ReplicaSet", "StatefulSet"),
            deprecated="1.9",
            removed="1.16",
        ),
        _api("extensions/v1beta1", ("DaemonSet", "Deployment", "ReplicaSet"), deprecated="1.8", removed="1.16"),
        _api("extensions/v1beta1", ("NetworkPolicy",), deprecated="1.9", removed="1.16"),
        _api(
            "flowcontrol.apiserver.k8s.io/v1alpha1",
            ("FlowSchema", "PriorityLevelConfiguration"),
            deprecated="1.20",
            removed="1.21",
        ),
        _api(
            "admissionregistration.k8s.io/v1beta1",
            ("MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"),
            deprecated="1.16",
            removed="1.22",
        ),
        _api("certificates.k8s.io/v1beta1", ("CertificateSigningRequest",), deprecated="1.19", removed="1.22"),
        _api("coordination.k8s.io/v1beta1", ("Lease",), deprecated="1.19", removed="1.22"),
        _api("extensions/v1beta1", ("Ingress",), deprecated="1.14", removed="1.22"),
        _api("networking.k8s.io/v1beta1", ("Ingress", "IngressClass"), deprecated="1.19", removed="1.22"),
        _api(
            "rbac.authorization.k8s.io/v1beta1",
            ("ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding"),
            deprecated="1.17",
            removed="1.22",
        ),
        _api("scheduling.k8s.io/v1beta1", ("PriorityClass",), deprecated="1.14", removed="1.22"),
        _api("storage.k8s.io/v1beta1", ("CSIDriver", "StorageClass", "VolumeAttachment"), deprecated="1.19", removed="1.22"),
        _api("storage.k8s.io/v1beta1", ("CSINode",), deprecated="1.17", removed="1.22"),
        _api("storage.k8s.io/v1alpha1", ("CSIStorageCapacity",), deprecated="1.21", removed="1.24"),
        _api("storage.k8s.io/v1alpha1", ("VolumeAttachment",), deprecated="1.21", removed="1.24"),
        _api("autoscaling/v2beta1", ("HorizontalPodAutoscaler",), deprecated="1.22", removed="1.25"),
        _api("batch/v1beta1", ("CronJob",), deprecated="1.21", removed="1.25"),
        _api("discovery.k8s.io/v1beta1", ("EndpointSlice",), deprecated="1.21", removed="1.25"),
        _api("events.k8s.io/v1beta1", ("Event",), deprecated="1.22", removed="1.25"),
        _api("node.k8s.io/v1beta1", ("RuntimeClass",), deprecated="1.22", removed="1.25"),
        _api("policy/v1beta1", ("PodDisruptionBudget",), deprecated="1.21", removed="1.25"),
        _api("policy/v1beta1", ("PodSecurityPolicy",), deprecated="1.21", removed="1.25"),
        _api("autoscaling/v2beta2", ("HorizontalPodAutoscaler",), deprecated="1.23", removed="1.26"),
        _api(
            "flowcontrol.apiserver.k8s.io/v1beta1",
            ("FlowSchema", "PriorityLevelConfiguration"),
            deprecated="1.23",
            removed="1.26",
        ),
        _api("storage.k8s.io/v1beta1", ("CSIStorageCapacity",), deprecated="1.24", removed="1.27"),
        _api(
            "flowcontrol.apiserver.k8s.io/v1beta2",
            ("FlowSchema", "PriorityLevelConfiguration"),
            deprecated="1.26",
            removed="1.29",
        ),
        _api(
            "admissionregistration.k8s.io/v1alpha1",
            ("ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding"),
            deprecated="1.29",
            removed="1.32",
        ),
        _api(
            "flowcontrol.apiserver.k8s.io/v1beta3",
            ("FlowSchema", "PriorityLevelConfiguration"),
            deprecated="1.29",
            removed="1.32",
        ),
        _api("networking.k8s.io/v1alpha1", ("IPAddress", "ServiceCIDR"), deprecated="1.30", removed="1.33"),
        _api(
            "admissionregistration.k8s.io/v1beta1",
            ("ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding"),
            deprecated="1.31",
            removed="1.34",
        ),
        _api("storage.k8s.io/v1alpha1", ("VolumeAttributesClass",), deprecated="1.32", removed="1.35"),
        _api("certificates.k8s.io/v1alpha1", ("ClusterTrustBundle",), deprecated="1.34", removed="1.37"),
        _api("coordination.k8s.io/v1alpha1", ("LeaseCandidate",), deprecated="1.34", removed="1.37"),
        _api("networking.k8s.io/v1beta1", ("IPAddress", "ServiceCIDR"), deprecated="1.34", removed="1.37"),
        _api("storage.k8s.io/v1beta1", ("VolumeAttributesClass",), deprecated="1.34", removed="1.37"),
        _api(
            "admissionregistration.k8s.io/v1alpha1",
            ("MutatingAdmissionPolicy", "MutatingAdmissionPolicyBinding"),
            deprecated="1.35",
            removed="1.38",
        ),
        _api("coordination.k8s.io/v1alpha2", ("LeaseCandidate",), deprecated="1.35", removed="1.38"),
        _api(
            "resource.k8s.io/v1beta1",
            ("DeviceClass", "ResourceClaim", "ResourceClaimTemplate", "ResourceSlice"),
            deprecated="1.35",
            removed="1.38",
        ),
        _api("coordination.k8s.io/v1beta1", ("LeaseCandidate",), deprecated="1.36", removed="1.39"),
        _api("resource.k8s.io/v1alpha3", ("DeviceTaintRule",), deprecated="1.36", removed="1.39"),
        _api(
            "resource.k8s.io/v1beta2",
            ("DeviceClass", "ResourceClaim", "ResourceClaimTemplate", "ResourceSlice"),
            deprecated="1.36",
            removed="1.39",
        ),
        _api(
            "admissionregistration.k8s.io/v1beta1",
            ("MutatingAdmissionPolicy", "MutatingAdmissionPolicyBinding"),
            deprecated="1.37",
            removed="1.40",
        ),
        _api("certificates.k8s.io/v1beta1", ("ClusterTrustBundle", "PodCertificateRequest"), deprecated="1.37", removed="1.40"),
        _api("storagemigration.k8s.io/v1beta1", ("StorageVersionMigration",), deprecated="1.37", removed="1.40"),
        _api("resource.k8s.io/v1alpha3", ("ResourcePoolStatusRequest",), deprecated="1.39", removed="1.42"),
        _api("resource.k8s.io/v1beta2", ("DeviceTaintRule",), deprecated="1.39", removed="1.42"),
        _api("scheduling.k8s.io/v1beta1", ("PodGroup", "Workload"), deprecated="1.40", removed="1.43"),
    )
    for key, lifecycle in table.items()
}
"""(apiVersion, kind) → its deprecation and removal release (SOURCE above), ordered by removal release."""


def release_of(kubernetes_version: str) -> Release:
    """``'1.32'`` or ``'v1.32.4'`` → ``(1, 32)``."""
    major, minor = kubernetes_version.lstrip("v").split(".")[:2]
    return int(major), int(minor)


@cache
def served_api_versions(schema_version: str) -> dict[str, tuple[str, ...]]:
    """kind → the apiVersions the API server of ``schema_version`` (a kubernetes-validate version) serves it at,
    the preferred first (GA before beta before alpha, newer first)."""
    from mlgitops.kube.schema import _definitions

    served: dict[str, set[str]] = {}
    for name, definition in _definitions(schema_version).get("$defs", {}).items():
        if name.startswith("io.k8s.apimachinery.") or not isinstance(definition, dict):
            continue  # meta kinds (DeleteOptions, WatchEvent) are listed under every group
        for gvk in definition.get("x-kubernetes-group-version-kind") or []:
            group, version, kind = gvk.get("group", ""), gvk.get("version", ""), gvk.get("kind", "")
            served.setdefault(kind, set()).add(f"{group}/{version}" if group else version)
    return {kind: tuple(sorted(versions, key=_preference)) for kind, versions in served.items()}


def _preference(api_version: str) -> tuple[int, int, int]:
    version = api_version.rpartition("/")[2]
    stability = 0 if "alpha" not in version and "beta" not in version else (1 if "beta" in version else 2)
    numbers = [int(part) for part in version.replace("v", " ").replace("alpha", " ").replace("beta", " ").split()]
    return stability, -numbers[0], -(numbers[1] if len(numbers) > 1 else 0)


@cache
def built_in_groups(schema_version: str) -> frozenset[str]:
    """API groups of built-in kinds at ``schema_version``, with those of removed versions (``extensions``) and core ("")."""
    groups = {version.rpartition("/")[0] for versions in served_api_versions(schema_version).values() for version in versions}
    groups |= {api_version.rpartition("/")[0] for api_version, _ in LIFECYCLE}
    return frozenset(groups | {""})


@dataclass(frozen=True)
class ApiVersionProblem:
    """Why the API server of the target version will not take an object's apiVersion and kind as written."""

    message: str
    removed: bool
    """True: refused (not served); False: served with a deprecation warning."""


_CLIENT_SIDE_KINDS = frozenset({"List"})  # kubectl unpacks a v1 List before it sends anything


def api_version_problem(api_version: str, kind: str, kubernetes_version: str) -> ApiVersionProblem | None:
    """What is wrong with a built-in ``apiVersion`` ``kind`` at ``kubernetes_version`` (None: nothing, or not built-in).

    A version deprecated or removed by then (``LIFECYCLE``); a built-in kind under a group or version that does not
    serve it (``apiVersion: v1, kind: Deployment``), or a kind that a built-in group does not have. A version that
    only newer Kubernetes serves (``resource.k8s.io/v1`` before 1.34) is not a problem here: the ``schema`` rule
    says which version to validate it with. Raises UserError for a Kubernetes version no schemas exist for.
    """
    from mlgitops.kube.schema import first_serving_version, schema_version

    target = release_of(kubernetes_version)
    served = served_api_versions(schema_version(kubernetes_version))
    group = api_version.rpartition("/")[0]
    if kind in _CLIENT_SIDE_KINDS or group not in built_in_groups(schema_version(kubernetes_version)):
        return None
    lifecycle = LIFECYCLE.get((api_version, kind))
    candidates = sorted(served.get(kind, ()), key=lambda v: v.rpartition("/")[0] != group)  # its own group first
    instead = next((v for v in candidates if v != api_version and not _deprecated(v, kind, target)), None)
    write = (
        f": write apiVersion: {instead} (fields may differ between versions: see the Kubernetes deprecated API migration guide)"
        if instead
        else f": Kubernetes {_shown(target)} serves no version of {kind}, so remove it"
    )
    if lifecycle is not None and target >= lifecycle.removed:
        return ApiVersionProblem(
            f"{api_version} {kind} is not served from Kubernetes {_shown(lifecycle.removed)} on (deprecated since "
            f"{_shown(lifecycle.deprecated)}), so the API server of {_shown(target)} refuses it{write}",
            removed=True,
        )
    if lifecycle is not None and target >= lifecycle.deprecated:
        return ApiVersionProblem(
            f"{api_version} {kind} is deprecated since Kubernetes {_shown(lifecycle.deprecated)} and not served from "
            f"{_shown(lifecycle.removed)} on: the API server warns on every apply"
            + (f"; write apiVersion: {instead} before upgrading" if instead else "; remove it before upgrading"),
            removed=False,
        )
    newer = first_serving_version(api_version, kind)
    if api_version in served.get(kind, ()) or lifecycle is not None or (newer is not None and release_of(newer) > target):
        return None
    where = f"{api_version} (the core group)" if not group else api_version
    if served.get(kind):
        return ApiVersionProblem(
            f"{kind} is not served as {where}: Kubernetes {_shown(target)} serves it as "
            f"{' and '.join(served[kind])}: write apiVersion: {served[kind][0]}",
            removed=True,
        )
    spelled = next((name for name in served if name.lower() == kind.lower()), None)
    if spelled is not None:
        return ApiVersionProblem(
            f"kind {kind} does not exist (kinds are case-sensitive): write kind: {spelled}"
            + ("" if api_version in served[spelled] else f" with apiVersion: {served[spelled][0]}"),
            removed=True,
        )
    return ApiVersionProblem(
        f"the built-in API group of {where} has no kind {kind} in Kubernetes {_shown(target)}: a custom resource "
        "needs its own API group (its CRD's spec.group); a built-in kind, its own apiVersion",
        removed=True,
    )


def _deprecated(api_version: str, kind: str, target: Release) -> bool:
    lifecycle = LIFECYCLE.get((api_version, kind))
    return lifecycle is not None and target >= lifecycle.deprecated


def _shown(release: Release) -> str:
    return f"{release[0]}.{release[1]}"
