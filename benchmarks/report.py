"""Targets and tables: ratios against peers and floors, growth between sizes, seeded faults found."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

from corpus import SeededFault, Workspace
from measure import Row


@dataclass
class Target:
    name: str
    value: str
    status: str  # "met", "MISSED" or "n/a"
    note: str = ""


def median_of(rows: dict[str, Row], key: str) -> float | None:
    row = rows.get(key)
    return row.median_s if row is not None and row.status == "ok" else None


def why_missing(rows: dict[str, Row], *keys: str) -> str:
    for key in keys:
        row = rows.get(key)
        if row is None or row.status != "ok":
            return f"{key} {row.status if row else 'not measured'}"
    return ""


def at_most(name: str, value: float | None, limit: float, unit: str, why: str) -> Target:
    if value is None:
        return Target(name, "-", "n/a", why)
    return Target(name, f"{value:.2f}{unit}", "met" if value <= limit else "MISSED")


def at_least(name: str, value: float | None, limit: float, unit: str, why: str) -> Target:
    if value is None:
        return Target(name, "-", "n/a", why)
    return Target(name, f"{value:.1f}{unit}", "met" if value >= limit else "MISSED")


def time_ratio(top: float | None, bottom: float | None) -> float | None:
    return top / bottom if top is not None and bottom else None


def fleet_targets(rows_list: list[Row], faults: list[SeededFault], count: int, peak_limit_mb: float) -> list[Target]:
    """The targets of one fleet size (issue 20): ratios to the PyYAML floors and peers of the same run."""
    rows = {row.key: row for row in rows_list}
    render, check, lint = (median_of(rows, k) for k in ("render", "render_check", "lint"))
    dump, load = median_of(rows, "floor_dump"), median_of(rows, "floor_load")
    kustomize, validate, checkov = (median_of(rows, k) for k in ("kustomize", "kubernetes_validate", "checkov"))
    lint_limit = 0.5 if count >= 1000 else 1.0
    targets = [
        at_most(
            f"lint <= {lint_limit} x PyYAML load floor",
            time_ratio(lint, load),
            lint_limit,
            "x",
            why_missing(rows, "lint", "floor_load"),
        ),
    ]
    if count >= 1000:
        targets += [
            at_most(
                "render <= 0.5 x PyYAML dump floor", time_ratio(render, dump), 0.5, "x", why_missing(rows, "render", "floor_dump")
            ),
            at_most(
                "render --check <= 0.35 x PyYAML dump floor",
                time_ratio(check, dump),
                0.35,
                "x",
                why_missing(rows, "render_check", "floor_dump"),
            ),
        ]
    if count == 1000:
        targets += [
            at_least(
                "lint >= 100 x faster than checkov", time_ratio(checkov, lint), 100, "x", why_missing(rows, "lint", "checkov")
            ),
            at_least(
                "lint >= 60 x faster than kubernetes-validate",
                time_ratio(validate, lint),
                60,
                "x",
                why_missing(rows, "lint", "kubernetes_validate"),
            ),
        ]
    targets += [
        at_most(
            "render faster than kubectl kustomize",
            time_ratio(render, kustomize),
            0.999,
            "x",
            why_missing(rows, "render", "kustomize"),
        ),
        at_most("render --check <= render", time_ratio(check, render), 1, "x", why_missing(rows, "render_check", "render")),
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
        targets.append(Target("lint finds every seeded fault", "-", "n/a", why_missing(rows, "lint")))
    ours = [rows[k].peak_mb for k in ("render", "render_check", "lint") if k in rows and rows[k].peak_mb is not None]
    peak = max(ours) if ours else None
    targets.append(at_most(f"mlgitops peak memory <= {peak_limit_mb:.0f} MB", peak, peak_limit_mb, " MB", ""))
    return targets


def judge_faults(faults: list[SeededFault], rows: list[Row], workspace: Workspace) -> None:
    """A fault counts as found when lint's report names its file (rule ids may change; files do not)."""
    lint = next(row for row in rows if row.key == "lint")
    if lint.status != "ok":
        return
    report = "".join((workspace.logs / name).read_text(encoding="utf-8", errors="replace") for name in ("lint.out", "lint.err"))
    for fault in faults:
        fault.found = fault.path in report or str(workspace.tree / fault.path) in report


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
    ("floor_load_fast", "yaml-rs load"),
    ("floor_dump_fast", "yaml-rs dump"),
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
        ours = median_of(by_key, key)
        if ours is None:
            continue
        cells = "".join(f" {_times(time_ratio(ours, median_of(by_key, other))):>11}" for other, _ in RATIO_COLUMNS)
        lines.append(f"{by_key[key].label:<38}{cells}")
    return lines


def format_targets(targets: list[Target]) -> list[str]:
    lines = []
    for target in targets:
        note = f"  ({target.note})" if target.note else ""
        lines.append(f"  [{target.status:^6}] {target.name:<46} {target.value:>10}{note}")
    return lines


def growth_targets(per_size: list[dict[str, Any]]) -> list[Target]:
    """Linear growth: time at the larger N within 1.1 x the size ratio of the smaller."""
    targets = []
    for small, large in itertools.pairwise(per_size):
        allowed = 1.1 * large["n"] / small["n"]
        for key in ("render", "render_check", "lint"):
            before, after = small["rows"].get(key, {}), large["rows"].get(key, {})
            growth = time_ratio(after.get("median_s"), before.get("median_s"))
            name = f"{key} N={large['n']} <= {allowed:.1f} x N={small['n']}"
            targets.append(at_most(name, growth, allowed, "x", f"{key} not measured at both sizes"))
    return targets
