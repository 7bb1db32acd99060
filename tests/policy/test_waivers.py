"""Waivers: `mlgitops.io/waive.<rule>` annotations accept a finding, which is still reported, and never fails a run."""

from __future__ import annotations

import pytest

from mlgitops.policy import Catalog, Severity, fails
from tests.policy.linting import findings_in, positions

DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: serve
  namespace: ml
  annotations:
    acme.io/owner: vision
spec:
  selector:
    matchLabels: {app: serve}
  template:
    metadata:
      labels: {app: serve}
      annotations:
        acme.io/team: vision
    spec:
      securityContext: {runAsNonRoot: true}
      containers:
        - name: server
          image: vendor/triton:latest
          readinessProbe: {tcpSocket: {port: 8080}}
          resources:
            requests: {cpu: "1", memory: 1Gi}
            limits: {memory: 1Gi}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: deny, namespace: ml}
spec: {podSelector: {}, policyTypes: [Ingress]}
"""


def _waived(value: str, *, on_pod_template: bool = False) -> str:
    anchor = "        acme.io/team: vision\n" if on_pod_template else "    acme.io/owner: vision\n"
    indent = " " * (len(anchor) - len(anchor.lstrip()))
    return DEPLOYMENT.replace(anchor, f"{anchor}{indent}mlgitops.io/waive.image-tag: {value}\n", 1)


@pytest.fixture(autouse=True)
def _fixed_today(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLGITOPS_TODAY", "2026-03-15")


def test_the_manifest_without_a_waiver_fails_on_its_image(catalog: Catalog) -> None:
    found = findings_in(DEPLOYMENT, catalog)
    assert positions(found) == [("image-tag", 20, 18)]
    assert fails(found)


@pytest.mark.parametrize("on_pod_template", [False, True], ids=["object", "pod-template"])
def test_a_waiver_with_a_reason_is_reported_as_waived_and_never_fails(catalog: Catalog, on_pod_template: bool) -> None:
    found = findings_in(_waived('"vendor publishes latest only until=2026-06-30"', on_pod_template=on_pod_template), catalog)
    assert [(f.rule, f.waiver) for f in found] == [("image-tag", "vendor publishes latest only")]
    assert not fails(found, Severity.INFO)


def test_a_waiver_is_valid_through_its_last_day(catalog: Catalog) -> None:
    found = findings_in(_waived('"vendor image until=2026-03-15"'), catalog)
    assert [(f.rule, f.waiver) for f in found] == [("image-tag", "vendor image")]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ('""', "waiver of 'image-tag' gives no reason: say why the finding is acceptable"),
        ('"until=2026-06-30"', "waiver of 'image-tag' gives no reason: say why the finding is acceptable"),
        ('"vendor image until=2026-03-14"', "waiver of 'image-tag' expired on 2026-03-14: fix the finding or renew"),
        ('"vendor image until=next-week"', "waiver of 'image-tag': until=next-week is not a date (YYYY-MM-DD)"),
    ],
)
def test_an_unexplained_or_expired_waiver_waives_nothing_and_is_a_finding(catalog: Catalog, value: str, message: str) -> None:
    found = findings_in(_waived(value), catalog)
    # The waiver's own key (line 8, column 5) is where the bad waiver is reported.
    assert [(f.rule, f.severity, f.location.line, f.location.column, f.message, f.waiver) for f in found] == [
        ("waiver-invalid", "error", 8, 5, message, None),
        ("image-tag", "error", 21, 18, found[1].message, None),
    ]
    assert fails(found)


def test_a_waiver_for_a_rule_that_does_not_exist_is_a_finding(catalog: Catalog) -> None:
    owner = "    acme.io/owner: vision\n"
    text = DEPLOYMENT.replace(owner, owner + '    mlgitops.io/waive.image-tags: "typo"\n')
    found = findings_in(text, catalog)
    assert [(f.rule, f.message) for f in found if f.rule == "waiver-invalid"] == [
        ("waiver-invalid", "waiver names no known rule 'image-tags'")
    ]


def test_a_waiver_covers_its_own_object_only(catalog: Catalog) -> None:
    other = DEPLOYMENT.split("---\n")[0].replace("namespace: ml", "namespace: ml-other")
    found = findings_in(_waived('"vendor image"') + "---\n" + other, catalog)
    images = [(f.object_ref.namespace, f.waiver) for f in found if f.rule == "image-tag"]
    assert images == [("ml", "vendor image"), ("ml-other", None)]


def test_waivers_reach_the_pod_templates_of_a_pytorchjob(catalog: Catalog) -> None:
    job = """\
apiVersion: kubeflow.org/v1
kind: PyTorchJob
metadata: {name: ddp, namespace: ml}
spec:
  pytorchReplicaSpecs:
    Master:
      replicas: 1
      template:
        metadata:
          annotations:
            mlgitops.io/waive.image-tag: "upstream example image"
        spec:
          securityContext: {runAsNonRoot: true}
          containers:
            - name: pytorch
              image: pytorch/pytorch:latest
              resources: {requests: {cpu: "1", memory: 1Gi}, limits: {memory: 1Gi}}
"""
    found = findings_in(job, catalog, rule="image-tag")
    assert [(f.location.line, f.location.column, f.waiver) for f in found] == [(16, 22, "upstream example image")]
