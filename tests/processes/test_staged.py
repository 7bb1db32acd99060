"""Two-stage work split over two processes, cut between one item's stages, gives exactly the serial result."""

from __future__ import annotations

import os
import signal

import pytest

from mlgitops.processes import parallel
from mlgitops.processes.staged import Cut, map_staged_in_two, plan_cut

PARENT = os.getpid()


@pytest.fixture(autouse=True)
def two_cores(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parallel, "_cores", lambda: 2)
    monkeypatch.delenv(parallel.SERIAL_SWITCH, raising=False)


def built_where(number: int) -> tuple[int, int]:
    return number * 10, os.getpid()


def checked_where(number: int, built: tuple[int, int]) -> tuple[int, int, int]:
    return built[0] + number, built[1], os.getpid()


def test_three_equal_items_cut_inside_the_middle_one() -> None:
    assert plan_cut([1000, 1000, 1000], 0.5) == Cut(1, inside=True)
    results = map_staged_in_two(built_where, checked_where, [1, 2, 3], [1, 1, 1], first_share=0.5, min_weight=0)
    assert [value for value, _, _ in results] == [11, 22, 33]
    (_, first_0, second_0), (_, first_1, second_1), (_, first_2, second_2) = results
    assert first_0 == second_0 == PARENT
    assert first_1 != PARENT
    assert second_1 == PARENT
    assert first_2 == second_2 == first_1


@pytest.mark.parametrize(
    ("weights", "cut"),
    [
        ([1, 1], Cut(1, inside=False)),
        ([1, 1, 1, 1], Cut(2, inside=False)),
        ([10, 1, 1], Cut(1, inside=False)),  # the heavy item alone here, on a tie the boundary wins
        ([1, 1, 1, 1, 1], Cut(2, inside=True)),  # 2.5 : 2.5
        ([1, 1, 10], Cut(2, inside=False)),  # the heavy item cannot be shared: its check waits for its build
        ([5], Cut(0, inside=True)),
    ],
)
def test_the_cut_balances_the_two_processes(weights: list[int], cut: Cut) -> None:
    assert plan_cut(weights, 0.5) == cut


def test_little_work_or_the_switch_stay_in_this_process(monkeypatch: pytest.MonkeyPatch) -> None:
    results = map_staged_in_two(built_where, checked_where, [1, 2, 3], [1, 1, 1], first_share=0.5, min_weight=10)
    assert {pid for _, first, second in results for pid in (first, second)} == {PARENT}
    monkeypatch.setenv(parallel.SERIAL_SWITCH, "1")
    results = map_staged_in_two(built_where, checked_where, [1, 2, 3], [1, 1, 1], first_share=0.5, min_weight=0)
    assert {pid for _, first, second in results for pid in (first, second)} == {PARENT}


def builds_nothing_in_the_child(number: int) -> int:
    if os.getpid() != PARENT:
        os.kill(os.getpid(), signal.SIGKILL)
    return number


def checks_nothing_in_the_child(number: int, built: tuple[int, int]) -> tuple[int, int, int]:
    if os.getpid() != PARENT:
        raise MemoryError
    return checked_where(number, built)


def test_a_child_that_dies_before_sending_anything_costs_time_not_results() -> None:
    results = map_staged_in_two(
        builds_nothing_in_the_child,
        lambda n, built: (n + built, os.getpid()),
        [1, 2, 3],
        [1, 1, 1],
        first_share=0.5,
        min_weight=0,
    )
    assert results == [(2, PARENT), (4, PARENT), (6, PARENT)]


def test_a_child_that_fails_after_sending_the_cut_item_costs_time_not_results() -> None:
    results = map_staged_in_two(built_where, checks_nothing_in_the_child, [1, 2, 3], [1, 1, 1], first_share=0.5, min_weight=0)
    assert [value for value, _, _ in results] == [11, 22, 33]
    assert [second for _, _, second in results] == [PARENT] * 3
    assert results[1][1] != PARENT  # what the child built before failing is used, the rest is computed here
    assert results[2][1] == PARENT


def fails_here(number: int, built: tuple[int, int]) -> int:
    if os.getpid() == PARENT and number == 1:
        raise ValueError("parent share failed")
    return number


def test_a_failure_in_this_process_stops_and_reaps_the_child() -> None:
    with pytest.raises(ValueError, match="parent share failed"):
        map_staged_in_two(built_where, fails_here, [1, 2, 3], [1, 1, 1], first_share=0.5, min_weight=0)
    with pytest.raises(ChildProcessError):
        os.waitpid(-1, os.WNOHANG)  # no child left behind
    assert not parallel._splitting
