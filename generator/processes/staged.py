"""Two-stage work over two processes, where the cut may fall between one item's two stages.

`render` builds each environment (stage one) and then runs the policy catalog over what it
built (stage two). Environments are few and heavy: split whole, three equal ones leave one
process twice the work of the other. Here the second process builds the environment at the cut
first and sends it over at once; this process, after its own environments, runs the catalog
on it. Three environments then split 1.5 : 1.5 instead of 1 : 2.

As in ``parallel.map_in_two`` the child is forked (everything already imported) and sends its
results pickled; whatever goes wrong in it costs only time, as its share is then computed here.
A thread of this process drains the pipe while this process works, so the child never waits
for it to read.
"""

from __future__ import annotations

import os
import pickle
import signal
import sys
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, BinaryIO, Generic, TypeVar

from mlgitops.processes import parallel

Item = TypeVar("Item")
Built = TypeVar("Built")
Result = TypeVar("Result")


@dataclass(frozen=True)
class Cut:
    """This process computes ``items[:at]`` and, if ``inside``, the second stage of ``items[at]``; the child the rest."""

    at: int
    inside: bool


def plan_cut(weights: Sequence[float], first_share: float) -> Cut:
    """The cut that finishes soonest if each item's first stage takes ``first_share`` of its weight.

    Candidates are every boundary between items and every point between an item's two stages;
    at the latter this process may have to wait for the child's first stage before its second.
    On a tie the boundary wins (nothing crosses the pipe early).
    """
    total = sum(weights)
    best: tuple[float, int, Cut] | None = None
    before = 0.0
    for index, weight in enumerate(weights):
        first = weight * first_share
        inside = max(max(before, first) + weight - first, total - before - weight + first)
        candidates = [(inside, 1, Cut(index, True))]
        if index > 0:
            candidates.append((max(before, total - before), 0, Cut(index, False)))
        for candidate in candidates:
            if best is None or candidate[:2] < best[:2]:
                best = candidate
        before += weight
    assert best is not None, "plan_cut needs at least one item"
    return best[2]


def map_staged_in_two(
    first: Callable[[Item], Built],
    second: Callable[[Item, Built], Result],
    items: Sequence[Item],
    weights: Sequence[int],
    *,
    first_share: float,
    min_weight: int,
    advance: Callable[[int], None] | None = None,
) -> list[Result]:
    """``[second(item, first(item)) for item in items]``, split over two processes at ``plan_cut``.

    Built values and results must pickle. ``advance(weight)`` is called as each item is done
    (the child's items at once, when they arrive): a progress line, never part of the result.
    """
    step = advance or (lambda _: None)
    if len(items) < 2 or not parallel.forking_pays(sum(weights), min_weight):
        return [_both(first, second, item, weight, step) for item, weight in zip(items, weights, strict=True)]
    cut = plan_cut(weights, first_share)
    with parallel.one_split():  # a nested split (the catalog's own) would only crowd the two cores
        return _split(first, second, items, weights, cut, step)


def _both(
    first: Callable[[Item], Built], second: Callable[[Item, Built], Result], item: Item, weight: int, step: Callable[[int], None]
) -> Result:
    result = second(item, first(item))
    step(weight)
    return result


@dataclass
class _Received:
    """What the child has sent so far: the built item at the cut (if the cut is inside one), then its results."""

    frames: list[Any] = field(default_factory=list)
    first_arrived: threading.Event = field(default_factory=threading.Event)


class _Drain(Generic[Built]):
    """Reads the child's pickled frames as they come, so that the child never blocks on a full pipe."""

    def __init__(self, stream: BinaryIO) -> None:
        self.received = _Received()
        self.thread = threading.Thread(target=self._read, args=(stream,), daemon=True)
        self.thread.start()

    def _read(self, stream: BinaryIO) -> None:
        try:
            with stream:
                while len(self.received.frames) < 2:
                    self.received.frames.append(pickle.load(stream))
                    self.received.first_arrived.set()
        except Exception:  # a dead or failed child: the missing share is computed here
            pass
        finally:
            self.received.first_arrived.set()

    def built(self) -> list[Built]:
        """The child's first stage of the item at the cut, once it has arrived (an empty list: it never will)."""
        self.received.first_arrived.wait()
        return self.received.frames[:1]

    def results(self) -> list[Any] | None:
        """The child's results, after it has finished (None if it failed)."""
        self.thread.join()
        frames = self.received.frames
        return frames[-1] if len(frames) == 2 else None


def _split(
    first: Callable[[Item], Built],
    second: Callable[[Item, Built], Result],
    items: Sequence[Item],
    weights: Sequence[int],
    cut: Cut,
    step: Callable[[int], None],
) -> list[Result]:
    rest = cut.at + 1 if cut.inside else cut.at
    read_end, write_end = os.pipe()
    sys.stdout.flush()
    sys.stderr.flush()
    child = os.fork()
    if child == 0:  # pragma: no cover - runs in the child, which leaves through os._exit
        _child(first, second, items, cut, read_end, write_end)
    os.close(write_end)
    drain: _Drain[Built] = _Drain(os.fdopen(read_end, "rb"))
    with parallel.ending_with_this_process(child):
        try:
            results = [
                _both(first, second, item, weight, step) for item, weight in zip(items[: cut.at], weights[: cut.at], strict=True)
            ]
            if cut.inside:
                item = items[cut.at]
                built = drain.built()
                results.append(second(item, built[0] if built else first(item)))
                step(weights[cut.at])
            theirs = drain.results()
        except BaseException:
            parallel.stop_child(child)
            raise
        _, status = os.waitpid(child, 0)
    if status == 0 and theirs is not None:
        step(sum(weights[rest:]))
        return results + theirs
    return results + [_both(first, second, item, weight, step) for item, weight in zip(items[rest:], weights[rest:], strict=True)]


def _child(
    first: Callable[[Item], Built],
    second: Callable[[Item, Built], Result],
    items: Sequence[Item],
    cut: Cut,
    read_end: int,
    write_end: int,
) -> None:  # pragma: no cover - runs in the forked child
    status = 1
    try:
        os.close(read_end)
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        with os.fdopen(write_end, "wb") as stream:
            start = cut.at
            if cut.inside:
                pickle.dump(first(items[cut.at]), stream, protocol=pickle.HIGHEST_PROTOCOL)
                stream.flush()
                start += 1
            else:
                pickle.dump(None, stream, protocol=pickle.HIGHEST_PROTOCOL)  # no first stage crosses: keeps two frames
            pickle.dump([second(item, first(item)) for item in items[start:]], stream, protocol=pickle.HIGHEST_PROTOCOL)
        status = 0
    except BaseException:
        pass  # this process's share is computed by the parent; nothing the child knows is lost
    finally:
        os._exit(status)


__all__ = ["Cut", "map_staged_in_two", "plan_cut"]
