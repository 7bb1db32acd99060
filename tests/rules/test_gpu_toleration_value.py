"""The gpu-toleration-value rule (issue 28): examples from real manifests and our own cases."""

from __future__ import annotations

from mlgitops.policy import Catalog
from tests.policy.linting import findings_in, located

TOLERATES = """\
apiVersion: v1
kind: Pod
metadata: {name: cuda}
spec:
  tolerations:
    - {key: nvidia.com/gpu, operator: Equal, value: "enabled", effect: NoSchedule}
  containers:
    - name: cuda
      image: nvidia/cuda:12.4.1-base-ubuntu22.04
      resources: {limits: {nvidia.com/gpu: 1}}
"""


def test_an_accelerator_toleration_for_a_value_no_node_carries(catalog: Catalog) -> None:
    found = findings_in(TOLERATES, catalog, rule="gpu-toleration-value")
    assert [(f.severity.value, f.location.line) for f in found] == [("warning", 6)]
    assert "use operator: Exists" in found[0].message
    for value in ("present", "true"):
        assert located(TOLERATES.replace('"enabled"', f'"{value}"'), catalog, "gpu-toleration-value") == []
    # Another key's value is the cluster's own business.
    assert located(TOLERATES.replace("key: nvidia.com/gpu", "key: dedicated"), catalog, "gpu-toleration-value") == []
