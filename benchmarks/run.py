"""Side-by-side benchmark of mlgitops against the tools it replaces, on one generated fleet.

For each fleet size N (workloads per environment, 3 environments) this script writes the fleet
(benchmarks/fleet.py), renders it once (which also proves the fleet is valid), copies the
rendered tree and seeds it with known faults for `mlgitops lint`, and then times whole
processes on that same tree:

    mlgitops render (into an empty folder), render --check (nothing changed), lint;
    kubectl kustomize of every kustomize root; the kubernetes-validate CLI (strict);
    checkov --framework kubernetes (when installed); and two floors: a Python process that
    only loads every file with PyYAML's C loader, and one that only writes the same objects
    with PyYAML's C dumper. Start-up (`mlgitops --version` vs `python -c "import click"`)
    does not depend on N and is measured once.

Each command runs in its own fresh wrapper process that times it and reads its peak memory
from getrusage(RUSAGE_CHILDREN): ru_maxrss of children is the maximum over every child the
caller ever waited for, so only a wrapper with no other children gives a per-command figure.
Rounds are interleaved (every command once per round, round 0 a discarded warm-up) so that a
slow spell of the machine does not land on one tool only.

    .venv/bin/python benchmarks/run.py --n 100 --runs 5 --json benchmarks/out/n100.json
"""

from __future__ import annotations

import argparse
import fcntl
import itertools
import json
import os
import pickle
import platform
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from fleet import KUBERNETES_VERSION, write_fleet

REPO = Path(__file__).resolve().parent.parent
BENCHMARKS = REPO / "benchmarks"
VENV_BIN = Path(sys.executable).parent
PEERS_BIN = BENCHMARKS / ".peers" / "bin"
ENVIRONMENTS = ("dev", "staging", "prod")
KUSTOMIZATION = "kustomization.yaml"

# Timed in a fresh process: runs `steps` one after the other and reports wall time, the peak
# resident memory of its children (kilobytes on Linux) and their CPU time.
WRAPPER = r"""
import json, resource, subprocess, sys, time
spec = json.load(sys.stdin)
codes = []
with open(spec["stdout"], "wb") as out, open(spec["stderr"], "wb") as err:
    start = time.perf_counter()
    for step in spec["steps"]:
        codes.append(subprocess.run(step, stdout=out, stderr=err, cwd=spec["cwd"]).returncode)
    seconds = time.perf_counter() - start
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({"seconds": seconds, "max_rss_kb": usage.ru_maxrss,
                  "cpu_seconds": usage.ru_utime + usage.ru_stime, "exit_codes": codes}))
"""

# The parse floor: read every file with libyaml, build the Python objects, nothing else.
LOAD_FLOOR = r"""
import sys, yaml
documents = 0
for path in open(sys.argv[1], encoding="utf-8").read().splitlines():
    with open(path, "rb") as stream:
        documents += sum(1 for _ in yaml.load_all(stream, Loader=yaml.CSafeLoader))
print(documents, "documents")
"""

# The write floor: the same objects (unpickled, the cheapest way to have them in memory) written
# back to one file each with libyaml's emitter, keys in their given order as mlgitops writes them.
DUMP_FLOOR = r"""
import os, pickle, sys, yaml
with open(sys.argv[1], "rb") as stream:
    files = pickle.load(stream)
made = set()
for relative, documents in files:
    target = os.path.join(sys.argv[2], relative)
    folder = os.path.dirname(target)
    if folder not in made:
        os.makedirs(folder, exist_ok=True)
        made.add(folder)
    with open(target, "w", encoding="utf-8") as stream:
        yaml.dump_all(documents, stream, Dumper=yaml.CSafeDumper, sort_keys=False, default_flow_style=False)
print(len(files), "files")
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


@dataclass
class Target:
    name: str
    value: str
    status: str  # "met", "MISSED" or "n/a"
    note: str = ""


# ---------------------------------------------------------------------------------------------
# Preparing one fleet size


@dataclass
class Workspace:
    """Every path of one fleet size under the output folder."""

    root: Path

    @property
    def environments(self) -> Path:
        return self.root / "environments"

    @property
    def rendered(self) -> Path:
        """The reference render: input of `render --check`."""
        return self.root / "rendered"

    @property
    def tree(self) -> Path:
        """A copy of the render with seeded faults: input of lint, the peers and the floors."""
        return self.root / "tree"

    @property
    def render_target(self) -> Path:
        return self.root / "render-run"

    @property
    def dump_target(self) -> Path:
        return self.root / "dump-floor"

    @property
    def logs(self) -> Path:
        return self.root / "logs"


@dataclass
class SeededFault:
    path: str
    fault: str
    found: bool | None = None


def mlgitops() -> list[str]:
    return [str(VENV_BIN / "mlgitops")]


def _read_documents(path: Path) -> list[Any]:
    with path.open("rb") as stream:
        return [doc for doc in yaml.load_all(stream, Loader=yaml.CSafeLoader) if doc is not None]


def _write_documents(path: Path, documents: list[Any]) -> None:
    path.write_text(yaml.safe_dump_all(documents, sort_keys=False), encoding="utf-8")


def _files_of_kind(tree: Path, kind: str) -> list[Path]:
    prefix = kind.lower() + "-"
    return sorted(p for p in tree.glob("prod/**/*.yaml") if p.name.startswith(prefix))


def _containers(obj: dict[str, Any]) -> list[dict[str, Any]]:
    spec = obj["spec"]
    if obj["kind"] == "CronJob":
        spec = spec["jobTemplate"]["spec"]
    containers: list[dict[str, Any]] = spec["template"]["spec"]["containers"]
    return containers


def seed_faults(tree: Path) -> list[SeededFault]:
    """Break a handful of prod objects in ways DESIGN.md says a reviewer must hear about.

    Each fault goes into a different file, so "lint found it" can be judged by the file lint
    names, whatever rule ids it uses.
    """
    faults: list[SeededFault] = []

    def apply(kind: str, skip: int, fault: str, change: Callable[[dict[str, Any]], bool]) -> None:
        taken = {f.path for f in faults}
        candidates = [p for p in _files_of_kind(tree, kind) if p.relative_to(tree).as_posix() not in taken]
        for path in candidates[skip:]:
            documents = _read_documents(path)
            if change(documents[0]):
                _write_documents(path, documents)
                faults.append(SeededFault(path.relative_to(tree).as_posix(), fault))
                return

    hpa_targets = set()
    for path in _files_of_kind(tree, "HorizontalPodAutoscaler"):
        hpa_targets.add(_read_documents(path)[0]["spec"]["scaleTargetRef"]["name"])

    def replicas_under_hpa(obj: dict[str, Any]) -> bool:
        if obj["metadata"]["name"] not in hpa_targets:
            return False
        obj["spec"]["replicas"] = 3
        return True

    def no_requests_under_hpa(obj: dict[str, Any]) -> bool:
        if obj["metadata"]["name"] not in hpa_targets:
            return False
        for container in _containers(obj):
            container.get("resources", {}).pop("requests", None)
        return True

    def gpu_request_without_limit(obj: dict[str, Any]) -> bool:
        limits = _containers(obj)[0].get("resources", {}).get("limits", {})
        return limits.pop("nvidia.com/gpu", None) is not None

    def no_resources(obj: dict[str, Any]) -> bool:
        return _containers(obj)[0].pop("resources", None) is not None

    def prunable_claim(obj: dict[str, Any]) -> bool:
        annotations = obj["metadata"].get("annotations", {})
        return annotations.pop("argocd.argoproj.io/sync-options", None) is not None

    def hpa_without_metrics(obj: dict[str, Any]) -> bool:
        obj["spec"]["metrics"] = []
        return True

    def job_ttl(obj: dict[str, Any]) -> bool:
        obj["spec"]["ttlSecondsAfterFinished"] = 3600
        return True

    apply("Deployment", 0, "Deployment under an HPA sets spec.replicas", replicas_under_hpa)
    apply("Deployment", 0, "HPA target without resource requests", no_requests_under_hpa)
    apply("Job", 0, "GPU requested but not limited", gpu_request_without_limit)
    apply("Job", 0, "GitOps-managed Job with ttlSecondsAfterFinished", job_ttl)
    apply("CronJob", 0, "container without resources", no_resources)
    apply("PersistentVolumeClaim", 0, "PVC without Prune=false", prunable_claim)
    apply("HorizontalPodAutoscaler", 0, "HPA without metrics", hpa_without_metrics)
    return faults


def kustomize_roots(tree: Path) -> list[Path]:
    """Every folder of an environment that holds a kustomization.yaml (sharded environments have many)."""
    return sorted(p.parent for env in ENVIRONMENTS for p in (tree / env).rglob(KUSTOMIZATION))


def manifest_files(tree: Path) -> list[Path]:
    return sorted(p for p in tree.rglob("*.yaml") if p.name != KUSTOMIZATION)


@dataclass
class FleetFacts:
    workloads_per_environment: int
    kinds: dict[str, int]
    teams: int
    files: int
    objects: int
    megabytes: float
    kustomize_roots: int


def prepare(workspace: Workspace, count: int) -> tuple[FleetFacts, list[SeededFault]]:
    """Write the fleet, render it (failing loudly if it does not render), seed the lint tree."""
    if workspace.root.exists():
        shutil.rmtree(workspace.root)
    workspace.logs.mkdir(parents=True)
    summary = write_fleet(workspace.environments, count)
    completed = subprocess.run(
        [*mlgitops(), "render", "--environments-dir", str(workspace.environments), "--output", str(workspace.rendered)],
        capture_output=True,
        text=True,
        check=False,
    )
    if completed.returncode != 0:
        raise SystemExit(f"the N={count} fleet does not render (exit {completed.returncode}):\n{completed.stderr}")
    shutil.copytree(workspace.rendered, workspace.tree)
    faults = seed_faults(workspace.tree)

    every_file = sorted(workspace.tree.rglob("*.yaml"))
    (workspace.root / "files.txt").write_text("\n".join(str(p) for p in every_file), encoding="utf-8")
    objects = 0
    contents = []
    for path in every_file:
        documents = _read_documents(path)
        contents.append((path.relative_to(workspace.tree).as_posix(), documents))
        if path.name != KUSTOMIZATION:
            objects += len(documents)
    with (workspace.root / "objects.pickle").open("wb") as stream:
        pickle.dump(contents, stream, protocol=pickle.HIGHEST_PROTOCOL)
    size = sum(p.stat().st_size for p in every_file)
    facts = FleetFacts(
        count, summary.kinds, summary.teams, len(every_file), objects, size / 1e6, len(kustomize_roots(workspace.tree))
    )
    return facts, faults


# ---------------------------------------------------------------------------------------------
# Commands


def _reset(folder: Path) -> Callable[[], None]:
    def reset() -> None:
        if folder.exists():
            shutil.rmtree(folder)

    return reset


def _tool(name: str, *extra_places: Path) -> str | None:
    for place in (VENV_BIN, *extra_places):
        if (place / name).exists():
            return str(place / name)
    return shutil.which(name)


def lint_available() -> str | None:
    """None when `mlgitops lint` works here, else why not (it is being written concurrently)."""
    completed = subprocess.run([*mlgitops(), "lint", "--help"], capture_output=True, text=True, check=False)
    if completed.returncode != 0:
        return "mlgitops lint is not available in this checkout"
    return None


def fleet_commands(workspace: Workspace) -> list[Command]:
    env_dir = str(workspace.environments)
    python = sys.executable
    kubectl = shutil.which("kubectl")
    validate = _tool("kubernetes-validate")
    checkov = _tool("checkov", PEERS_BIN)
    files = [str(p) for p in manifest_files(workspace.tree)]
    lint_missing = lint_available()
    return [
        Command(
            "render",
            "mlgitops render (empty folder)",
            [[*mlgitops(), "render", "--environments-dir", env_dir, "--output", str(workspace.render_target)]],
            prepare=_reset(workspace.render_target),
        ),
        Command(
            "render_check",
            "mlgitops render --check (no change)",
            [[*mlgitops(), "render", "--check", "--environments-dir", env_dir, "--output", str(workspace.rendered)]],
        ),
        Command(
            "lint",
            "mlgitops lint (seeded tree)",
            [[*mlgitops(), "lint", str(workspace.tree)]],
            # 1 means findings, which the seeded faults must produce.
            ok_exit_codes=frozenset({0, 1}),
            unavailable=lint_missing,
        ),
        Command(
            "kustomize",
            "kubectl kustomize (every root)",
            [[kubectl or "kubectl", "kustomize", str(root)] for root in kustomize_roots(workspace.tree)],
            unavailable=None if kubectl else "kubectl is not on PATH",
        ),
        Command(
            "kubernetes_validate",
            "kubernetes-validate --strict",
            [[validate or "kubernetes-validate", "--strict", "-k", f"{KUBERNETES_VERSION}.0", *files]],
            # 1: it found problems (the seeded faults include schema-invalid objects).
            ok_exit_codes=frozenset({0, 1}),
            unavailable=None if validate else "kubernetes-validate is not installed",
        ),
        Command(
            "checkov",
            "checkov --framework kubernetes",
            [
                [
                    checkov or "checkov",
                    "--directory",
                    str(workspace.tree),
                    "--framework",
                    "kubernetes",
                    "--quiet",
                    "--compact",
                    # No network here; without this checkov tries to fetch policy metadata.
                    "--skip-download",
                ]
            ],
            ok_exit_codes=frozenset({0, 1}),
            unavailable=None
            if checkov
            else "checkov is not installed (benchmarks/.peers/bin/pip install checkov, or put it on PATH)",
        ),
        Command(
            "floor_load",
            "floor: PyYAML C loader",
            [[python, "-c", LOAD_FLOOR, str(workspace.root / "files.txt")]],
        ),
        Command(
            "floor_dump",
            "floor: PyYAML C dumper",
            [[python, "-c", DUMP_FLOOR, str(workspace.root / "objects.pickle"), str(workspace.dump_target)]],
            prepare=_reset(workspace.dump_target),
        ),
    ]


def startup_commands() -> list[Command]:
    return [
        Command("version", "mlgitops --version", [[*mlgitops(), "--version"]]),
        Command("import_click", 'python -c "import click"', [[sys.executable, "-c", "import click"]]),
    ]


# ---------------------------------------------------------------------------------------------
# Timing


def run_once(command: Command, logs: Path) -> dict[str, Any]:
    if command.prepare is not None:
        command.prepare()
    spec = {
        "steps": command.steps,
        "cwd": str(REPO),
        "stdout": str(logs / f"{command.key}.out"),
        "stderr": str(logs / f"{command.key}.err"),
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


# ---------------------------------------------------------------------------------------------
# Verdicts


def _median(rows: dict[str, Row], key: str) -> float | None:
    row = rows.get(key)
    return row.median_s if row is not None and row.status == "ok" else None


def _why_missing(rows: dict[str, Row], *keys: str) -> str:
    for key in keys:
        row = rows.get(key)
        if row is None or row.status != "ok":
            return f"{key} {row.status if row else 'not measured'}"
    return ""


def _at_most(name: str, value: float | None, limit: float, unit: str, why: str) -> Target:
    if value is None:
        return Target(name, "-", "n/a", why)
    return Target(name, f"{value:.2f}{unit}", "met" if value <= limit else "MISSED")


def _at_least(name: str, value: float | None, limit: float, unit: str, why: str) -> Target:
    if value is None:
        return Target(name, "-", "n/a", why)
    return Target(name, f"{value:.1f}{unit}", "met" if value >= limit else "MISSED")


def _ratio(top: float | None, bottom: float | None) -> float | None:
    return top / bottom if top is not None and bottom else None


def fleet_targets(rows_list: list[Row], faults: list[SeededFault], peak_limit_mb: float) -> list[Target]:
    rows = {row.key: row for row in rows_list}
    render, check, lint = (_median(rows, k) for k in ("render", "render_check", "lint"))
    dump, load = _median(rows, "floor_dump"), _median(rows, "floor_load")
    kustomize, validate, checkov = (_median(rows, k) for k in ("kustomize", "kubernetes_validate", "checkov"))
    targets = [
        _at_most("render <= 4 x dump floor", _ratio(render, dump), 4, "x", _why_missing(rows, "render", "floor_dump")),
        _at_most(
            "render faster than kubectl kustomize",
            _ratio(render, kustomize),
            0.999,
            "x",
            _why_missing(rows, "render", "kustomize"),
        ),
        _at_least("lint >= 10 x faster than checkov", _ratio(checkov, lint), 10, "x", _why_missing(rows, "lint", "checkov")),
        _at_least(
            "lint >= 15 x faster than kubernetes-validate",
            _ratio(validate, lint),
            15,
            "x",
            _why_missing(rows, "lint", "kubernetes_validate"),
        ),
        _at_most("lint <= 2.5 x load floor", _ratio(lint, load), 2.5, "x", _why_missing(rows, "lint", "floor_load")),
        _at_most("render --check <= render", _ratio(check, render), 1, "x", _why_missing(rows, "render_check", "render")),
    ]
    judged = [fault for fault in faults if fault.found is not None]
    if judged:
        found = sum(bool(fault.found) for fault in judged)
        missed = ", ".join(fault.fault for fault in judged if not fault.found)
        targets.append(
            Target(
                "lint finds every seeded fault",
                f"{found}/{len(judged)}",
                "met" if found == len(judged) else "MISSED",
                f"missed: {missed}" if missed else "",
            )
        )
    else:
        targets.append(Target("lint finds every seeded fault", "-", "n/a", _why_missing(rows, "lint")))
    ours = [rows[k].peak_mb for k in ("render", "render_check", "lint") if k in rows and rows[k].peak_mb is not None]
    peak = max(ours) if ours else None
    targets.append(_at_most(f"mlgitops peak memory <= {peak_limit_mb:.0f} MB", peak, peak_limit_mb, " MB", ""))
    return targets


def judge_faults(faults: list[SeededFault], rows: list[Row], workspace: Workspace) -> None:
    """A fault counts as found when lint's report names its file (rule ids may change; files do not)."""
    lint = next(row for row in rows if row.key == "lint")
    if lint.status != "ok":
        return
    report = "".join((workspace.logs / name).read_text(encoding="utf-8", errors="replace") for name in ("lint.out", "lint.err"))
    for fault in faults:
        fault.found = fault.path in report or str(workspace.tree / fault.path) in report


# ---------------------------------------------------------------------------------------------
# Output


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def _times(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}x"


RATIO_COLUMNS = (
    ("kustomize", "kustomize"),
    ("kubernetes_validate", "k-validate"),
    ("checkov", "checkov"),
    ("floor_load", "load floor"),
    ("floor_dump", "dump floor"),
)


def format_rows(rows: list[Row]) -> list[str]:
    lines = [f"{'command':<38} {'median s':>9} {'min-max s':>17} {'peak MB':>8} {'cpu s':>7}  note"]
    for row in rows:
        if row.status != "ok":
            lines.append(f"{row.label:<38} {row.status:>9}  {row.reason.splitlines()[0][:70] if row.reason else ''}")
            continue
        spread = f"{row.min_s:.3f}-{row.max_s:.3f}"
        note = f"{row.processes} processes" if row.processes > 1 else ""
        figures = f"{_seconds(row.median_s):>9} {spread:>17} {row.peak_mb or 0:>8.0f} {row.cpu_s or 0:>7.2f}"
        lines.append(f"{row.label:<38} {figures}  {note}")
    return lines


def format_ratios(rows: list[Row]) -> list[str]:
    by_key = {row.key: row for row in rows}
    header = f"{'time ratio (mlgitops / other)':<38}" + "".join(f" {title:>11}" for _, title in RATIO_COLUMNS)
    lines = [header]
    for key in ("render", "render_check", "lint"):
        ours = _median(by_key, key)
        if ours is None:
            continue
        cells = "".join(f" {_times(_ratio(ours, _median(by_key, other))):>11}" for other, _ in RATIO_COLUMNS)
        lines.append(f"{by_key[key].label:<38}{cells}")
    return lines


def format_targets(targets: list[Target]) -> list[str]:
    lines = []
    for target in targets:
        note = f"  ({target.note})" if target.note else ""
        lines.append(f"  [{target.status:^6}] {target.name:<46} {target.value:>10}{note}")
    return lines


# ---------------------------------------------------------------------------------------------


def parse_sizes(values: list[str]) -> list[int]:
    sizes = sorted({int(part) for value in values for part in value.split(",") if part.strip()})
    if not sizes or min(sizes) < 1:
        raise SystemExit("--n needs positive workload counts")
    return sizes


def growth_targets(per_size: list[dict[str, Any]]) -> list[Target]:
    """Linear growth: time at the larger N within 1.1 x the size ratio of the smaller."""
    targets = []
    for small, large in itertools.pairwise(per_size):
        allowed = 1.1 * large["n"] / small["n"]
        for key in ("render", "render_check", "lint"):
            before, after = small["rows"].get(key, {}), large["rows"].get(key, {})
            ratio = _ratio(after.get("median_s"), before.get("median_s"))
            name = f"{key} N={large['n']} <= {allowed:.1f} x N={small['n']}"
            targets.append(_at_most(name, ratio, allowed, "x", f"{key} not measured at both sizes"))
    return targets


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
    parser.add_argument("--peak-limit-mb", type=float, default=400.0)
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
    printed: list[str] = []
    for count in sizes:
        workspace = Workspace(out / f"n{count}")
        say(f"N={count}: writing and rendering the fleet in {workspace.root}")
        facts, faults = prepare(workspace, count)
        rows = measure(fleet_commands(workspace), args.runs, args.warmup, workspace.logs, say)
        judge_faults(faults, rows, workspace)
        targets = fleet_targets(rows, faults, args.peak_limit_mb)
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
        # Shown as soon as a size is done: a long N=1000 run is worth reading while it goes on.
        say("\n".join(block))
        printed += block

    say("start-up")
    startup_rows = measure(startup_commands(), args.runs, args.warmup, out, say)
    startup = {row.key: row for row in startup_rows}
    startup_target = _at_most(
        "mlgitops --version <= 1.5 x import click",
        _ratio(_median(startup, "version"), _median(startup, "import_click")),
        1.5,
        "x",
        _why_missing(startup, "version", "import_click"),
    )
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


if __name__ == "__main__":
    sys.exit(main())
