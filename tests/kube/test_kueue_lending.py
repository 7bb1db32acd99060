"""What a ClusterQueue may borrow is what the other queues of its cohort lend, summed in their order from 0.

``kube.kueue_admission`` sums a cohort's lending once (``Lending``) and gives each queue the total less its own
share, which is the same Decimal, written the same way, whenever no sum rounds; otherwise it adds the others up.
Hypothesis draws cohorts whose amounts range from nano to past Decimal's 28 digits, and holds each queue's capacity
to the plain sum over the other queues (the definition, ``_lent_by_folding``, which it falls back to).
"""

from __future__ import annotations

from decimal import Decimal
from unittest.mock import patch

from hypothesis import given
from hypothesis import strategies as st

from mlgitops.kube import kueue_admission
from mlgitops.kube.kueue_admission import capacity
from mlgitops.kube.kueue_queues import ClusterQueue, Queues, Quota, ResourceGroup

AMOUNTS = st.sampled_from(
    ["0", "1", "4", "0.5", "2.50", "1E+3", "4E-9", "9000000000000000000", "9000000000000000000.000000003", "1E+40", "7", "-3"]
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
    """The capacity as defined: with no cohort summary, every queue's borrowing is summed over the others, in order."""
    with patch.object(kueue_admission, "_cohort_lending", lambda cohort, queues: {}):
        return kueue_admission._capacity(queue, queues)


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
