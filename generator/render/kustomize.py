"""The kustomization.yaml of one environment folder."""

from __future__ import annotations

from typing import Any

from generator.render.metadata import common_labels
from generator.spec.environment import Environment


def kustomization(environment: Environment, environment_name: str, files: list[str]) -> dict[str, Any]:
    """A kustomize v5 root listing every file, with the namespace and `labels:` (not commonLabels).

    The objects already carry the namespace and labels, so kustomize's transformers change
    nothing: what ArgoCD or Flux applies is exactly what the files say.
    """
    return {
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        "namespace": environment.namespace,
        "labels": [{"pairs": common_labels(environment, environment_name), "includeSelectors": False}],
        "resources": sorted(files),
    }
