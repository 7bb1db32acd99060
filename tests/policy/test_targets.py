"""Every pod template a rule targets is checked (policy/targets.py): both replica types of a PyTorchJob, a CronJob's
job template and init containers."""

from __future__ import annotations

from mlgitops.policy import Catalog
from tests.policy.linting import NIGHTLY, PYTORCHJOB, _found


def test_pytorchjob_master_and_worker_pod_templates_are_both_checked(catalog: Catalog) -> None:
    # The Master's container sets limits only: the API server copies its memory limit into the
    # request, so only cpu is missing. The Worker requests everything.
    assert _found(catalog, PYTORCHJOB, "resources-requests") == [(15, 15, "container 'pytorch' does not request cpu")]
    # One GPU per pod: no NCCL between local ranks, so no /dev/shm finding for either replica type.
    assert _found(catalog, PYTORCHJOB, "gpu-shm") == []
    eight = PYTORCHJOB.replace("nvidia.com/gpu: 1}", "nvidia.com/gpu: 8}")
    assert [(line, column) for line, column, _ in _found(catalog, eight, "gpu-shm")] == [(11, 11), (22, 11)]


def test_cronjob_pod_templates_and_init_containers_are_checked(catalog: Catalog) -> None:
    assert _found(catalog, NIGHTLY, "job-restart-policy") == [
        (11, 26, "a Job's pods need restartPolicy Never or OnFailure, not 'Always'")
    ]
    assert _found(catalog, NIGHTLY, "resources-requests") == [(14, 15, "init container 'fetch' does not request cpu and memory")]
    assert [(line, column) for line, column, _ in _found(catalog, NIGHTLY, "plaintext-secret")] == [(20, 48)]
