"""The API server's rules for object metadata: names by kind, namespaces, labels, annotations, selectors.

``kube.api_rules.object_problems`` applies them to any manifest (lint's ``api-validation``
rule); ``render`` refuses the same label keys, label values and annotation keys in
environment files through ``label_problem`` and ``annotation_key_problem`` (``spec/base.py``).

Sources: k8s.io/apimachinery/pkg/api/validation (``ValidateObjectMeta``, ``NameIsDNSSubdomain``,
``NameIsDNSLabel``, ``NameIsDNS1035Label``, ``ValidateAnnotations``), .../apis/meta/v1/validation
(``ValidateLabels``, ``ValidateLabelSelector``), each kind's name function in
k8s.io/kubernetes/pkg/apis/*/validation (Namespace: DNS label, Service: DNS-1035 label,
StatefulSet: DNS label, RBAC kinds: ``ValidatePathSegmentName``, CronJob: at most 52
characters) and apiextensions-apiserver (every custom resource: ``NameIsDNSSubdomain``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any, NamedTuple

from mlgitops.kube import names
from mlgitops.kube.pods import BUILT_IN_GROUPS, FieldPath, PodTemplate, dotted, group_of, mapping, pod_templates, value_at

SUBDOMAIN = "RFC 1123 subdomain"
LABEL = "RFC 1123 label"
DNS1035 = "RFC 1035 label"
PATH_SEGMENT = "path segment"

_RULE_TEXT = {
    SUBDOMAIN: "lower-case letters, digits, '-' and '.', starting and ending with a letter or digit, "
    "at most 253 characters (RFC 1123 subdomain)",
    LABEL: "at most 63 lower-case letters, digits and '-', starting and ending with a letter or digit (RFC 1123 label)",
    DNS1035: "at most 63 lower-case letters, digits and '-', starting with a letter and ending with a letter or digit "
    "(RFC 1035 label)",
    PATH_SEGMENT: "any text without '/' or '%', other than '.' and '..'",
}
_FITS: dict[str, Callable[[str], bool]] = {
    SUBDOMAIN: lambda name: len(name) <= 253 and bool(names.DNS1123_SUBDOMAIN.fullmatch(name)),
    LABEL: lambda name: len(name) <= 63 and bool(names.DNS1123_LABEL.fullmatch(name)),
    DNS1035: lambda name: len(name) <= 63 and bool(names.DNS1035_LABEL.fullmatch(name)),
}


class NameRule(NamedTuple):
    """How the API server checks one kind's ``metadata.name``: a rule above, and a tighter length with its reason."""

    rule: str
    max_length: int | None = None
    why: str = ""


_SUBDOMAIN_KINDS = {
    "": (
        "Pod",
        "ConfigMap",
        "Secret",
        "ServiceAccount",
        "PersistentVolume",
        "PersistentVolumeClaim",
        "ReplicationController",
        "Endpoints",
        "LimitRange",
        "ResourceQuota",
        "Node",
        "PodTemplate",
    ),
    "apps": ("Deployment", "ReplicaSet", "DaemonSet", "ControllerRevision"),
    "autoscaling": ("HorizontalPodAutoscaler",),
    "policy": ("PodDisruptionBudget",),
    "networking.k8s.io": ("Ingress", "IngressClass", "NetworkPolicy"),
    "scheduling.k8s.io": ("PriorityClass",),
    "storage.k8s.io": ("StorageClass",),
    "discovery.k8s.io": ("EndpointSlice",),
    "coordination.k8s.io": ("Lease",),
    "node.k8s.io": ("RuntimeClass",),
    "admissionregistration.k8s.io": ("ValidatingWebhookConfiguration", "MutatingWebhookConfiguration"),
    "apiextensions.k8s.io": ("CustomResourceDefinition",),
}
NAME_RULES: dict[tuple[str, str], NameRule] = {
    **{(group, kind): NameRule(SUBDOMAIN) for group, kinds in _SUBDOMAIN_KINDS.items() for kind in kinds},
    ("", "Namespace"): NameRule(LABEL),
    ("", "Service"): NameRule(DNS1035),
    ("apps", "StatefulSet"): NameRule(LABEL),
    ("batch", "Job"): NameRule(SUBDOMAIN, 63, "the Job controller copies the name into its pods' job-name label"),
    ("batch", "CronJob"): NameRule(SUBDOMAIN, 52, "the Jobs it creates add an 11-character suffix"),
    **{
        ("rbac.authorization.k8s.io", kind): NameRule(PATH_SEGMENT)
        for kind in ("Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding")
    },
}
# API groups served by aggregated API servers rather than CustomResourceDefinitions: their names follow
# each server's own rule, so only the URL rule every name obeys is sure.
_AGGREGATED = ("apiregistration.k8s.io", "metrics.k8s.io", "custom.metrics.k8s.io", "external.metrics.k8s.io")
_PLACEHOLDER = re.compile(r"\$\{?[A-Za-z_]|\{\{|%\{|<[A-Za-z_ -]+>")
# ValidateAnnotations: all keys and values together (TotalAnnotationSizeLimitB).
ANNOTATIONS_LIMIT = 256 * 1024


class MetadataProblem(NamedTuple):
    """A refused metadata field: its path from the object's root, the message, and whether the key is at fault."""

    path: FieldPath
    message: str
    at_key: bool = False


def name_rule(group: str, kind: str) -> NameRule:
    """The rule for ``metadata.name`` of a kind: its own, a DNS subdomain for custom resources, else the URL rule."""
    known = NAME_RULES.get((group, kind))
    if known is not None:
        return known
    if group not in BUILT_IN_GROUPS and group not in _AGGREGATED and not group.endswith(".openshift.io"):
        return NameRule(SUBDOMAIN)
    return NameRule(PATH_SEGMENT)


def name_problem(kind: str, rule: NameRule, name: str, prefix: bool = False) -> str | None:
    """Why ``name`` (a ``generateName`` when ``prefix``) is refused as a ``kind``'s name, or None."""
    what = f"{kind} name prefix" if prefix else f"{kind} name"
    if not name:
        return None if prefix else f"an empty name is not a valid {what}: give the object a name"
    if rule.rule == PATH_SEGMENT:
        problem = names.path_segment_problem(name, prefix)
        return f"{problem} (a {what} is {_RULE_TEXT[PATH_SEGMENT]})" if problem else None
    checked = name[:-2] + "a" if prefix and len(name) > 1 and name.endswith("-") else name  # maskTrailingDash
    if not _FITS[rule.rule](checked):
        hint = _placeholder_hint(name) or _suggestion(name, rule.rule, "-" if checked != name else "")
        return f"{name!r} is not a valid {what}: {_RULE_TEXT[rule.rule]}{hint}"
    if not prefix and rule.max_length is not None and len(name) > rule.max_length:
        return f"{name!r} is {len(name)} characters long; a {what} is at most {rule.max_length} ({rule.why})"
    return None


def namespace_problem(namespace: str) -> str | None:
    """Why ``namespace`` cannot be a namespace name (``ValidateNamespaceName``: a DNS-1123 label), or None."""
    if names.DNS1123_LABEL.fullmatch(namespace) and len(namespace) <= 63:
        return None
    hint = _placeholder_hint(namespace) or _suggestion(namespace, LABEL)
    return f"{namespace!r} is not a valid namespace name: {_RULE_TEXT[LABEL]}{hint}"


def label_problem(key: str, value: Any) -> str | None:
    """Why a label ``key: value`` is refused (``ValidateLabels``): the key's problem first, else the value's; or None."""
    return names.label_key_problem(key) or label_value_problem(value)


def label_value_problem(value: Any) -> str | None:
    """Why a label value is refused (``IsValidLabelValue``), or None.

    A value that is not text (``version: 1``) is the ``schema`` rule's to report."""
    return names.label_value_problem(value) if isinstance(value, str) else None


def annotation_key_problem(key: str) -> str | None:
    """Why an annotation key is refused (``ValidateAnnotations``: a qualified name once lower-cased), or None."""
    problem = names.label_key_problem(key.lower())
    return problem.replace(repr(key.lower()), repr(key)) if problem else None


def metadata_problems(obj: dict[str, Any], templates: list[PodTemplate] | None = None) -> Iterator[MetadataProblem]:
    """Every metadata problem of ``obj``: its name, generateName, namespace, labels and annotations;
    its pod templates' labels and annotations; ``spec.selector`` labels; ConfigMap and Secret data keys.

    ``templates`` are ``obj``'s pod templates when the caller has them already (``Manifest.pod_templates``)."""
    kind = obj.get("kind")
    if not isinstance(kind, str) or kind.endswith("List"):
        return
    metadata = mapping(obj.get("metadata"))
    group = group_of(obj)
    rule = name_rule(group, kind)
    if group == "batch" and kind == "Job" and mapping(obj.get("spec")).get("manualSelector") is True:
        rule = NameRule(SUBDOMAIN)  # no job-name label is added to a manual selector's pods
    for field, prefix in (("name", False), ("generateName", True)):
        value = metadata.get(field)
        if isinstance(value, str) and (value or "generateName" not in metadata):
            message = name_problem(kind, rule, value, prefix)
            if message:
                yield MetadataProblem(("metadata", field), f"metadata.{field}: {message}")
    namespace = metadata.get("namespace")
    if isinstance(namespace, str) and namespace:
        message = namespace_problem(namespace)
        if message:
            yield MetadataProblem(("metadata", "namespace"), f"metadata.namespace: {message}")
    seen: set[FieldPath] = set()
    templates = pod_templates(obj) if templates is None else templates
    for where in (("metadata",), *(t.metadata_path for t in templates if t.metadata_path is not None)):
        if where not in seen:
            seen.add(where)
            found = mapping(value_at(obj, where))
            yield from labels_problems(found.get("labels"), (*where, "labels"))
            yield from _annotation_problems(found.get("annotations"), (*where, "annotations"))
    yield from _selector_problems(obj, group, kind)
    if group == "" and kind in ("ConfigMap", "Secret"):
        for field in ("data", "binaryData", "stringData"):
            for key in mapping(obj.get(field)):
                message = names.config_map_key_problem(str(key))
                if message:
                    yield MetadataProblem((field, str(key)), f"{field}: {message}", at_key=True)


def labels_problems(labels: Any, at: FieldPath) -> Iterator[MetadataProblem]:
    """Problems of a label map written at ``at`` (keys at their key, values at their value)."""
    for key, value in mapping(labels).items():
        problem = names.label_key_problem(str(key))
        if problem:
            yield MetadataProblem((*at, str(key)), f"{dotted(at)}: {problem}", at_key=True)
        problem = label_value_problem(value)
        if problem:
            yield MetadataProblem((*at, str(key)), f"{dotted(at)}[{key}]: {problem}")


def _annotation_problems(annotations: Any, at: FieldPath) -> Iterator[MetadataProblem]:
    values = mapping(annotations)
    for key in values:
        message = annotation_key_problem(str(key))
        if message:
            yield MetadataProblem((*at, str(key)), f"{dotted(at)}: {message}", at_key=True)
    size = sum(len(str(key).encode()) + len(str(value).encode()) for key, value in values.items())
    if size > ANNOTATIONS_LIMIT:
        yield MetadataProblem(
            at, f"{dotted(at)}: {size} bytes in all; the API server allows {ANNOTATIONS_LIMIT} (move large values to a ConfigMap)"
        )


def _selector_problems(obj: dict[str, Any], group: str, kind: str) -> Iterator[MetadataProblem]:
    selector = mapping(obj.get("spec")).get("selector")
    if not isinstance(selector, dict):
        return
    if group == "" and kind in ("Service", "ReplicationController"):
        yield from labels_problems(selector, ("spec", "selector"))
        return
    yield from labels_problems(selector.get("matchLabels"), ("spec", "selector", "matchLabels"))
    expressions = selector.get("matchExpressions")
    for index, expression in enumerate(expressions if isinstance(expressions, list) else []):
        key = mapping(expression).get("key")
        problem = names.label_key_problem(key) if isinstance(key, str) else None
        if problem:
            at: FieldPath = ("spec", "selector", "matchExpressions", index, "key")
            yield MetadataProblem(at, f"{dotted(at)}: {problem}")


def _suggestion(name: str, rule: str, suffix: str = "") -> str:
    """``; e.g. 'foo-bar'`` for ``Foo_Bar``: lower-cased, other characters made '-' (``suffix`` kept after it)."""
    allowed = "a-z0-9-." if rule == SUBDOMAIN else "a-z0-9-"
    hint = re.sub(f"[^{allowed}]+", "-", name.lower()).strip("-.")
    if rule == DNS1035:
        hint = hint.lstrip("0123456789-")
    return f"; e.g. {hint + suffix!r}" if hint and _FITS[rule](hint) else ""


def _placeholder_hint(name: str) -> str:
    found = _PLACEHOLDER.search(name)
    return "; it holds an unfilled placeholder: substitute it before applying" if found else ""
