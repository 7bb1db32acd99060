"""Timing and memory: each command runs in a fresh wrapper process that reports wall time, CPU and peak RSS."""

from __future__ import annotations

import json
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from paths import REPO, VENV_BIN

# resident memory of its children (kilobytes on Linux) and their CPU time.
WRAPPER = r"""
import json, resource, subprocess, sys, time
spec = json.load(sys.stdin)
codes = []
with open(spec["stdout"], "wb") as out, open(spec["stderr"], "wb") as err:
    feed = open(spec["stdin"], "rb") if spec["stdin"] else subprocess.DEVNULL
    start = time.perf_counter()
    for step in spec["steps"]:
        codes.append(subprocess.run(step, stdin=feed, stdout=out, stderr=err, cwd=spec["cwd"]).returncode)
    seconds = time.perf_counter() - start
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({"seconds": seconds, "max_rss_kb": usage.ru_maxrss,
                  "cpu_seconds": usage.ru_utime + usage.ru_stime, "exit_codes": codes}))
"""


@dataclass
class Command:
    """One row of the table: processes timed together, and what counts as a normal exit."""

    key: str
    label: str
    steps: list[list[str]]
    ok_exit_codes: frozenset[int] = frozenset({0})
    prepare: Callable[[], None] | None = None
    """Untimed set-up before every run (e.g. emptying the output folder)."""
    unavailable: str | None = None
    """Why the command cannot run here (a peer that is not installed); None when it can."""
    rounds: int | None = None
    """At most this many timed runs and no warm-up (a peer too slow to repeat at this size)."""
    stdin: Path | None = None
    """A file fed to the (one) step on standard input, e.g. a whole fleet as one stream for `lint -`."""


@dataclass
class Row:
    """Measurements of one command: medians and ranges over the timed runs."""

    key: str
    label: str
    status: str  # "ok", "unavailable" or "failed"
    reason: str = ""
    runs: list[float] = field(default_factory=list)
    median_s: float | None = None
    min_s: float | None = None
    max_s: float | None = None
    peak_mb: float | None = None
    cpu_s: float | None = None
    exit_codes: list[int] = field(default_factory=list)
    processes: int = 0


def mlgitops() -> list[str]:
    return [str(VENV_BIN / "mlgitops")]


def find_tool(name: str, *extra_places: Path) -> str | None:
    for place in (VENV_BIN, *extra_places):
        if (place / name).exists():
            return str(place / name)
    return shutil.which(name)


def run_once(command: Command, logs: Path) -> dict[str, Any]:
    if command.prepare is not None:
        command.prepare()
    spec = {
        "steps": command.steps,
        "cwd": str(REPO),
        "stdout": str(logs / f"{command.key}.out"),
        "stderr": str(logs / f"{command.key}.err"),
        "stdin": str(command.stdin) if command.stdin is not None else "",
    }
    # The spec goes on stdin: a file list of a large fleet exceeds the 128 KiB limit of one argument.
    completed = subprocess.run(
        [sys.executable, "-c", WRAPPER], input=json.dumps(spec), capture_output=True, text=True, check=True
    )
    result: dict[str, Any] = json.loads(completed.stdout)
    return result


def measure(commands: list[Command], runs: int, warmups: int, logs: Path, say: Callable[[str], None]) -> list[Row]:
    """Interleaved rounds: every command once per round; the first `warmups` rounds are discarded."""
    rows = {c.key: Row(c.key, c.label, "unavailable" if c.unavailable else "ok", c.unavailable or "") for c in commands}
    peaks: dict[str, list[float]] = {c.key: [] for c in commands}
    cpus: dict[str, list[float]] = {c.key: [] for c in commands}
    for round_index in range(warmups + runs):
        for command in commands:
            row = rows[command.key]
            if row.status != "ok":
                continue
            if command.rounds is not None and not 0 <= round_index - warmups < command.rounds:
                continue
            started = time.perf_counter()
            result = run_once(command, logs)
            row.processes = len(command.steps)
            bad = sorted({code for code in result["exit_codes"] if code not in command.ok_exit_codes})
            if bad:
                row.status = "failed"
                stderr = (logs / f"{command.key}.err").read_text(encoding="utf-8", errors="replace")
                row.reason = f"exit {bad[0]}: {stderr.strip()[-400:]}"
                row.exit_codes = result["exit_codes"]
                say(f"  {command.label}: FAILED ({row.reason.splitlines()[0]})")
                continue
            if round_index < warmups:
                continue
            row.runs.append(result["seconds"])
            peaks[command.key].append(result["max_rss_kb"] / 1024)
            cpus[command.key].append(result["cpu_seconds"])
            row.exit_codes = sorted(set(row.exit_codes) | set(result["exit_codes"]))
            say(f"  round {round_index - warmups + 1}/{runs} {command.label}: {time.perf_counter() - started:.2f} s")
    for key, row in rows.items():
        if row.status == "ok" and row.runs:
            row.median_s = statistics.median(row.runs)
            row.min_s = min(row.runs)
            row.max_s = max(row.runs)
            row.peak_mb = max(peaks[key])
            row.cpu_s = statistics.median(cpus[key])
    return list(rows.values())
