"""Autoscaling rules (policy/checks/autoscaling.py): what an HPA's target requests, replicas left to it, v1 targets."""

from __future__ import annotations

from mlgitops.policy import Catalog
from tests.policy.linting import SERVE_WITH_HPA, _found


def test_an_hpa_target_must_request_what_its_utilization_metrics_measure(catalog: Catalog) -> None:
    # The memory limit stands in for the missing memory request (the API server copies it).
    assert _found(catalog, SERVE_WITH_HPA, "hpa-target") == []
    no_memory = SERVE_WITH_HPA.replace("limits: {memory: 4Gi}", 'limits: {cpu: "4"}')
    assert _found(catalog, no_memory, "hpa-target") == [
        (
            52,
            24,
            "memory utilization is a share of the request, but container 'server' of Deployment 'serve' requests no memory: "
            "the HPA never acts",
        )
    ]
    missing = no_memory.replace("kind: Deployment, name: serve}", "kind: Deployment, name: serving}")
    assert [(line, column) for line, column, _ in _found(catalog, missing, "hpa-target")] == [(45, 65)]


def test_a_deployment_under_an_hpa_leaves_replicas_to_it(catalog: Catalog) -> None:
    assert _found(catalog, SERVE_WITH_HPA, "hpa-replicas") == []
    pinned = SERVE_WITH_HPA.replace("spec:\n  selector: {matchLabels", "spec:\n  replicas: 3\n  selector: {matchLabels", 1)
    synced = _found(catalog, pinned, "hpa-replicas", gitops=("argocd",))  # .mlgitops.yaml: gitops: [argocd]
    assert [(line, column) for line, column, _ in synced] == [(5, 13)]
    inverted = SERVE_WITH_HPA.replace("minReplicas: 2", "minReplicas: 9")
    assert _found(catalog, inverted, "hpa-replicas") == [(46, 16, "minReplicas 9 is above maxReplicas 8")]


def test_autoscaling_v1_needs_a_cpu_target(catalog: Catalog) -> None:
    v1 = "apiVersion: autoscaling/v1\nkind: HorizontalPodAutoscaler\nmetadata: {name: s}\nspec:\n  maxReplicas: 4\n"
    assert [(line, column) for line, column, _ in _found(catalog, v1, "hpa-metrics")] == [(4, 1)]
    assert _found(catalog, v1 + "  targetCPUUtilizationPercentage: 70\n", "hpa-metrics") == []
