"""Quota rules (policy/checks/quotas.py) on issue 26's faults: Karpenter evicting training (training-disruption);
render protects the pods of queued jobs and says how NodePools consolidate."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlgitops.kube.kueue_queues import pod_sets
from tests.rules.controller_faults import ENV, HAND_WRITTEN_JOB, _error, _findings, _objects, _output


def test_render_protects_training_pods_and_writes_disruption(tmp_path: Path) -> None:
    output = _output(tmp_path, ENV)
    [job] = _objects(output, "TrainJob")
    [node] = pod_sets(job)
    assert node.metadata_path is not None
    metadata = job
    for key in node.metadata_path:
        metadata = metadata[key]
    assert metadata["annotations"]["karpenter.sh/do-not-disrupt"] == "true"
    pools = {pool["metadata"]["name"]: pool["spec"]["disruption"] for pool in _objects(output, "NodePool")}
    assert pools == {
        "cpu": {"consolidationPolicy": "WhenEmptyOrUnderutilized", "consolidateAfter": "5m"},
        "h100": {"consolidationPolicy": "WhenEmpty", "consolidateAfter": "5m"},
    }


@pytest.mark.parametrize(
    ("replace", "by", "expected"),
    [
        (
            "kubernetesVersion",
            'operators: {karpenter: "0.37"}\nkubernetesVersion',
            "2:24: operators.karpenter: Karpenter 0.37 has no karpenter.sh/v1 NodePool, which mlgitops renders "
            "(Karpenter 1.0 or later)",
        ),
        (
            "      maxNodes: 10\n",
            "      maxNodes: 10\n      disruption: {consolidationPolicy: Balanced}\n",
            "17:41: cluster.nodePools[cpu].disruption.consolidationPolicy: Karpenter 1.13 has no Balanced consolidation "
            "policy (Karpenter 1.14 or later)",
        ),
    ],
    ids=["karpenter-before-v1", "balanced-before-1.14"],
)
def test_what_the_declared_karpenter_cannot_do_is_refused_at_its_line(
    tmp_path: Path, replace: str, by: str, expected: str
) -> None:
    text = ENV.replace(replace, by)
    if "Balanced" in by:
        text = text.replace("kubernetesVersion", 'operators: {karpenter: "1.13"}\nkubernetesVersion')
    assert _error(tmp_path, text) == expected


def test_render_and_lint_find_a_hand_written_job_karpenter_may_evict(tmp_path: Path) -> None:
    text = ENV.replace("kueue:\n", "manifests: [manifests/hand.yaml]\nkueue:\n")
    unqueued = HAND_WRITTEN_JOB.replace("  labels:\n    kueue.x-k8s.io/queue-name: training\n", "")
    on_cpu = unqueued.replace("node-pool: h100", "node-pool: cpu").replace(", nvidia.com/gpu: 8", "")
    [finding] = _findings(tmp_path, text, "training-disruption", on_cpu)
    # At spec.template: the pod template has no metadata to annotate yet.
    assert (Path(finding.location.file).name, finding.location.line) == ("hand.yaml", 8)
    assert "Karpenter NodePool 'cpu', which consolidates underutilised nodes" in finding.message
