"""Work split over two processes gives exactly the serial result, whatever happens to the child."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest

from mlgitops.inputs import collect as lint_inputs
from mlgitops.processes import parallel
from mlgitops.processes.parallel import map_in_two, map_shared
from tests.support import REPO, run_cli, write

PARENT = os.getpid()


@pytest.fixture(autouse=True)
def two_cores(monkeypatch: pytest.MonkeyPatch) -> None:
    # The split must be exercised even on a one-core runner: the decision is tested separately.
    monkeypatch.setattr(parallel, "_cores", lambda: 2)
    monkeypatch.delenv(parallel.SERIAL_SWITCH, raising=False)


def square_and_where(number: int) -> tuple[int, int]:
    return number * number, os.getpid()


def test_the_later_half_is_computed_in_another_process_in_order() -> None:
    results = map_in_two(square_and_where, list(range(10)), [1] * 10, min_weight=0)
    assert [value for value, _ in results] == [n * n for n in range(10)]
    processes = [pid for _, pid in results]
    assert processes[:5] == [PARENT] * 5
    assert len(set(processes[5:])) == 1
    assert processes[5] != PARENT


def test_weights_decide_where_the_cut_falls() -> None:
    heavy_first = map_in_two(square_and_where, [1, 2, 3, 4, 5], [10, 1, 1, 1, 1], min_weight=0)
    assert [pid == PARENT for _, pid in heavy_first] == [True, False, False, False, False]
    heavy_last = map_in_two(square_and_where, [1, 2, 3, 4, 5], [1, 1, 1, 1, 10], min_weight=0)
    assert [pid == PARENT for _, pid in heavy_last] == [True, True, True, True, False]


def test_little_work_one_core_or_the_switch_stay_in_this_process(monkeypatch: pytest.MonkeyPatch) -> None:
    assert {pid for _, pid in map_in_two(square_and_where, [1, 2, 3], [1, 1, 1], min_weight=10)} == {PARENT}
    monkeypatch.setenv(parallel.SERIAL_SWITCH, "1")
    assert {pid for _, pid in map_in_two(square_and_where, [1, 2, 3], [1, 1, 1], min_weight=0)} == {PARENT}
    monkeypatch.delenv(parallel.SERIAL_SWITCH)
    monkeypatch.setattr(parallel, "_cores", lambda: 1)
    assert not parallel.forking_pays(10**9)


def dies_in_the_child(number: int) -> int:
    if os.getpid() != PARENT:
        os.kill(os.getpid(), signal.SIGKILL)
    return number + 1


def raises_in_the_child(number: int) -> int:
    if os.getpid() != PARENT:
        raise MemoryError
    return number + 1


@pytest.mark.parametrize("function", [dies_in_the_child, raises_in_the_child])
def test_a_child_that_dies_costs_time_not_results(function: object) -> None:
    assert map_in_two(function, [1, 2, 3, 4], [1, 1, 1, 1], min_weight=0) == [2, 3, 4, 5]  # type: ignore[arg-type]


def fails_here(number: int) -> int:
    if os.getpid() == PARENT and number == 0:
        raise ValueError("parent half failed")
    return number


def test_a_failure_in_this_process_stops_and_reaps_the_child() -> None:
    with pytest.raises(ValueError, match="parent half failed"):
        map_in_two(fails_here, [0, 1, 2, 3], [1, 1, 1, 1], min_weight=0)
    with pytest.raises(ChildProcessError):
        os.waitpid(-1, os.WNOHANG)  # no child left behind


def test_located_errors_cross_the_process_boundary(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(lint_inputs, "PARSE_IN_TWO_FROM", 0)
    for index in range(6):
        write(tmp_path / f"{index}.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n")
    write(tmp_path / "9-broken.yaml", "apiVersion: v1\nkind: Pod\nmetadata:\n  name: a\n  name: b\n")
    found = lint_inputs.collect([str(tmp_path)])
    [error] = found.errors  # the broken file's own located error; the others are still read
    assert error.location is not None
    assert (error.location.file.endswith("9-broken.yaml"), error.location.line) == (True, 5)
    assert len(found.manifests) == 6


def test_the_committed_fleet_reads_the_same_in_one_process_and_in_two(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(lint_inputs, "PARSE_IN_TWO_FROM", 0)
    split = lint_inputs.collect([str(REPO / "rendered")])
    monkeypatch.setenv(parallel.SERIAL_SWITCH, "1")
    serial = lint_inputs.collect([str(REPO / "rendered")])
    assert [(m.file, m.document, m.obj) for m in split.manifests] == [(m.file, m.document, m.obj) for m in serial.manifests]
    assert split.files == serial.files > 50


def test_lint_output_does_not_depend_on_the_split(tmp_path: Path) -> None:
    # Above the threshold for real: 300 KB of manifests, one with a finding at a known line.
    body = "".join(
        f"---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings-{index}\n  namespace: ml\n"
        f"data:\n  note: '{'x' * 200}'\n"
        for index in range(40)
    )
    for index in range(30):
        write(tmp_path / "manifests" / f"config-{index:02}.yaml", body)
    write(
        tmp_path / "manifests" / "zz-pod.yaml",
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: ml}\nspec:\n  containers:\n  - {name: c, image: 'x:latest'}\n",
    )
    split = run_cli("lint", "manifests", "--format", "json", cwd=tmp_path)
    serial = run_cli("lint", "manifests", "--format", "json", cwd=tmp_path, env={parallel.SERIAL_SWITCH: "1"})
    assert split.exit_code == serial.exit_code == 1
    assert split.stdout == serial.stdout
    assert '"file": "manifests/zz-pod.yaml"' in split.stdout


def _tree(folder: Path) -> dict[str, bytes]:
    return {str(path.relative_to(folder)): path.read_bytes() for path in sorted(folder.rglob("*")) if path.is_file()}


def test_environments_rendered_in_two_processes_write_the_same_bytes(tmp_path: Path) -> None:
    from benchmarks.fleet import write_fleet

    write_fleet(tmp_path / "environments", 12)  # 36 workloads: above the split threshold
    split = run_cli("render", "--output", "split", cwd=tmp_path)
    serial = run_cli("render", "--output", "serial", cwd=tmp_path, env={parallel.SERIAL_SWITCH: "1"})
    assert (split.exit_code, serial.exit_code) == (0, 0), split.stderr + serial.stderr
    split_files = _tree(tmp_path / "split")
    assert split_files == _tree(tmp_path / "serial")
    assert len(split_files) > 100
    assert run_cli("render", "--output", "split", "--check", cwd=tmp_path).exit_code == 0


def test_errors_of_environments_rendered_apart_are_reported_together(tmp_path: Path) -> None:
    from benchmarks.fleet import write_fleet

    write_fleet(tmp_path / "environments", 12)
    for name in ("dev", "prod"):
        path = tmp_path / "environments" / f"{name}.yaml"
        path.write_text(path.read_text().replace("extends: base.yaml", "extends: base.yaml\nkubernetesVersion: '1.10'"))
    result = run_cli("render", cwd=tmp_path)
    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    assert [line.split(":")[1].strip() for line in lines] == ["environments/dev.yaml", "environments/prod.yaml"]
    assert all("kubernetesVersion" in line or "1.10" in line for line in lines), result.stderr
    assert not (tmp_path / "rendered").exists()


def test_a_fleet_of_environments_is_split_and_a_small_one_is_not(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from benchmarks.fleet import write_fleet
    from mlgitops.fleet.run import RENDER_IN_TWO_FROM, render_fleet
    from mlgitops.load.environments import load_environments

    forks: list[int] = []
    real_fork = os.fork

    def counted_fork() -> int:
        forks.append(1)
        return real_fork()

    monkeypatch.setattr(os, "fork", counted_fork)
    # Only render's split between environments is counted here: the policy step splits its own work by its own
    # measure (policy/engine.py EVALUATE_IN_TWO_FROM, test_policies_are_split_into_two_halves_of_about_equal_work),
    # and the example fleet has grown past it.
    monkeypatch.setattr("mlgitops.policy.engine.EVALUATE_IN_TWO_FROM", 10**12)
    write_fleet(tmp_path / "environments", 12)
    fleet = render_fleet(load_environments(tmp_path / "environments"), tmp_path / "rendered", [])
    assert [output.name for output in fleet.outputs] == ["dev", "prod", "staging"]
    assert forks == [1]
    small = render_fleet(load_environments(REPO / "environments"), REPO / "rendered", [])
    assert sum(len(loaded.spec.workloads) for loaded in load_environments(REPO / "environments")) < RENDER_IN_TWO_FROM
    assert forks == [1]
    assert [output.name for output in small.outputs] == ["dev", "prod", "staging"]


def test_each_policy_is_weighed_by_the_objects_it_selects() -> None:
    from mlgitops.kube.manifest import Manifest
    from mlgitops.policy.catalog import load_folders, shipped_catalog
    from mlgitops.policy.engine import BUILT_IN_CHECK_COST, _weights
    from mlgitops.policy.model import PolicyContext, SelectionKey, selection_key

    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": {"containers": [{"name": "c"}]}}
    service = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s"}, "spec": {}}
    manifests = [Manifest(pod, "a.yaml"), Manifest(service, "b.yaml")] * 50
    groups: dict[SelectionKey, list[int]] = {}
    for position, manifest in enumerate(manifests):
        groups.setdefault(selection_key(manifest, PolicyContext()), []).append(position)
    policies = load_folders([shipped_catalog()]).active()
    weights = dict(zip((p.id for p in policies), _weights(policies, groups), strict=True))
    assert weights["api-validation"] == 100 * BUILT_IN_CHECK_COST  # every object, a built-in check
    assert weights["resources-requests"] <= 100  # a schema policy: the objects it selects, not multiplied
    assert min(weights.values()) >= 1


def square_slowly(number: int) -> tuple[int, int]:
    time.sleep(0.2 if number == 0 else 0.005)
    return square_and_where(number)


def test_shared_items_are_claimed_by_both_processes_and_come_back_in_order() -> None:
    # Uneven work: one heavy item and many light ones; with fixed halves one side would do nearly all of it.
    results = map_shared(square_slowly, list(range(40)), [1000] + [1] * 39, min_weight=0)
    assert [value for value, _ in results] == [n * n for n in range(40)]
    processes = {pid for _, pid in results}
    assert PARENT in processes
    assert len(processes) == 2


@pytest.mark.parametrize("function", [dies_in_the_child, raises_in_the_child])
def test_a_sharing_child_that_dies_costs_time_not_results(function: object) -> None:
    results = map_shared(function, list(range(12)), [1] * 12, min_weight=0)  # type: ignore[arg-type]
    assert results == [n + 1 for n in range(12)]


def fails_here_slow_there(number: int) -> int:
    if os.getpid() == PARENT:
        raise ValueError("parent half failed")
    time.sleep(0.5)
    return number


def test_a_failure_in_this_process_stops_and_reaps_the_sharing_child() -> None:
    # Whichever process claims an item first is a race: this process fails on any item it claims, and the child
    # takes half a second over each, so this process surely claims one (failing only on item 0 failed at random
    # in CI when the child claimed it first).
    with pytest.raises(ValueError, match="parent half failed"):
        map_shared(fails_here_slow_there, list(range(20)), [1] * 20, min_weight=0)


def test_sharing_stays_in_this_process_for_little_work_and_cuts_halves_past_the_pipe(monkeypatch: pytest.MonkeyPatch) -> None:
    assert {pid for _, pid in map_shared(square_and_where, [1, 2, 3], [1, 1, 1], min_weight=10)} == {PARENT}
    monkeypatch.setattr(parallel, "MAX_SHARED_ITEMS", 4)
    results = map_shared(square_and_where, list(range(10)), [1] * 10, min_weight=0)
    assert [pid for _, pid in results][:5] == [PARENT] * 5  # map_in_two's fixed halves


def test_ahead_runs_once_here_while_the_child_claims(tmp_path: Path) -> None:
    # Ahead.prepare() is work this process may need next (lint's imports for sources): never run in the child, and
    # the child claims items meanwhile, so that while it takes longer than every item, the child does them all.
    marks = tmp_path / "prepared"

    def prepare() -> None:
        with marks.open("a") as stream:
            stream.write(f"{os.getpid()}\n")
        time.sleep(2.5)

    ahead = parallel.Ahead(prepare, lambda result: True)
    # Items are instant here and take 0.1 s in the child: this process surely claims one while the child sleeps.
    results = map_shared(square_slowly_there, list(range(20)), [1] * 20, min_weight=0, ahead=ahead)
    assert [value for value, _ in results] == [n * n for n in range(20)]
    assert marks.read_text().split() == [str(PARENT)]
    assert sum(pid == PARENT for _, pid in results) < 10  # the child did more than its half


def test_ahead_waits_for_a_result_that_wants_it() -> None:
    prepared: list[int] = []
    wanted = parallel.Ahead(lambda: prepared.append(1), lambda result: result[0] == 49)
    results = map_shared(square_slowly_light, list(range(8)), [1] * 8, min_weight=0, ahead=wanted)
    assert [value for value, _ in results] == [n * n for n in range(8)]
    assert prepared == ([1] if (49, PARENT) in results else [])
    never = parallel.Ahead(lambda: prepared.append(2), lambda result: False)
    map_shared(square_slowly_light, list(range(8)), [1] * 8, min_weight=0, ahead=never)
    assert 2 not in prepared


@pytest.mark.parametrize(("size", "min_weight", "max_items"), [(3, 10, 4096), (10, 0, 4)])
def test_ahead_is_left_to_the_caller_when_nothing_is_shared(
    monkeypatch: pytest.MonkeyPatch, size: int, min_weight: int, max_items: int
) -> None:
    monkeypatch.setattr(parallel, "MAX_SHARED_ITEMS", max_items)
    prepared: list[int] = []
    numbers = list(range(size))
    ahead = parallel.Ahead(lambda: prepared.append(1), lambda result: True)
    results = map_shared(square_and_where, numbers, [1] * size, min_weight=min_weight, ahead=ahead)
    assert [value for value, _ in results] == [n * n for n in range(size)]
    assert prepared == []


def square_slowly_there(number: int) -> tuple[int, int]:
    if os.getpid() != PARENT:
        time.sleep(0.1)
    return square_and_where(number)


def square_slowly_light(number: int) -> tuple[int, int]:
    time.sleep(0.01)
    return square_and_where(number)


TERMINATED_SPLIT = """
import os, sys, time
from mlgitops.processes import parallel
parallel._cores = lambda: 2
PARENT = os.getpid()
def work(n):
    if os.getpid() != PARENT:
        with open(sys.argv[1], "a") as record:
            record.write(f"{os.getpid()}\\n")
    time.sleep(0.2)
    return n
split = parallel.map_shared if sys.argv[2] == "shared" else parallel.map_in_two
split(work, list(range(200)), [1] * 200, min_weight=0)
"""
# The child's share takes 20 s or more: left running, it would outlive the 10 s the test waits for it to end.


@pytest.mark.parametrize("split", ["shared", "halves"])
def test_a_terminated_process_takes_its_child_along(tmp_path: Path, split: str) -> None:
    """SIGTERM (a CI job cancelled, `timeout`) ended the parent and left the forked child running, orphaned, until
    its share was done."""
    import subprocess
    import sys

    record = tmp_path / "child.txt"
    process = subprocess.Popen([sys.executable, "-c", TERMINATED_SPLIT, str(record), split])
    deadline = time.monotonic() + 20
    while not (record.exists() and record.read_text().strip()) and time.monotonic() < deadline:
        time.sleep(0.02)
    child = int(record.read_text().split()[0])
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=10) == -signal.SIGTERM
    # The child is killed as the parent goes; on a busy machine it may take a moment to exit (a CI run of three suites
    # at once saw it still there right after the parent), and once dead it waits for init to reap it.
    deadline = time.monotonic() + 10
    while not _ended(child) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert _ended(child)


def _ended(pid: int) -> bool:
    """Whether process ``pid`` no longer runs: gone, or dead and not yet reaped (a zombie, state Z or X)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except (OSError, IndexError):
        return True
    return state in ("Z", "X")
