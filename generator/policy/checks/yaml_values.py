"""Plain YAML values that PyYAML, kubectl (Go, YAML 1.1) and kustomize (YAML 1.2) read differently.

Every plain scalar of a manifest is judged, free-form places included (a HelmRelease's
``values``, a ConfigMap's data, annotations). Where Kubernetes types a field as text and
kubectl reads something else, the apply fails: an error. Elsewhere the readers still
disagree about what was meant (a Python tool sees the number 90 where kubectl sends "1:30",
kustomize keeps "yes" as text where kubectl sends true): a warning.
"""

from __future__ import annotations

from collections.abc import Iterator

from mlgitops.kube.manifest import FieldPath, Manifest
from mlgitops.policy.checks import check
from mlgitops.policy.model import Policy, PolicyContext, Violation
from mlgitops.policy.severity import Severity
from mlgitops.yaml.ambiguity import READERS, Reading, go_yaml11_reading, readings

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


def _quoted(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _readers_say(text: str) -> str:
    """``the number 90 to PyYAML (...); text to kubectl ... and kustomize (...)``: readers grouped by reading."""
    groups: dict[str, list[str]] = {}
    for reader, reading in zip(READERS, readings(text), strict=True):
        groups.setdefault(reading.describe(), []).append(reader)
    return "; ".join(f"{reading} to {' and '.join(names)}" for reading, names in groups.items())


def _spelled(reading: Reading) -> str | None:
    """How to write a non-text reading so that every reader agrees (true, 90, 0.0001), or None (a date)."""
    if reading.kind == "boolean":
        return "true" if reading.value else "false"
    if reading.kind == "integer":
        return str(reading.value)
    if reading.kind == "float" and reading.value == reading.value and abs(reading.value) != float("inf"):
        return repr(reading.value)
    return None


@check("ambiguous-yaml-value")
def ambiguous_yaml_value(manifests: list[Manifest], policy: Policy, context: PolicyContext) -> Found:
    for manifest in manifests:
        for found in manifest.ambiguous:
            kubectl = go_yaml11_reading(found.text)
            fails = _text_expected(found.path, found.key) and kubectl.kind != "text"
            what = "key" if found.key else "value"
            said = f"the plain {what} {found.text} is {_readers_say(found.text)}"
            if fails:
                advice = (
                    f"kubectl sends {kubectl.describe()} where Kubernetes expects text, so the apply fails: "
                    f"write {_quoted(found.text)}"
                )
            else:
                meant = next((_spelled(r) for r in readings(found.text) if r.kind != "text" and _spelled(r)), None)
                alternative = f", or {meant} for the {'boolean' if meant in ('true', 'false') else 'number'}" if meant else ""
                advice = f"write {_quoted(found.text)} for text{alternative}, so that every reader agrees"
            yield (
                manifest,
                Violation(
                    f"{said}: {advice}",
                    found.path,
                    at_key=found.key,
                    severity=None if fails else Severity.WARNING,
                ),
            )
