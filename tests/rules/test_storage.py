"""Storage rules (policy/checks/storage.py): emptyDir for data, a read-write-once claim shared, mounts of volumes
nobody declared."""

from __future__ import annotations

from mlgitops.policy import Catalog, PolicyContext
from tests.policy.linting import GPU_JOB, SERVE_WITH_HPA, _found, findings_in


def test_emptydir_is_fine_for_scratch_and_dev_shm_but_not_for_data(catalog: Catalog) -> None:
    assert _found(catalog, GPU_JOB, "emptydir-data") == []
    checkpoints = GPU_JOB.replace("mountPath: /cache}", "mountPath: /checkpoints}")
    assert [(line, column) for line, column, _ in _found(catalog, checkpoints, "emptydir-data")] == [(21, 40)]
    declared = checkpoints.replace(
        "  template:\n    spec:\n",
        "  template:\n    metadata:\n      annotations: {mlgitops.io/scratch-volumes: cache}\n    spec:\n",
    )
    # Declared scratch, yet at a checkpoint path: a warning (the path says keep, the volume says throw away).
    [warned] = findings_in(declared, catalog, context=PolicyContext(), rule="emptydir-data")
    assert (warned.severity, warned.location.line, warned.location.column) == ("warning", 23, 40)
    assert warned.message.startswith("scratch volume 'cache' is mounted at /checkpoints")
    at_cache = declared.replace("mountPath: /checkpoints}", "mountPath: /scratch/cache}")
    assert _found(catalog, at_cache, "emptydir-data") == []


def test_a_read_write_once_claim_is_not_shared_by_scaled_or_several_workloads(catalog: Catalog) -> None:
    assert [(line, column) for line, column, _ in _found(catalog, SERVE_WITH_HPA, "pvc-rwo-shared")] == [(27, 46)]
    shared = SERVE_WITH_HPA.replace("ReadWriteOnce", "ReadWriteMany")
    assert _found(catalog, shared, "pvc-rwo-shared") == []
    writer = GPU_JOB.replace(
        "        - name: cache\n          emptyDir: {}\n",
        "        - name: cache\n          persistentVolumeClaim: {claimName: serve-cache}\n",
    )
    unscaled = SERVE_WITH_HPA.split("---\n")[0] + "---\n" + SERVE_WITH_HPA.split("---\n")[1] + "---\n" + writer
    # Two workloads share the claim, and the one-replica Deployment's RollingUpdate starts a second pod.
    messages = [message for _, _, message in _found(catalog, unscaled, "pvc-rwo-shared")]
    assert len(messages) == 2
    assert any("plus 1 more during a RollingUpdate" in m and "strategy: Recreate" in m for m in messages)
    assert any("several workloads" in m for m in messages)


UNDECLARED_MOUNTS = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: embed
spec:
  selector: {matchLabels: {app: embed}}
  template:
    metadata: {labels: {app: embed}}
    spec:
      initContainers:
        - name: fetch
          image: ml-image:1.0
          volumeMounts: [{name: model, mountPath: /models}]
      containers:
        - name: server
          image: ml-image:1.0
          volumeMounts: [{name: models, mountPath: /models}]
          volumeDevices: [{name: raw-index, devicePath: /dev/xvdb}]
      volumes:
        - {name: models, persistentVolumeClaim: {claimName: model-store}}
"""


def test_mounts_of_undeclared_volumes_fail_in_init_containers_and_block_devices_too(catalog: Catalog) -> None:
    assert _found(catalog, UNDECLARED_MOUNTS, "volume-mounts") == [
        (
            13,
            33,
            "init container 'fetch' mounts volume 'model', which the pod does not declare in spec.volumes: "
            "the API server rejects the pod",
        ),
        (
            18,
            34,
            "container 'server' mounts volume 'raw-index', which the pod does not declare in spec.volumes: "
            "the API server rejects the pod",
        ),
    ]
