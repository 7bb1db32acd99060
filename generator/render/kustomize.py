"""The kustomization.yaml of one environment folder."""

from __future__ import annotations

from typing import Any

from generator.render.metadata import common_labels
from generator.spec.environment import Environment


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
