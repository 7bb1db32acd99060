"""Plain YAML values that kubectl, kustomize, Argo CD and Flux read differently from lint."""

from __future__ import annotations

from collections.abc import Iterator

from generator.kube.manifest import FieldPath, Manifest
from generator.policy.model import Policy, PolicyContext, Violation

Found = Iterator[tuple[Manifest, Violation]]

# Fields Kubernetes types as text: a number or boolean there fails to decode, and the apply fails.
_TEXT_MAPS = frozenset(("labels", "annotations", "nodeSelector", "matchLabels", "data", "stringData"))
_TEXT_LISTS = frozenset(("args", "command"))
_TEXT_FIELDS = frozenset(
    (
        "name",
        "namespace",
        "image",
        "key",
        "serviceAccountName",
        "priorityClassName",
        "storageClassName",
        "claimName",
        "secretName",
        "mountPath",
        "subPath",
    )
)


def _text_expected(path: FieldPath, key: bool) -> bool:
    if key or not path:
        return True
    last, parent = path[-1], path[-2] if len(path) > 1 else None
    if parent in _TEXT_MAPS or parent in _TEXT_LISTS:
        return True
    if last == "value" and len(path) >= 3 and path[-3] == "env":
        return True
    return last in _TEXT_FIELDS


def ambiguous_yaml_value(manifests: list[Manifest], policy: Policy, context: PolicyContext) -> Found:
    for manifest in manifests:
        for found in manifest.ambiguous:
            fails = _text_expected(found.path, found.key)
            what = "key" if found.key else "value"
            consequence = "the apply fails where Kubernetes expects text" if fails else "quoting keeps every reader in agreement"
            yield (
                manifest,
                Violation(
                    f"the plain {what} {found.text} is text to PyYAML but {found.reading} to kubectl, kustomize, Argo CD "
                    f"and Flux; write '{found.text}' ({consequence})",
                    found.path,
                    at_key=found.key,
                    # A number where Kubernetes accepts one (a quantity, a port) decodes fine: only a warning.
                    severity=None if fails else "warning",
                ),
            )
