"""Side-by-side benchmark of mlgitops against the tools it replaces, on one generated fleet.

For each fleet size N (workloads per environment, 3 environments) this script writes the fleet
(benchmarks/fleet.py), renders it once (which also proves the fleet is valid), copies the
rendered tree and seeds it with known faults for `mlgitops lint`, and then times whole
processes on that same tree:

    mlgitops render (into an empty folder), render --check (nothing changed), lint;
    kubectl kustomize of every kustomize root; the kubernetes-validate CLI (strict);
    checkov --framework kubernetes (when installed); and four floors: a Python process that
    only loads every file with PyYAML's C loader, one that only writes the same objects with
    PyYAML's C dumper, and the same two with yaml-rs (the engine mlgitops reads with).
    Start-up (`mlgitops --version` vs `python -c "import click"`) does not depend on N and is
    measured once. Above --slow-peers-up-to (default 1000), kubernetes-validate and checkov are
    not run (a quarter of an hour per run at N = 10,000) and kubectl kustomize runs once, over
    every shard root.

Each command runs in its own fresh wrapper process that times it and reads its peak memory
from getrusage(RUSAGE_CHILDREN): ru_maxrss of children is the maximum over every child the
caller ever waited for, so only a wrapper with no other children gives a per-command figure.
Rounds are interleaved (every command once per round, round 0 a discarded warm-up) so that a
slow spell of the machine does not land on one tool only.

Issue 30's shapes (benchmarks/shapes.py) follow: for each fleet size up to --shapes-up-to, the
dirty corpus (findings in most files) and the fleet as one stream on stdin; with --objects, one
file of N small Deployments against the same N objects as N files; with --findings K, a ConfigMap
of K against one of 4K findings (and a Secret and a ConfigMap of placeholders likewise); with
--patches K, render of one workload with K against 4K patches (JSON and strategic merge).

    .venv/bin/python benchmarks/run.py --n 100,1000,10000 --runs 5 --objects 1000,10000 --findings 5000 \
        --patches 1000 --json benchmarks/out/results.json
"""

from __future__ import annotations

import argparse
import compileall
import fcntl
import json
import os
import platform
import subprocess
import sys
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from corpus import Workspace, prepare
from measure import Row, measure
from paths import BENCHMARKS, REPO
from peers import fleet_commands, startup_commands
from report import (
    at_most,
    fleet_targets,
    format_ratios,
    format_rows,
    format_targets,
    growth_targets,
    judge_faults,
    median_of,
    time_ratio,
    why_missing,
)
from shapes import (
    dirty_commands,
    dirty_targets,
    findings_commands,
    findings_targets,
    object_commands,
    object_targets,
    patches_commands,
    patches_targets,
    prepare_dirty,
    prepare_findings,
    prepare_objects,
    prepare_patches,
    prepare_stream,
    stream_commands,
    stream_targets,
)

from mlgitops.yaml.text import MANIFEST_BYTES


def parse_sizes(values: list[str]) -> list[int]:
    sizes = sorted({int(part) for value in values for part in value.split(",") if part.strip()})
    if not sizes or min(sizes) < 1:
        raise SystemExit("--n needs positive workload counts")
    return sizes


def git_commit() -> str:
    completed = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True)
    return completed.stdout.strip() or "unknown"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", action="append", default=[], help="workloads per environment; repeatable or 100,1000")
    parser.add_argument("--runs", type=int, default=5, help="timed runs per command (default 5)")
    parser.add_argument("--warmup", type=int, default=1, help="discarded warm-up rounds (default 1)")
    parser.add_argument("--out", type=Path, default=BENCHMARKS / "out", help="work folder (default benchmarks/out)")
    parser.add_argument("--json", type=Path, help="write every figure as JSON here")
    parser.add_argument("--peak-limit-mb", type=float, default=400.0, help="peak memory target up to N=1000")
    parser.add_argument("--large-peak-limit-mb", type=float, default=1536.0, help="peak memory target above N=1000")
    parser.add_argument(
        "--slow-peers-up-to",
        type=int,
        default=1000,
        help="run kubernetes-validate and checkov only up to this N; above it kustomize runs once (default 1000)",
    )
    parser.add_argument(
        "--shapes-up-to",
        type=int,
        default=1000,
        help="time the dirty corpus and the one-stream fleet for fleet sizes up to this N (default 1000)",
    )
    parser.add_argument(
        "--objects", action="append", default=[], help="one file of N small objects vs N files, for each N (e.g. 1000,10000)"
    )
    parser.add_argument(
        "--findings",
        type=int,
        default=0,
        help="objects of K and of 4K findings (e.g. 5000): a ConfigMap, a Secret, labels left to fill; 0: not run",
    )
    parser.add_argument(
        "--patches",
        type=int,
        default=0,
        help="render of one workload with K and 4K patches (e.g. 1000; 4K must fit an environment file's 1 MB); 0: not run",
    )
    parser.add_argument("--quiet", action="store_true", help="print only the tables")
    args = parser.parse_args(argv)
    sizes = parse_sizes(args.n or ["100"])
    if args.runs < 1:
        raise SystemExit("--runs must be at least 1")

    def say(message: str) -> None:
        if not args.quiet:
            print(message, file=sys.stderr, flush=True)

    out: Path = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    # Two runs on one folder delete each other's trees, and on 2 cores they skew each other's times.
    lock = (out / ".run.lock").open("w")
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        raise SystemExit(f"another benchmark run is using {out}; wait for it or give --out another folder") from None
    report: dict[str, Any] = {
        "meta": {
            "date": time.strftime("%Y-%m-%d %H:%M:%S %z"),
            "commit": git_commit(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "runs": args.runs,
            "warmup": args.warmup,
        },
        "sizes": [],
    }
    # Time mlgitops as an installed tool runs: pip compiles a package's bytecode when it installs it,
    # while an editable checkout (or PYTHONDONTWRITEBYTECODE) would compile every module on every run.
    compileall.compile_dir(str(REPO / "generator"), quiet=1)
    printed: list[str] = []
    for count in sizes:
        workspace = Workspace(out / f"n{count}")
        say(f"N={count}: writing and rendering the fleet in {workspace.root}")
        facts, faults = prepare(workspace, count)
        small = count <= args.slow_peers_up_to
        commands = fleet_commands(workspace, slow_peers=small, kustomize_once=not small)
        rows = measure(commands, args.runs, args.warmup, workspace.logs, say)
        judge_faults(faults, rows, workspace)
        targets = fleet_targets(rows, faults, count, args.peak_limit_mb if count <= 1000 else args.large_peak_limit_mb)
        report["sizes"].append(
            {
                "n": count,
                "fleet": asdict(facts),
                "rows": {row.key: asdict(row) for row in rows},
                "seeded_faults": [asdict(fault) for fault in faults],
                "targets": [asdict(target) for target in targets],
            }
        )
        kinds = ", ".join(f"{kind} {number}" for kind, number in facts.kinds.items())
        block = [
            "",
            f"N = {count} workloads per environment x 3 environments ({kinds}; {facts.teams} teams)",
            f"{facts.objects} objects in {facts.files} files, {facts.megabytes:.1f} MB, {facts.kustomize_roots} "
            f"kustomize roots; median of {args.runs} runs after {args.warmup} warm-up",
            *format_rows(rows),
            "",
            *format_ratios(rows),
            "",
            "targets:",
            *format_targets(targets),
        ]
        if count <= args.shapes_up_to:
            block += shape_block(workspace, count, rows, args, say, report["sizes"][-1])
        # Shown as soon as a size is done: a long N=1000 run is worth reading while it goes on.
        say("\n".join(block))
        printed += block

    say("start-up")
    startup_rows = measure(startup_commands(), args.runs, args.warmup, out, say)
    startup = {row.key: row for row in startup_rows}
    startup_target = at_most(
        "mlgitops --version <= 1.5 x import click",
        time_ratio(median_of(startup, "version"), median_of(startup, "import_click")),
        1.5,
        "x",
        why_missing(startup, "version", "import_click"),
    )
    for count in parse_sizes(args.objects) if args.objects else []:
        say(f"one file of {count} objects vs {count} files")
        one, many = prepare_objects(out, count)
        object_rows = measure(object_commands(one, many, count), args.runs, args.warmup, out, say)
        by_key = {row.key: row for row in object_rows}
        report.setdefault("objects", []).append(
            {
                "n": count,
                "rows": {row.key: asdict(row) for row in object_rows},
                "targets": [asdict(t) for t in object_targets(by_key, count)],
            }
        )
        printed += ["", f"{count} small Deployments: one file vs {count} files", *format_rows(object_rows)]
        printed += format_targets(object_targets(by_key, count))
    # Shapes of K against 4K of something in one object: (report key, K, what is said, title, prepare, commands, targets).
    scaled = [
        ("findings", args.findings, "findings", "findings in one object", prepare_findings, findings_commands, findings_targets),
        ("patches", args.patches, "patches", "patches on one workload", prepare_patches, patches_commands, patches_targets),
    ]
    for key, count, what, title, prepare_shape, commands, targets in scaled:
        if count <= 0:
            continue
        say(f"{title}: {count} and {4 * count} {what}")
        rows = measure(commands(prepare_shape(out, count), count), args.runs, args.warmup, out, say)
        by_key = {row.key: row for row in rows}
        report[key] = {
            "k": count,
            "rows": {row.key: asdict(row) for row in rows},
            "targets": [asdict(t) for t in targets(by_key)],
        }
        printed += ["", title, *format_rows(rows), *format_targets(targets(by_key))]
    growth = growth_targets(report["sizes"])
    report["startup"] = {"rows": {row.key: asdict(row) for row in startup_rows}, "targets": [asdict(startup_target)]}
    report["growth"] = [asdict(target) for target in growth]
    printed += ["", "start-up (independent of N)", *format_rows(startup_rows), *format_targets([startup_target])]
    if growth:
        printed += ["", "growth", *format_targets(growth)]

    print("\n".join(printed).lstrip("\n"))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
        say(f"wrote {args.json}")
    failed = [row["label"] for size in report["sizes"] for row in size["rows"].values() if row["status"] == "failed"]
    failed += [row.label for row in startup_rows if row.status == "failed"]
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


def shape_block(
    workspace: Workspace, count: int, fleet_rows: list[Row], args: argparse.Namespace, say: Any, size: dict[str, Any]
) -> list[str]:
    """Issue 30's shapes of one fleet size: the dirty corpus and the fleet as one stream, timed together."""
    say(f"N={count}: the dirty corpus and the one-stream fleet")
    dirty, files, changed = prepare_dirty(workspace)
    stream, stream_bytes = prepare_stream(workspace)
    # kubernetes-validate only where a target compares with it (N <= 100): 150 s of CPU per run at N = 1000.
    commands = dirty_commands(workspace, dirty, sys.executable, slow_peers=count <= min(args.slow_peers_up_to, 100))
    commands += stream_commands(stream)
    if stream_bytes > MANIFEST_BYTES:
        commands[-1].unavailable = f"the stream is {stream_bytes:,} bytes, over lint's {MANIFEST_BYTES:,}-byte input limit"
    rows = measure(commands, args.runs, args.warmup, workspace.logs, say)
    by_key = {row.key: row for row in rows}
    fleet = {row.key: row for row in fleet_rows}
    targets = dirty_targets(by_key, fleet, count) + stream_targets(by_key, fleet)
    size["shapes"] = {
        "dirty_files": files,
        "dirty_files_changed": changed,
        "stream_bytes": stream_bytes,
        "rows": {row.key: asdict(row) for row in rows},
        "targets": [asdict(target) for target in targets],
    }
    return [
        "",
        f"dirty corpus: {changed} of {files} files given findings; "
        f"stream: the seeded tree as one {stream_bytes / 1e6:.1f} MB stream",
        *format_rows(rows),
        "",
        "targets:",
        *format_targets(targets),
    ]


if __name__ == "__main__":
    sys.exit(main())
