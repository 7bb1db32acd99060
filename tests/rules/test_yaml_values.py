"""The ambiguous-yaml-value rule (policy/checks/yaml_values.py): values Go's YAML readers take for numbers or bools."""

from __future__ import annotations

from mlgitops.policy import Catalog, PolicyContext
from tests.policy.linting import findings_in

AMBIGUOUS_VALUES = """\
apiVersion: batch/v1
kind: Job
metadata:
  name: sweep
  labels: {shuffle: n}
spec:
  template:
    spec:
      restartPolicy: Never
      containers:
        - name: trainer
          image: ml-image:1.0
          args: [--lr, 1e-4, --wd, '1e-5']
          env:
            - {name: LEARNING_RATE, value: 3e-4}
            - {name: SEED, value: "42"}
          resources:
            requests: {cpu: 1e3, memory: 8Gi}
"""


def test_values_go_readers_take_for_numbers_fail_where_kubernetes_wants_text(catalog: Catalog) -> None:
    found = findings_in(AMBIGUOUS_VALUES, catalog, context=PolicyContext(), rule="ambiguous-yaml-value")
    assert [(f.location.line, f.location.column, f.severity) for f in found] == [
        (5, 21, "error"),  # a label value
        (13, 24, "error"),  # an argument
        (15, 44, "error"),  # an env value
        (18, 29, "warning"),  # a quantity decodes from a number
    ]
    assert found[2].message == (
        "the plain value 3e-4 is text to PyYAML (Python tools, YAML 1.1); the number 0.0003 to kubectl and the API "
        "server (Go, YAML 1.1) and kustomize (kyaml, YAML 1.2): kubectl sends the number 0.0003 where Kubernetes "
        "expects text, so the apply fails: write '3e-4'"
    )
