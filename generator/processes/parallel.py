"""Spread independent work over two processes, where there are two cores and enough work to pay for it.

CI runners and laptops have at least two cores while one Python process uses one. Parsing a
fleet's YAML is most of what `lint` does, and files parse independently, so the second half
is parsed in a forked child and sent back pickled (pickle reads ~10x faster than YAML parses).
Fork, not a process pool: the child starts with everything already imported, in about a
millisecond, which is what lets this pay off on a run that takes half a second.
"""

from __future__ import annotations

import os
import pickle
import signal
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")

# Below this much work (in the caller's units, bytes of YAML for lint) a fork costs more than it saves.
DEFAULT_MIN_WEIGHT = 256 * 1024
SERIAL_SWITCH = "MLGITOPS_PROCESSES"
_splitting = False
"""True while this process is one side of a split: a nested split would only crowd the two cores."""


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # pragma: no cover - not Linux
        return os.cpu_count() or 1


@contextmanager
def one_split() -> Iterator[None]:
    """While this process is one side of a split: ``forking_pays`` says no to a nested one."""
    global _splitting
    _splitting = True
    try:
        yield
    finally:
        _splitting = False


def forking_pays(total_weight: int, min_weight: int = DEFAULT_MIN_WEIGHT) -> bool:
    """Whether a second process is worth starting here for this much work."""
    if os.environ.get(SERIAL_SWITCH) == "1" or _splitting:
        return False
    # Forking a process that runs other threads can leave the child holding their locks.
    return hasattr(os, "fork") and threading.active_count() == 1 and _cores() >= 2 and total_weight >= min_weight


def map_in_two(
    function: Callable[[Item], Result],
    items: Sequence[Item],
    weights: Sequence[int],
    min_weight: int = DEFAULT_MIN_WEIGHT,
    advance: Callable[[int], None] | None = None,
) -> list[Result]:
    """``[function(item) for item in items]``, the later half (by weight) computed in a forked child.

    Results must pickle. Whatever goes wrong in the child (it is killed, it runs out of memory)
    costs only time: its half is then computed here, so the result is always the same.
    ``advance(weight)`` is called as each item of this process is done (the child's half at once,
    when it arrives): a progress line, never part of the result.
    """
    total = sum(weights)
    step = advance or _no_progress
    if len(items) < 2 or not forking_pays(total, min_weight):
        return _each(function, items, weights, step)
    cut, running = 0, 0
    while cut < len(items) - 1 and running + weights[cut] <= total // 2:
        running += weights[cut]
        cut += 1
    cut = max(cut, 1)
    with one_split():
        return _split(function, items, weights, cut, step)


def _split(
    function: Callable[[Item], Result],
    items: Sequence[Item],
    weights: Sequence[int],
    cut: int,
    step: Callable[[int], None],
) -> list[Result]:
    read_end, write_end = os.pipe()
    sys.stdout.flush()
    sys.stderr.flush()
    child = os.fork()
    if child == 0:  # pragma: no cover - runs in the child, which leaves through os._exit
        _child(function, items[cut:], read_end, write_end)
    os.close(write_end)
    with ending_with_this_process(child):
        try:
            first = _each(function, items[:cut], weights[:cut], step)
            with os.fdopen(read_end, "rb") as stream:
                payload = stream.read()
        except BaseException:
            stop_child(child)
            raise
        _, status = os.waitpid(child, 0)
    if status == 0 and payload:
        try:
            second: list[Result] = pickle.loads(payload)
            step(sum(weights[cut:]))
            return first + second
        except (pickle.UnpicklingError, EOFError, ValueError):  # pragma: no cover - a truncated payload
            pass
    return first + _each(function, items[cut:], weights[cut:], step)


def _each(
    function: Callable[[Item], Result], items: Sequence[Item], weights: Sequence[int], step: Callable[[int], None]
) -> list[Result]:
    results = []
    for item, weight in zip(items, weights, strict=True):
        results.append(function(item))
        step(weight)
    return results


def _no_progress(_: int) -> None:
    return None


def _child(function: Callable[[Item], Result], items: Sequence[Item], read_end: int, write_end: int) -> None:  # pragma: no cover
    _send_and_exit(lambda: [function(item) for item in items], read_end, write_end)


def _send_and_exit(compute: Callable[[], object], read_end: int, write_end: int) -> None:  # pragma: no cover
    """In a forked child: send ``compute()`` pickled to the parent and leave through ``os._exit`` (0 when sent).
    Whatever goes wrong costs only time: the parent computes what it did not receive."""
    status = 1
    try:
        os.close(read_end)
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        payload = pickle.dumps(compute(), protocol=pickle.HIGHEST_PROTOCOL)
        with os.fdopen(write_end, "wb") as stream:
            stream.write(payload)
        status = 0
    except BaseException:
        pass
    finally:
        os._exit(status)


@dataclass(frozen=True)
class Ahead(Generic[Result]):
    """Work the caller of a split may need after it (imports, files parsed), done during it by this process while
    the child claims more items: ``prepare()`` runs at most once, never in the child, after the first of this
    process's results for which ``wanted(result)`` holds. Never when nothing is split: there is nothing to overlap
    it with, and the caller does the work itself if and when it needs it. Its result is not kept."""

    prepare: Callable[[], object]
    wanted: Callable[[Result], bool]


# Items handed out one by one through a pipe of 4-byte tokens, written whole before the fork: the pipe holds
# 64 KiB, so up to this many items (more are handed out as fixed halves, ``map_in_two``).
MAX_SHARED_ITEMS = 4096


def map_shared(
    function: Callable[[Item], Result],
    items: Sequence[Item],
    weights: Sequence[int],
    min_weight: int = DEFAULT_MIN_WEIGHT,
    advance: Callable[[int], None] | None = None,
    ahead: Ahead[Result] | None = None,
) -> list[Result]:
    """``[function(item) for item in items]``, the items claimed one at a time, heaviest first, by this process
    and a forked child: for work whose ``weights`` are rough estimates (a policy's cost per object varies
    sevenfold), where a fixed cut leaves one process idle while the other works.

    Each process takes the next item's index from a shared pipe (a read of 4 bytes from a pipe is atomic);
    the child sends back its results by index. Whatever goes wrong in the child costs only time: what it
    did not send back is computed here, so the result is always the same, in the order of ``items``.

    ``ahead`` is work the caller may need after the items, done by this process while the child claims more
    (see :class:`Ahead`).
    """
    total = sum(weights)
    step = advance or _no_progress
    if len(items) < 2 or not forking_pays(total, min_weight):
        return _each(function, items, weights, step)
    if len(items) > MAX_SHARED_ITEMS:
        return map_in_two(function, items, weights, min_weight, advance)
    order = sorted(range(len(items)), key=lambda index: -weights[index])
    tokens, token_writer = os.pipe()
    os.write(token_writer, b"".join(index.to_bytes(4, "little") for index in order))
    os.close(token_writer)
    with one_split():
        return _shared(function, items, weights, tokens, step, ahead)


def _claims(tokens: int) -> Iterator[int]:
    """The indexes this process takes from the token pipe, until it is empty."""
    while token := os.read(tokens, 4):
        yield int.from_bytes(token, "little")


def _shared(
    function: Callable[[Item], Result],
    items: Sequence[Item],
    weights: Sequence[int],
    tokens: int,
    step: Callable[[int], None],
    ahead: Ahead[Result] | None,
) -> list[Result]:
    read_end, write_end = os.pipe()
    sys.stdout.flush()
    sys.stderr.flush()
    child = os.fork()
    if child == 0:  # pragma: no cover - runs in the child, which leaves through os._exit
        _claiming_child(function, items, tokens, read_end, write_end)
    os.close(write_end)
    done: dict[int, Result] = {}
    with ending_with_this_process(child), os.fdopen(read_end, "rb") as stream:
        try:
            waiting = ahead
            for index in _claims(tokens):
                done[index] = result = function(items[index])
                step(weights[index])
                if waiting is not None and waiting.wanted(result):
                    waiting.prepare()
                    waiting = None
            payload = stream.read()
        except BaseException:
            stop_child(child)
            raise
        finally:
            os.close(tokens)
        _, status = os.waitpid(child, 0)
    theirs: dict[int, Result] = {}
    if status == 0 and payload:
        try:
            theirs = pickle.loads(payload)
        except (pickle.UnpicklingError, EOFError, ValueError):  # pragma: no cover - a truncated payload
            theirs = {}
    for index, result in theirs.items():
        done[index] = result
        step(weights[index])
    for index in range(len(items)):
        if index not in done:  # the child took it and did not send it back
            done[index] = function(items[index])
            step(weights[index])
    return [done[index] for index in range(len(items))]


def _claiming_child(
    function: Callable[[Item], Result], items: Sequence[Item], tokens: int, read_end: int, write_end: int
) -> None:  # pragma: no cover
    _send_and_exit(lambda: {index: function(items[index]) for index in _claims(tokens)}, read_end, write_end)


@contextmanager
def ending_with_this_process(child: int) -> Iterator[None]:
    """While forked ``child`` works for this process: a SIGTERM or SIGHUP that ends this process kills the child
    first, then ends this process as it would have (otherwise the child ran on, orphaned, until its share was done).
    SIGINT reaches both (the terminal sends it to the process group) and is handled where each runs."""
    previous: dict[int, Any] = {}

    def stop(signum: int, _: Any) -> None:
        stop_child(child)
        signal.signal(signum, previous[signum])
        os.kill(os.getpid(), signum)

    for ending in (signal.SIGTERM, signal.SIGHUP):
        previous[ending] = signal.signal(ending, stop)
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


def stop_child(child: int) -> None:
    """Kill and reap a forked child whose result is no longer wanted (this side failed or was interrupted)."""
    try:
        os.kill(child, signal.SIGKILL)
        os.waitpid(child, 0)
    except (ProcessLookupError, ChildProcessError):  # pragma: no cover - already gone
        pass


__all__ = [
    "DEFAULT_MIN_WEIGHT",
    "MAX_SHARED_ITEMS",
    "SERIAL_SWITCH",
    "ending_with_this_process",
    "forking_pays",
    "map_in_two",
    "map_shared",
    "stop_child",
]
