"""Which node pools may take a pod is found through an index of the pools, not by trying every pool (issue 30).

``kube.cluster.PlacementIndex`` files each pool under its labels and under the blocking taint key fewest pools carry;
``ClusterPools`` (the render's and policy checks' pools) and rule training-disruption's Karpenter NodePools judge a pod
only against the pools carrying its nodeSelector's rarest pair or tolerated by it. Hypothesis holds the answers to
trying every pool; the line counts hold the work to linear for N pools each taken by one of N workloads (before,
measured: render of 2,000 pools and 2,000 workloads pinned one to each, 12.4 s against 0.9 s for 250; lint of 4,000
Karpenter NodePools chosen by tolerations alone, 24.8 s). ``kube.cluster.PoolChoice`` finds what the fit checks ask
of a pod's pools once per set of pools, held by Hypothesis to trying every pool.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mlgitops.kube.cluster import ClusterPools, NodePoolFacts, PoolChoice, Taint, admits, placement_of, tolerates_all
from mlgitops.kube.fit import NodeFit, Shortfall, node_fit, pool_shortfall
from mlgitops.processes.parallel import SERIAL_SWITCH
from tests.support import lint_growth, render_growth

KEYS = st.sampled_from(["a", "b", "gpu", "", "team"])
VALUES = st.one_of(st.sampled_from(["x", "y", "", "present"]), st.none())
EFFECTS = st.sampled_from(["NoSchedule", "NoExecute", "PreferNoSchedule", "Weird"])
TAINTS = st.builds(Taint, KEYS, EFFECTS, VALUES)
POOLS = st.lists(
    st.builds(
        NodePoolFacts,
        name=st.sampled_from(["p", "q", "r"]),
        labels=st.dictionaries(KEYS, st.sampled_from(["x", "y", "1"]), max_size=2),
        taints=st.lists(TAINTS, max_size=3).map(tuple),
        allocatable=st.sampled_from([{}, {"nvidia.com/gpu": 1}, {"amd.com/gpu": 2}]),
    ),
    max_size=6,
)
ODD = st.sampled_from([None, 5, True, ["a"], {"a": 1}])
TOLERATIONS = st.lists(
    st.one_of(
        st.fixed_dictionaries(
            {},
            optional={
                "key": st.one_of(KEYS, ODD),
                "operator": st.sampled_from(["Exists", "Equal", "exists", None]),
                "value": st.one_of(VALUES, ODD),
                "effect": st.one_of(EFFECTS, st.just("")),
            },
        ),
        ODD,
    ),
    max_size=3,
)
PODS = st.fixed_dictionaries(
    {},
    optional={
        "nodeSelector": st.one_of(st.dictionaries(st.one_of(KEYS, st.just(5)), st.one_of(st.sampled_from(["x", "y"]), ODD)), ODD),
        "tolerations": st.one_of(TOLERATIONS, ODD),
    },
)


@given(POOLS, PODS)
def test_the_pools_admitting_a_pod_are_those_trying_every_pool_finds(pools: list[NodePoolFacts], pod: dict[str, Any]) -> None:
    indexed = ClusterPools(pools)
    selector, tolerations = placement_of(pod)
    candidates = list(indexed.index.candidates(selector, tolerations))
    assert candidates == sorted(set(candidates))
    admitting = indexed.admitting(pod)
    assert list(admitting) == [pool for pool in pools if admits(pool, pod)]
    assert indexed.admitting(copy.deepcopy(pod)) is admitting  # found once per placement
    for devices in ({"nvidia.com/gpu"}, {"amd.com/gpu", "nvidia.com/gpu"}):
        offering = [pool for pool in pools if set(pool.gpu_resources()) & devices]
        assert indexed.offering(devices) == offering
        assert indexed.tolerated_offering(devices, tolerations) == any(
            tolerates_all(tolerations, pool.taints) for pool in offering
        )


def _karpenter_pools(shared_taint: bool) -> Callable[[int], str]:
    """Consolidating Karpenter NodePools, each tainted for one team (and all with one GPU taint, when
    ``shared_taint``), and a Job tolerating each team's taint without a nodeSelector (rule training-disruption)."""
    shared = "{key: nvidia.com/gpu, value: present, effect: NoSchedule}, " if shared_taint else ""
    tolerated = "{key: nvidia.com/gpu, operator: Exists}, " if shared_taint else ""

    def shape(count: int) -> str:
        documents = []
        for index in range(count):
            documents.append(
                f"apiVersion: karpenter.sh/v1\nkind: NodePool\nmetadata: {{name: p{index}}}\nspec:\n  template:\n"
                "    spec:\n      nodeClassRef: {group: karpenter.k8s.aws, kind: EC2NodeClass, name: default}\n"
                f"      requirements: []\n      taints: [{shared}{{key: team-{index}, value: t, effect: NoSchedule}}]\n"
                "  disruption: {consolidationPolicy: WhenEmptyOrUnderutilized}\n"
            )
            documents.append(
                f"apiVersion: batch/v1\nkind: Job\nmetadata: {{name: j{index}, namespace: ns}}\nspec:\n  template:\n"
                f"    spec:\n      restartPolicy: Never\n"
                f"      tolerations: [{tolerated}{{key: team-{index}, operator: Exists}}]\n"
                "      containers: [{name: c, image: 'ghcr.io/acme/app:1.0'}]\n"
            )
        return "---\n".join(documents)

    return shape


@pytest.mark.parametrize("shared_taint", [False, True], ids=["a taint per team", "and one taint every pool carries"])
def test_pools_chosen_by_tolerations_alone_cost_linear_work(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, shared_taint: bool
) -> None:
    monkeypatch.setenv(SERIAL_SWITCH, "1")
    assert lint_growth(tmp_path, _karpenter_pools(shared_taint), 100, exit_codes=(1,)) < 2.3  # 2.0 measured; 2.7-3.0 before


AMOUNTS = st.sampled_from([Decimal(0), Decimal(1), Decimal(4), Decimal("7.5"), Decimal(64)])
FIT_POOLS = st.lists(
    st.builds(
        NodePoolFacts,
        name=st.sampled_from(["p", "q", "r"]),
        allocatable=st.dictionaries(st.sampled_from(["cpu", "memory", "nvidia.com/gpu"]), AMOUNTS),
        max_nodes=st.one_of(st.none(), st.integers(0, 3)),
    ),
    min_size=1,
    max_size=5,
)
REQUESTS = st.dictionaries(st.sampled_from(["cpu", "memory", "nvidia.com/gpu", "amd.com/gpu"]), AMOUNTS)


def _fit_trying_every_pool(requests: dict[str, Decimal], pools: list[NodePoolFacts]) -> NodeFit:
    """node_fit as it was: every pool tried for the fit, and again for the largest of each resource."""
    fits = any(all(amount <= pool.allocatable.get(name, Decimal(0)) for name, amount in requests.items()) for pool in pools)
    shortfalls = []
    for name, amount in requests.items():
        largest = max(pools, key=lambda pool: pool.allocatable.get(name, Decimal(0)))
        if amount > (available := largest.allocatable.get(name, Decimal(0))):
            shortfalls.append(Shortfall(name, amount, largest, available, available))
    return NodeFit(fits, tuple(shortfalls))


def _shortfall_trying_every_pool(needs: dict[str, Decimal], pools: list[NodePoolFacts]) -> Shortfall | None:
    if any(pool.max_nodes is None for pool in pools):
        return None
    for name, need in sorted(needs.items(), key=lambda item: (item[0] in ("cpu", "memory"), item[0])):
        largest = max(pools, key=lambda pool: pool.allocatable.get(name, Decimal(0)) * (pool.max_nodes or 0))
        per_node = largest.allocatable.get(name, Decimal(0))
        if need > per_node * (largest.max_nodes or 0):
            return Shortfall(name, need, largest, per_node * (largest.max_nodes or 0), per_node)
    return None


@given(FIT_POOLS, st.lists(REQUESTS, min_size=1, max_size=4))
def test_fit_on_one_pool_choice_is_fit_trying_every_pool(pools: list[NodePoolFacts], requests: list[dict[str, Decimal]]) -> None:
    """Pods sharing one PoolChoice (as pods of one placement do) are judged as if every pool were tried for each."""
    choice = PoolChoice(pools)
    for asked in requests:
        assert node_fit(asked, choice) == _fit_trying_every_pool(asked, pools)
        assert pool_shortfall(asked, choice) == _shortfall_trying_every_pool(asked, pools)
        offering = choice.offering("nvidia.com/gpu")
        assert list(offering) == [pool for pool in pools if pool.allocatable.get("nvidia.com/gpu", Decimal(0)) > 0]
        assert choice.offering("nvidia.com/gpu") is offering


def _unpinned_environment(count: int, *, large: bool = False) -> str:
    """N untainted pools of growing sizes, and N workloads without a nodePool: each may use every pool. ``large``: each
    workload asks for nearly the most CPU a node has, so only the last pools of the list fit it."""
    lines = ["namespace: ml", 'kubernetesVersion: "1.32"', "networkPolicy: {}", "cluster:", "  nodePools:"]
    for index in range(count):
        lines += [f"    - name: p{index}", f"      labels: {{node-pool: p{index}}}"]
        lines += [f'      allocatable: {{cpu: "{16 + index}", memory: 64Gi}}', "      maxNodes: 4"]
    lines.append("workloads:")
    for index in range(count):
        cpu = 16 + count - 1 - index % 7 if large else 1 + index % 7
        lines += [f"  - name: job{index}", "    kind: training", '    image: "registry.example/b:1"']
        lines += [f'    resources: {{cpu: "{cpu}", memory: 1Gi}}']
    return "\n".join(lines) + "\n"


def _products_environment(count: int) -> str:
    """N GPU pools told apart by product, each chosen by one workload's gpuProduct (no nodePool)."""
    lines = ["namespace: ml", 'kubernetesVersion: "1.32"', "networkPolicy: {}", "cluster:", "  nodePools:"]
    for index in range(count):
        lines += [f"    - name: g{index}", f"      labels: {{node-pool: g{index}, nvidia.com/gpu.product: GPU-{index}}}"]
        lines += [
            "      taints: [{key: nvidia.com/gpu, value: present}]",
            '      allocatable: {cpu: "94", memory: 1800Gi, gpus: 8}',
        ]
    lines.append("workloads:")
    for index in range(count):
        lines += [f"  - name: t{index}", "    kind: training", '    image: "registry.example/t:1"', "    shmSize: 8Gi"]
        lines += [f'    resources: {{cpu: "8", memory: 64Gi, gpu: 1, gpuProduct: GPU-{index}}}']
    return "\n".join(lines) + "\n"


def _pinned_environment(count: int, tainted: bool) -> str:
    lines = ["namespace: ml", 'kubernetesVersion: "1.32"', "networkPolicy: {}", "cluster:", "  nodePools:"]
    for index in range(count):
        lines += [f"    - name: p{index}", f"      labels: {{node-pool: p{index}}}"]
        if tainted:
            lines.append(f"      taints: [{{key: team-{index}, value: t}}]")
        lines += ['      allocatable: {cpu: "16", memory: 64Gi}', "      maxNodes: 4"]
    lines.append("workloads:")
    for index in range(count):
        lines += [f"  - name: job{index}", "    kind: training", '    image: "registry.example/b:1"']
        lines += ['    resources: {cpu: "1", memory: 1Gi}', f"    nodePool: p{index}"]
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize(
    "environment",
    [
        pytest.param(lambda count: _pinned_environment(count, False), id="labelled pools"),
        pytest.param(lambda count: _pinned_environment(count, True), id="labelled and tainted pools"),
        pytest.param(_products_environment, id="GPU pools chosen by product"),
        pytest.param(_unpinned_environment, id="workloads that may use every pool"),
        pytest.param(lambda count: _unpinned_environment(count, large=True), id="and fit only the last pools"),
    ],
)
def test_rendering_n_workloads_on_n_pools_costs_linear_work(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, environment: Callable[[int], str]
) -> None:
    """Placing each workload (its nodePool by name, or the one GPU pool of its gpuProduct) and the scheduling checks of
    the rendered objects (schedulable, job-pool-capacity: which pools admit each pod) tried every pool for every
    workload; a workload without a nodePool, which may use every untainted pool, had each pool's facts made and every
    pool judged for the largest node of each resource (1,200 of each: 4.6 s, 1.2 s after)."""
    monkeypatch.setenv(SERIAL_SWITCH, "1")
    assert render_growth(tmp_path, environment, 50) < 2.3  # 2.0 measured; 2.7 before
