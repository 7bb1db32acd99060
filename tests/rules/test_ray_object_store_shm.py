"""The ray-object-store-shm rule (issue 28): examples from real manifests and our own cases."""

from __future__ import annotations

from mlgitops.policy import Catalog
from tests.policy.linting import located

RAY = """\
apiVersion: ray.io/v1
kind: RayCluster
metadata: {name: data}
spec:
  headGroupSpec:
    rayStartParams:
      object-store-memory: "10000000000"
    template:
      spec:
        containers:
          - name: ray-head
            image: rayproject/ray:2.41.0
            resources:
              requests: {cpu: "2", memory: 8Gi}
"""


def test_a_ray_object_store_larger_than_its_shared_memory(catalog: Catalog) -> None:
    found = located(RAY, catalog, "ray-object-store-shm")
    assert [(line, column) for line, column, _ in found] == [(7, 28)]
    assert "8Gi" in found[0][2]
    assert located(RAY.replace("memory: 8Gi", "memory: 16Gi"), catalog, "ray-object-store-shm") == []
    # plasma-directory moves the store off /dev/shm.
    elsewhere = RAY.replace(
        '      object-store-memory: "10000000000"\n', '      object-store-memory: "10000000000"\n      plasma-directory: /data\n'
    )
    assert located(elsewhere, catalog, "ray-object-store-shm") == []
