"""The pod templates and containers of a manifest, as the engine and the built-in checks walk them.

The facts (where each kind keeps its pods, how many run) are in ``generator.kube.pods``;
this module only adapts them to manifests.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from mlgitops.kube.manifest import FieldPath, Manifest
from mlgitops.kube.pods import Container, PodTemplate, value_at

__all__ = ["containers", "is_workload", "pod_metadata", "pod_specs", "template_at", "templates", "value_at"]


def templates(manifest: Manifest) -> list[PodTemplate]:
    """Every pod template of the manifest's object (found once per manifest: every rule asks)."""
    return manifest.pod_templates


def pod_specs(manifest: Manifest) -> Iterator[tuple[FieldPath, dict[str, Any]]]:
    """Every pod spec of the object with its path (several for a PyTorchJob's Master and Workers)."""
    for template in templates(manifest):
        yield template.path, template.spec


def template_at(manifest: Manifest, pod_path: FieldPath) -> PodTemplate | None:
    """The pod template at ``pod_path`` (``Manifest.pod_templates_at``), or None."""
    return manifest.pod_templates_at.get(tuple(pod_path))


def is_workload(manifest: Manifest) -> bool:
    """Whether the object runs pods (a workload kind, or a custom resource with pod templates inside)."""
    return bool(templates(manifest))


def containers(
    manifest: Manifest, pod_path: FieldPath, pod: dict[str, Any], *, init: bool
) -> Iterator[tuple[FieldPath, dict[str, Any]]]:
    """Containers (or init containers) of the pod template at ``pod_path``, framework predictors included."""
    template = template_at(manifest, pod_path)
    found: tuple[Container, ...] = template.containers if template is not None else ()
    for container in found:
        if container.init == init:
            yield container.path, container.spec


def pod_metadata(manifest: Manifest, pod_path: FieldPath) -> dict[str, Any]:
    """The metadata of the pod template that holds ``pod_path`` (annotations live there)."""
    template = template_at(manifest, pod_path)
    where = template.metadata_path if template is not None else None
    metadata = value_at(manifest.obj, where) if where is not None else None
    return metadata if isinstance(metadata, dict) else {}
