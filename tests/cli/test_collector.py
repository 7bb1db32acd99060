"""The cyclic garbage collector: off for a command, back on for in-process callers, never turned on to exit.

Turning it back on is not free: the next allocation starts a collection of the youngest generation, which by
then is every object the command allocated and that reference counting did not free (about 2.9 million after a
lint of the benchmark's dirty N = 1000 tree). The console script leaves through ``os._exit`` right after, so
that scan only delays the exit; ``mlgitops.cli.main`` (tests, the Python API) must leave the collector as the
process had it.
"""

from __future__ import annotations

import gc
import subprocess
import sys

import pytest

from mlgitops.cli import main
from tests.support import REPO

# Counts every collection from just before the console script runs to the process's end; printed by an atexit
# hook would never run (os._exit), so each one is written to stderr as it starts.
CONSOLE_SCRIPT = """
import gc, os, sys
from mlgitops.cli import entry
gc.callbacks.append(lambda phase, info: os.write(2, b"collection\\n") if phase == "start" else None)
sys.argv = ["mlgitops", *sys.argv[1:]]
entry()
"""


@pytest.mark.parametrize("args", [("lint", "tests/manifests"), ("render", "--check"), ("--version",)])
def test_the_console_script_runs_no_collection_from_start_to_exit(args: tuple[str, ...]) -> None:
    done = subprocess.run(
        [sys.executable, "-c", CONSOLE_SCRIPT, *args], cwd=REPO, capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode in (0, 1), done.stderr
    assert done.stdout or "rendered/" in done.stderr  # the command ran and said what it did
    assert "collection" not in done.stderr.splitlines()


def test_main_gives_the_collector_back_to_in_process_callers() -> None:
    assert gc.isenabled()
    with pytest.raises(SystemExit) as exited:
        main(["--version"])
    assert exited.value.code == 0
    assert gc.isenabled()
