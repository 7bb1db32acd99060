"""Checks that relate objects to each other cost work linear in the objects: counted, not timed (issue 30).

Each check below once looked, for every object of one kind, at every object of another: thousands of both took
time in their square (before this pass, measured: 2,000 InferencePools over 2,000 Deployments 71 s against 4.8 s for
500; a cohort of 2,000 ClusterQueues with a queued Job each 19.5 s against 1.5 s for 500; 4,000 ResourceQuotas,
each in its own namespace, 11.7 s against 1.1 s for 1,000). ``tests.support.lines_run`` counts the lines lint
executes for N, 2N and 4N of them; the extra work must double, not quadruple.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from mlgitops.processes.parallel import SERIAL_SWITCH
from tests.support import lint_growth, run_in_process, write

POD = "    spec:\n      containers:\n      - name: c\n        image: ghcr.io/acme/app:1.0\n"


def _pools_and_servers(count: int) -> str:
    """Each Deployment labelled as its own model's server, and an InferencePool selecting it (rule
    inference-pool-selector: once per pool, over every workload of the namespace)."""
    documents = []
    for index in range(count):
        documents.append(
            f"apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d{index}\n  namespace: ml\nspec:\n"
            f"  selector:\n    matchLabels: {{model: m{index}}}\n  template:\n"
            f"    metadata:\n      labels: {{model: m{index}}}\n{POD}"
        )
        documents.append(
            f"apiVersion: inference.networking.k8s.io/v1\nkind: InferencePool\nmetadata:\n  name: p{index}\n  namespace: ml\n"
            f"spec:\n  selector:\n    matchLabels: {{model: m{index}}}\n  targetPorts: [{{number: 8000}}]\n"
            "  endpointPickerRef: {name: epp, port: {number: 9002}}\n"
        )
    return "---\n".join(documents)


def _cohorts(count: int, size: int = 4) -> str:
    """ClusterQueues in cohorts of ``size``, each with a LocalQueue, a queued Job and a ResourceQuota in its namespace
    (what each queue may borrow: once per Job, over every ClusterQueue, and over every queue of its cohort; the
    namespaces feeding each queue, over every LocalQueue; the LimitRange defaults behind each quota, over every
    object)."""
    documents = ["apiVersion: kueue.x-k8s.io/v1beta1\nkind: ResourceFlavor\nmetadata:\n  name: default\n"]
    for index in range(count):
        documents += [
            f"apiVersion: kueue.x-k8s.io/v1beta1\nkind: ClusterQueue\nmetadata:\n  name: cq{index}\n"
            f"spec:\n  cohort: c{index // size}\n"
            "  namespaceSelector: {}\n  resourceGroups:\n  - coveredResources: [cpu]\n    flavors:\n    - name: default\n"
            "      resources:\n      - {name: cpu, nominalQuota: 10}\n",
            f"apiVersion: kueue.x-k8s.io/v1beta1\nkind: LocalQueue\nmetadata:\n  name: lq\n  namespace: ns{index}\n"
            f"spec:\n  clusterQueue: cq{index}\n",
            f"apiVersion: v1\nkind: ResourceQuota\nmetadata:\n  name: q\n  namespace: ns{index}\nspec:\n  hard: {{cpu: '4'}}\n",
            f"apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: j\n  namespace: ns{index}\n"
            f"  labels: {{kueue.x-k8s.io/queue-name: lq}}\nspec:\n  suspend: true\n  template:\n"
            f"{POD}      restartPolicy: Never\n",
        ]
    return "---\n".join(documents)


@pytest.mark.parametrize(
    "shape",
    [
        pytest.param(_pools_and_servers, id="InferencePools over Deployments"),
        pytest.param(_cohorts, id="Kueue cohorts of four queues with quotas and Jobs"),
        pytest.param(lambda count: _cohorts(count, size=count), id="one Kueue cohort of every queue"),
    ],
)
def test_checks_across_objects_cost_linear_work(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, shape: Callable[[int], str]
) -> None:
    monkeypatch.setenv(SERIAL_SWITCH, "1")
    assert lint_growth(tmp_path, shape, 200) < 2.6


def test_a_pool_selecting_many_workloads_names_five_and_counts_the_rest(tmp_path: Path) -> None:
    # The message stays one line however many workloads the selector picks (it listed every one: a pool over 2,000
    # servers wrote 2,000 names, once per pool).
    servers_and_pools = _pools_and_servers(8).split("---\n")
    servers = [server.replace(f"m{index}", "shared") for index, server in enumerate(servers_and_pools[0::2])]
    pool = servers_and_pools[1].replace("m0", "shared")
    manifest = write(tmp_path / "pool.yaml", "---\n".join([*servers, pool]))
    result = run_in_process("lint", "-o", "json", str(manifest))
    (finding,) = [f for f in json.loads(result.stdout)["findings"] if f["rule"] == "inference-pool-selector"]
    assert finding["message"].startswith(
        "InferencePool ml/p0 selects the pods of 8 workloads (Deployment d0, Deployment d1, Deployment d2, "
        "Deployment d3, Deployment d4 and 3 more): "
    )


def test_a_malformed_limit_range_without_a_quota_is_the_schema_rule_s_alone(tmp_path: Path) -> None:
    # Found by a new-user test: reading every LimitRange up front tripped over this one, which no quota needs.
    manifest = write(
        tmp_path / "limits.yaml",
        "apiVersion: v1\nkind: LimitRange\nmetadata: {name: lr, namespace: a}\nspec:\n  limits: 5\n",
    )
    result = run_in_process("lint", "-o", "json", str(manifest))
    assert [finding["rule"] for finding in json.loads(result.stdout)["findings"]] == ["schema"]


def test_what_a_queue_borrows_is_summed_over_the_other_queues_in_their_order(tmp_path: Path) -> None:
    # Found by a new-user test: the cohort's total less the queue's own share rounds differently past Decimal's 28
    # digits than the sum of the others, which is what the queue borrows.
    queues = "---\n".join(
        f"apiVersion: kueue.x-k8s.io/v1beta2\nkind: ClusterQueue\nmetadata:\n  name: {name}\nspec:\n  cohortName: c\n"
        "  namespaceSelector: {}\n  resourceGroups:\n  - coveredResources: [cpu]\n    flavors:\n    - name: f\n"
        f"      resources:\n      - {{name: cpu, nominalQuota: '{quota}'}}\n"
        for name, quota in (("a", "9000000000000000000.000000003"), ("b", "9000000000000000000"), ("c", "4n"))
    )
    namespace = (
        "apiVersion: kueue.x-k8s.io/v1beta2\nkind: LocalQueue\nmetadata: {name: lq, namespace: ns}\nspec: {clusterQueue: a}\n"
        "---\napiVersion: v1\nkind: ResourceQuota\nmetadata: {name: q, namespace: ns}\nspec:\n  hard: {requests.cpu: '1'}\n"
    )
    manifest = write(tmp_path / "cohort.yaml", f"{queues}---\n{namespace}")
    result = run_in_process("lint", "-o", "json", str(manifest))
    budget = [finding["message"] for finding in json.loads(result.stdout)["findings"] if finding["rule"] == "kueue-budget"]
    assert len(budget) == 1
    assert "admits up to 18000000000000000000000m cpu at once" in budget[0]
