"""Labels and annotations every rendered object carries."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from mlgitops.spec.environment import Environment

MANAGED_BY = "mlgitops"
ENVIRONMENT_LABEL = "mlgitops.io/environment"


@dataclass(frozen=True)
class ObjectMeta:
    """Name, labels and annotations of one object (and of its pods)."""

    name: str
    labels: dict[str, str]
    annotations: dict[str, str] = field(default_factory=dict)

    def render(self, namespace: str | None, extra_annotations: dict[str, str] | None = None) -> dict[str, Any]:
        rendered: dict[str, Any] = {"name": self.name}
        if namespace is not None:
            rendered["namespace"] = namespace
        rendered["labels"] = dict(self.labels)
        annotations = {**self.annotations, **(extra_annotations or {})}
        if annotations:
            rendered["annotations"] = dict(sorted(annotations.items()))
        return rendered


def common_labels(environment: Environment, environment_name: str) -> dict[str, str]:
    """Labels shared by every object of the environment (also listed in kustomization.yaml)."""
    labels = dict(environment.labels)
    labels["app.kubernetes.io/managed-by"] = MANAGED_BY
    labels["app.kubernetes.io/part-of"] = environment.part_of
    labels[ENVIRONMENT_LABEL] = environment_name
    return dict(sorted(labels.items()))


def object_meta(
    environment: Environment,
    environment_name: str,
    *,
    name: str,
    app: str,
    component: str,
    labels: dict[str, str] | None = None,
    annotations: dict[str, str] | None = None,
) -> ObjectMeta:
    merged = {
        **(labels or {}),
        **common_labels(environment, environment_name),
        "app.kubernetes.io/name": app,
        "app.kubernetes.io/component": component,
    }
    return ObjectMeta(
        name=name,
        labels=dict(sorted(merged.items())),
        annotations=dict(sorted({**environment.annotations, **(annotations or {})}.items())),
    )


def selector_labels(app: str) -> dict[str, str]:
    """Labels that select a workload's pods; kept minimal because selectors are immutable."""
    return {"app.kubernetes.io/name": app}
