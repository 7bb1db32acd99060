"""Rule pdb-blocks-drain counts what the disruption controller counts: the pods of every workload a budget picks.

kubernetes/kubernetes pkg/controller/disruption/disruption.go (``getExpectedPodCount``): an integer minAvailable is
compared with the number of pods the selector matches, a percentage scaled by the summed replicas of their
controllers; evictions are allowed while more pods are healthy. The rule judged each picked workload alone and read
matchLabels only, so a budget over a leader and its workers, or one whose matchExpressions leave a canary out, was
reported although drains go through.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mlgitops.kube.label_selection import picks
from mlgitops.policy import Catalog
from tests.policy.linting import findings_in
from tests.support import run_in_process, write


def _deployment(name: str, replicas: int, labels: str) -> str:
    return (
        f"apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: {name}}}\nspec:\n  replicas: {replicas}\n"
        f"  selector: {{matchLabels: {labels}}}\n"
        f"  template: {{metadata: {{labels: {labels}}}, spec: {{containers: [{{name: c, image: 'c:1'}}]}}}}\n---\n"
    )


def _budget(minimum: str, selector: str = "{matchLabels: {app: serve}}") -> str:
    header = "apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {name: b}\n"
    return f"{header}spec:\n  minAvailable: {minimum}\n  selector: {selector}\n"


LEADER_AND_WORKERS = _deployment("leader", 1, "{app: serve, role: leader}") + _deployment(
    "workers", 1, "{app: serve, role: worker}"
)


def _messages(catalog: Catalog, text: str) -> list[str]:
    return [f.message for f in findings_in(text, catalog, rule="pdb-blocks-drain")]


@pytest.mark.parametrize("minimum", ["1", "50%"])
def test_a_budget_over_two_workloads_counts_their_pods_together(catalog: Catalog, minimum: str) -> None:
    # 2 pods, 1 must stay: one may go (each workload judged alone had no pod to spare).
    assert _messages(catalog, LEADER_AND_WORKERS + _budget(minimum)) == []


def test_a_budget_that_holds_every_pod_of_two_workloads_names_both(catalog: Catalog) -> None:
    assert _messages(catalog, LEADER_AND_WORKERS + _budget("2")) == [
        "minAvailable 2, which equals or exceeds the 2 replica(s) of the 2 workloads it selects ('leader', 'workers'): "
        "no pod can be evicted and node drains hang"
    ]


def test_match_expressions_narrow_what_a_budget_picks(catalog: Catalog) -> None:
    workloads = _deployment("main", 2, "{app: serve, track: main}") + _deployment("canary", 1, "{app: serve, track: canary}")
    stable = "{matchLabels: {app: serve}, matchExpressions: [{key: track, operator: NotIn, values: [canary]}]}"
    assert _messages(catalog, workloads + _budget("1", stable)) == []  # main's 2 pods: 1 may go
    canary = "{matchLabels: {app: serve}, matchExpressions: [{key: track, operator: In, values: [canary]}]}"
    [message] = _messages(catalog, workloads + _budget("1", canary))
    assert "the 1 replica(s) of Deployment 'canary'" in message


@pytest.mark.parametrize(
    "selector",
    [
        "{matchLabels: {app: serve}, matchExpressions: [{key: track, operator: Near, values: [x]}]}",  # refused
        "{matchLabels: {app: serve}, matchExpressions: [{key: track, operator: In}]}",  # In without values: refused
        "{matchExpressions: [{key: app, operator: In, values: [serve]}]}",  # nothing to look workloads up by
    ],
)
def test_a_selector_the_api_server_refuses_or_of_expressions_alone_is_not_judged(catalog: Catalog, selector: str) -> None:
    assert _messages(catalog, _deployment("one", 1, "{app: serve}") + _budget("1", selector)) == []


def test_a_budget_that_also_picks_pods_of_unknown_number_is_not_judged(catalog: Catalog) -> None:
    # A DaemonSet runs a pod per node: how many the budget counts is not known here.
    daemons = (
        "apiVersion: apps/v1\nkind: DaemonSet\nmetadata: {name: agent}\nspec:\n  selector: {matchLabels: {app: serve}}\n"
        "  template: {metadata: {labels: {app: serve}}, spec: {containers: [{name: c, image: 'c:1'}]}}\n---\n"
    )
    assert _messages(catalog, _deployment("one", 1, "{app: serve}") + daemons + _budget("1")) == []
    assert _messages(catalog, _deployment("one", 1, "{app: serve}") + _budget("1")) != []


@pytest.mark.parametrize(
    ("selector", "labels", "picked"),
    [
        ({"matchLabels": {"a": "1"}}, {"a": "1", "b": "2"}, True),
        ({"matchLabels": {"a": "1"}}, {"a": "2"}, False),
        ({"matchExpressions": [{"key": "a", "operator": "In", "values": ["1", "2"]}]}, {"a": "2"}, True),
        ({"matchExpressions": [{"key": "a", "operator": "In", "values": ["1"]}]}, {}, False),
        ({"matchExpressions": [{"key": "a", "operator": "NotIn", "values": ["1"]}]}, {}, True),
        ({"matchExpressions": [{"key": "a", "operator": "NotIn", "values": ["1"]}]}, {"a": "1"}, False),
        ({"matchExpressions": [{"key": "a", "operator": "Exists"}]}, {"a": ""}, True),
        ({"matchExpressions": [{"key": "a", "operator": "DoesNotExist"}]}, {"a": ""}, False),
        ({"matchLabels": {"a": "1"}, "matchExpressions": [{"key": "b", "operator": "Exists"}]}, {"a": "1"}, False),
        ({}, {"a": "1"}, True),
        ({"matchLabels": {"a": 1}}, {"a": 1}, None),
        ({"matchExpressions": [{"key": "a", "operator": "Exists", "values": ["x"]}]}, {}, None),
        ({"matchExpressions": [{"key": "a", "operator": "in", "values": ["x"]}]}, {}, None),
        ({"matchExpressions": "a"}, {}, None),
    ],
)
def test_a_label_selector_picks_as_the_api_machinery_matches(
    selector: dict[str, object], labels: dict[str, str], picked: object
) -> None:
    assert picks(selector, labels) is picked


def test_copies_of_one_workload_in_other_files_are_one_workload_to_each_budget(tmp_path: Path) -> None:
    # A kustomize base and its overlay, or one folder per cluster: the same Deployment twice is not four pods.
    for cluster in ("us", "eu"):
        write(tmp_path / cluster / "all.yaml", _deployment("web", 2, "{app: serve}") + _budget("2"))
    result = run_in_process("lint", "-o", "json", str(tmp_path))
    found = [f for f in json.loads(result.stdout)["findings"] if f["rule"] == "pdb-blocks-drain"]
    assert [f["location"]["file"].rsplit("/", 2)[1] for f in found] == ["eu", "us"]
    assert all("the 2 replica(s) of Deployment 'web'" in f["message"] for f in found)


def test_a_budget_that_picks_a_bare_pod_or_writes_a_number_as_text_is_not_judged(catalog: Catalog) -> None:
    pod = "apiVersion: v1\nkind: Pod\nmetadata: {name: p, labels: {app: serve}}\n"
    pod += "spec: {containers: [{name: c, image: 'c:1'}]}\n---\n"
    # An integer minAvailable counts every picked pod, the bare one too (3 here: one may go).
    assert _messages(catalog, _deployment("web", 2, "{app: serve}") + pod + _budget("2")) == []
    # A text minAvailable must be a percentage: the API server refuses "2" (apimachinery IsValidPercent).
    assert _messages(catalog, _deployment("web", 2, "{app: serve}") + _budget('"2"')) == []
    assert _messages(catalog, _deployment("web", 2, "{app: serve}") + _budget('"100%"')) != []
