"""What a ClusterQueue may borrow is what the other queues of its cohort lend, summed in their order from 0.

``kube.kueue_admission`` sums a cohort's lending once (``Lending``) and gives each queue the total less its own
share, which is the same Decimal, written the same way, whenever no sum rounds; otherwise it adds the others up.
Hypothesis draws cohorts whose amounts range from nano to past Decimal's 28 digits, and holds each queue's capacity
to the plain sum over the other queues (the definition, ``_lent_by_folding``).
"""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from mlgitops.kube.kueue_admission import _lent_by_folding, capacity
from mlgitops.kube.kueue_queues import ClusterQueue, Queues, Quota, ResourceGroup

AMOUNTS = st.sampled_from(
    ["0", "1", "4", "0.5", "2.50", "1E+3", "4E-9", "9000000000000000000", "9000000000000000000.000000003", "1E+40", "7"]
).map(Decimal)
QUOTA = st.builds(Quota, nominal=AMOUNTS, borrowing_limit=st.none() | AMOUNTS, lending_limit=st.none() | AMOUNTS)
FLAVORS = st.lists(
    st.tuples(st.sampled_from(["a", "b"]), st.dictionaries(st.sampled_from(["cpu", "memory"]), QUOTA, max_size=2)),
    min_size=1,
    max_size=3,
)


def _queue(name: str, flavors: list[tuple[str, dict[str, Quota]]], cohort: str | None) -> ClusterQueue:
    return ClusterQueue(name, (ResourceGroup(("cpu", "memory"), tuple(flavors)),), cohort)


def _by_folding(queue: ClusterQueue, queues: Queues) -> dict[tuple[str, str], Decimal | None]:
    """The capacity as defined: what the cohort's other queues lend, summed over them in order."""
    others = [q for q in queues.cluster_queues.values() if q is not None and q.cohort == queue.cohort and q != queue]
    found: dict[tuple[str, str], Decimal | None] = {}
    for flavor_name, resource, quota in queue.quotas():
        if queue.cohort is None:
            found[(flavor_name, resource)] = quota.nominal
            continue
        lent = _lent_by_folding(flavor_name, resource, others)
        if quota.borrowing_limit is None:
            found[(flavor_name, resource)] = quota.nominal + lent if others else None
        else:
            borrowed = min(quota.borrowing_limit, lent) if others else quota.borrowing_limit
            found[(flavor_name, resource)] = quota.nominal + borrowed
    return found


@given(cohort=st.lists(FLAVORS, min_size=1, max_size=6), outsider=FLAVORS, data=st.data())
def test_each_queue_borrows_what_the_others_lend(
    cohort: list[list[tuple[str, dict[str, Quota]]]], outsider: list[tuple[str, dict[str, Quota]]], data: st.DataObject
) -> None:
    queues = Queues(cluster_queues={f"q{index}": _queue(f"q{index}", flavors, "c") for index, flavors in enumerate(cohort)})
    asked = [*queues.cluster_queues.values(), _queue("new", outsider, "c"), _queue("q0", outsider, "c")]
    for queue in asked:
        assert queue is not None
        expected = _by_folding(queue, queues)
        found = capacity(queue, queues)
        assert found == expected
        assert {key: str(value) for key, value in found.items()} == {key: str(value) for key, value in expected.items()}
