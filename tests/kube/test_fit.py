"""Whether pods fit a node, and a pool at maxNodes (kube/fit.py): the one answer the spec checks and the policy
checks word their messages from."""

from __future__ import annotations

from decimal import Decimal

from mlgitops.kube.cluster import NodePoolFacts
from mlgitops.kube.fit import node_fit, pool_shortfall

GIB = Decimal(2**30)
CPU = NodePoolFacts("cpu", allocatable={"cpu": Decimal(32), "memory": 256 * GIB}, max_nodes=10)
GPU = NodePoolFacts("gpu", allocatable={"cpu": Decimal(8), "memory": 64 * GIB, "nvidia.com/gpu": Decimal(8)}, max_nodes=2)


def test_a_pod_fits_when_one_node_of_some_pool_holds_all_of_its_requests() -> None:
    fit = node_fit({"cpu": Decimal(16), "memory": 32 * GIB}, [GPU, CPU])
    assert fit.fits
    assert fit.shortfalls == ()


def test_each_resource_no_node_holds_names_the_pool_with_the_most_of_it() -> None:
    fit = node_fit({"cpu": Decimal(64), "memory": GIB, "nvidia.com/gpu": Decimal(16)}, [CPU, GPU])
    assert not fit.fits
    assert [(short.resource, short.pool.name, short.available) for short in fit.shortfalls] == [
        ("cpu", "cpu", Decimal(32)),
        ("nvidia.com/gpu", "gpu", Decimal(8)),
    ]


def test_requests_that_fit_nodes_one_by_one_but_no_node_at_once() -> None:
    fit = node_fit({"cpu": Decimal(16), "nvidia.com/gpu": Decimal(1)}, [CPU, GPU])
    assert not fit.fits
    assert fit.shortfalls == ()


def test_pods_overflow_a_pool_at_max_nodes_accelerators_first() -> None:
    short = pool_shortfall({"cpu": Decimal(100), "nvidia.com/gpu": Decimal(24)}, [GPU])
    assert short is not None
    assert (short.resource, short.requested, short.available, short.per_node) == (
        "nvidia.com/gpu",
        Decimal(24),
        Decimal(16),
        Decimal(8),
    )
    assert pool_shortfall({"cpu": Decimal(16), "nvidia.com/gpu": Decimal(16)}, [GPU]) is None


def test_the_pool_holding_the_most_is_judged_and_an_unbounded_pool_takes_anything() -> None:
    short = pool_shortfall({"cpu": Decimal(400)}, [GPU, CPU])
    assert short is not None
    assert (short.pool.name, short.available) == ("cpu", Decimal(320))
    unbounded = NodePoolFacts("any", allocatable={"cpu": Decimal(4)})
    assert pool_shortfall({"cpu": Decimal(400)}, [GPU, unbounded]) is None
