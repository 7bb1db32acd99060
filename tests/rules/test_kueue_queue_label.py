"""The kueue-queue-label rule (issue 28): examples from real manifests and our own cases."""

from __future__ import annotations

from mlgitops.policy import Catalog
from tests.policy.linting import located

QUEUED = """\
apiVersion: jobset.x-k8s.io/v1alpha2
kind: JobSet
metadata:
  name: train
  annotations:
    kueue.x-k8s.io/queue-name: team-a
spec:
  replicatedJobs: []
"""


def test_a_kueue_queue_named_in_an_annotation(catalog: Catalog) -> None:
    assert [(line, column) for line, column, _ in located(QUEUED, catalog, "kueue-queue-label")] == [(6, 32)]
    both = QUEUED.replace("  annotations:\n", "  labels: {kueue.x-k8s.io/queue-name: team-a}\n  annotations:\n")
    assert located(both, catalog, "kueue-queue-label") == []
    empty = QUEUED.replace("  annotations:\n    kueue.x-k8s.io/queue-name: team-a\n", "  annotations:\n")
    assert located(empty, catalog, "kueue-queue-label") == []
