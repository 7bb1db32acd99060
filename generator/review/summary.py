"""The pull-request summary of a change, as Markdown (a PR comment), JSON or plain text."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from mlgitops.fleet.cost import EnvironmentCost
from mlgitops.kube.footprint import Footprint
from mlgitops.kube.quantity import format_bytes, format_cpu
from mlgitops.output import inert
from mlgitops.output.machine import versioned
from mlgitops.policy.severity import Severity
from mlgitops.review.changes import EnvironmentChanges, ObjectChange
from mlgitops.review.comment_size import COMMENT_LIMIT, Budget
from mlgitops.review.promotion import Promotion
from mlgitops.review.traffic import split_line

COMMENT_MARKER = "<!-- mlgitops-diff -->"
_SHOWN_FIELDS = 6
_DIFF_LINES = 400


@dataclass(frozen=True)
class FindingNote:
    """A policy finding as the summary shows it."""

    rule: str
    severity: Severity
    message: str
    where: str
    environment: str


@dataclass
class Review:
    base: str
    environments: list[EnvironmentChanges]
    new_findings: list[FindingNote] = field(default_factory=list)
    fixed_findings: list[FindingNote] = field(default_factory=list)
    file_diff: str = ""
    promotions: dict[str, Promotion] = field(default_factory=dict)
    """Environments whose change only moves images and model versions another environment runs."""
    links: list[str] = field(default_factory=list)
    """Markdown lines saying where to see everything (review/comment.py run_links); none: the comment names commands."""

    @property
    def changed(self) -> bool:
        return any(env.objects for env in self.environments)


def _cpu(value: Decimal) -> str:
    return format_cpu(value.quantize(Decimal("0.001")).normalize()) if value else "0"


def _memory(value: Decimal) -> str:
    return format_bytes(value) if value else "0"


def _delta(before: Decimal, after: Decimal, shown: Callable[[Decimal], str]) -> str:
    if before == after:
        return shown(after)
    sign = "+" if after > before else "-"
    return f"{shown(before)} → {shown(after)} ({sign}{shown(abs(after - before))})"


def _gpus(before: Footprint, after: Footprint) -> str:
    kinds = sorted(set(before.gpus) | set(after.gpus))
    if not kinds:
        return "0"
    parts = []
    for kind in kinds:
        parts.append(
            f"{kind}: " + _delta(Decimal(before.gpus.get(kind, 0)), Decimal(after.gpus.get(kind, 0)), lambda n: str(int(n)))
        )
    return "; ".join(parts)


def value_cell(value: Any, code: Callable[[str], str] = inert.markdown_code) -> str:
    """A value for a summary (cut to 60 characters), shown by ``code`` (a Markdown code span, or plain text)."""
    if value is None:
        return "(none)"
    text = json.dumps(value) if isinstance(value, (dict, list)) else str(value)
    return code(text if len(text) <= 60 else text[:57] + "...")


_PREFIXES = (
    ("spec.jobTemplate.spec.template.spec.", ""),
    ("spec.template.spec.", ""),
    ("spec.pytorchReplicaSpecs.", ""),
    (".template.spec.", "."),
)


def _short(path: str) -> str:
    """A field path without the pod-template plumbing every workload kind repeats."""
    for prefix, replacement in _PREFIXES:
        path = path.replace(prefix, replacement, 1) if path.startswith(prefix) or prefix.startswith(".") else path
    return path


def _object_line(change: ObjectChange, code: Callable[[str], str] = inert.markdown_code) -> str:
    """One object's change; ``code`` shows a user-controlled value (a Markdown code span, or plain text)."""
    name = f"{code(change.previous_name)} → {code(change.name)}" if change.previous_name else code(change.name)
    line = f"{change.kind} {name}"  # kinds are the renderer's own
    line = f"- **{change.state}** {line}" if code is inert.markdown_code else f"{change.state} {line}"
    if change.fields:
        interesting = [f for f in change.fields if f.category != "other"] or change.fields
        shown = [
            f"{code(_short(f.path))}: {value_cell(f.before, code)} → {value_cell(f.after, code)}"
            for f in interesting[:_SHOWN_FIELDS]
        ]
        more = len(change.fields) - len(shown)
        line += ": " + "; ".join(shown) + (f" (+{more} more)" if more > 0 else "")
    return line


def resources_table(environments: list[EnvironmentChanges]) -> list[str]:
    """The "Requested resources" section: CPU, memory and GPUs per environment, before → after."""
    lines = ["### Requested resources", "", "| environment | CPU | memory | GPUs |", "| --- | --- | --- | --- |"]
    for env in environments:
        lines.append(
            f"| {env.name} | {_delta(env.before.cpu, env.after.cpu, _cpu)} | "
            f"{_delta(env.before.memory, env.after.memory, _memory)} | {_gpus(env.before, env.after)} |"
        )
    return lines


def object_sections(
    environments: list[EnvironmentChanges], headings: dict[str, str] | None = None, budget: Budget | None = None
) -> list[str]:
    """One section per environment with changed objects (long lists folded away); ``headings`` adds to a title.

    With a ``budget``, each section keeps the objects that fit and counts the rest.
    """
    lines: list[str] = []
    for env in environments:
        if not env.objects:
            continue
        object_lines = [_object_line(change) for change in env.objects]
        if budget is not None:
            object_lines = budget.take(object_lines, f"objects in {env.name}", "objects")
        # Environment names are DNS labels (checked on load); a promotion's label names environments too.
        lines += ["", f"### {env.name}{(headings or {}).get(env.name, '')}", ""]
        if len(env.objects) > 15:
            lines += object_lines[:10]
            lines += ["", f"<details><summary>{len(env.objects) - 10} more objects</summary>", ""]
            lines += object_lines[10:]
            lines += ["", "</details>"]
        else:
            lines += object_lines
    return lines


def promotion_lines(found: dict[str, Promotion]) -> list[str]:
    """One bullet per promoted environment: where from, and the fields it now shares."""
    lines = []
    for name, promotion in sorted(found.items()):
        fields = "; ".join(
            f"{inert.markdown_code(f.path)}: {value_cell(f.before)} → {value_cell(f.after)}"
            for f in promotion.fields[:_SHOWN_FIELDS]
        )
        more = len(promotion.fields) - _SHOWN_FIELDS
        lines.append(f"- **{name}** is a {promotion.label}: {fields}" + (f" (+{more} more)" if more > 0 else ""))
    return ["", *lines] if lines else []


def diff_details(file_diff: str, title: str = "Rendered diff", budget: Budget | None = None) -> list[str]:
    """A unified diff folded into a <details> block (at most a few hundred lines shown), fenced so nothing in it acts.

    With a ``budget``, only the lines that fit are shown.
    """
    if not file_diff:
        return []
    diff_lines = file_diff.splitlines()
    shown = diff_lines[:_DIFF_LINES]
    if budget is not None:
        # The fence and the details tags cost about 60 characters.
        shown = budget.take(shown, "diff", "diff lines") if budget.left > 200 else []
        if shown and shown[-1].startswith("- … "):
            shown.pop()
    if len(diff_lines) > len(shown):
        shown.append(f"... {len(diff_lines) - len(shown)} more lines")
    return [
        "",
        f"<details><summary>{title} ({len(diff_lines)} lines)</summary>",
        "",
        *inert.markdown_fence(shown, "diff"),
        "",
        "</details>",
    ]


def summary_table(review: Review) -> list[str]:
    """One row per environment, production first: objects, requests and cost, before → after (always whole)."""
    from mlgitops.review.comment import cost_cells, environment_order

    lines = [
        "| environment | added | removed | changed | objects | GPUs | CPU | memory | cost/h at min replicas "
        "| cost/h at max replicas | GPU-hours of finite jobs |",
        "| --- | ---: | ---: | ---: | ---: | --- | --- | --- | --- | --- | --- |",
    ]
    for env in environment_order(review.environments):
        counts = env.counts
        promoted = review.promotions.get(env.name)
        label = f" ({promoted.label})" if promoted else ""
        objects = _delta(Decimal(env.total_before), Decimal(env.total_after), lambda n: f"{int(n):,}")
        cells = [
            f"{env.name}{label}",
            str(counts["added"]),
            str(counts["removed"]),
            str(counts["changed"]),
            objects,
            _gpus(env.before, env.after),
            _delta(env.before.cpu, env.after.cpu, _cpu),
            _delta(env.before.memory, env.after.memory, _memory),
            *cost_cells(env),
        ]
        lines.append(f"| {' | '.join(cells)} |")
    return lines


def traffic_lines(environments: list[EnvironmentChanges]) -> list[str]:
    """The "Traffic splits" section: each weighted route of a changed environment, its shares before → after."""
    lines = [
        f"- {env.name}: {split_line(split, inert.markdown_code)}"
        for env in environments
        if env.objects
        for split in env.splits
    ]
    return ["", "### Traffic splits", "", *lines] if lines else []


def markdown(review: Review, limit: int = COMMENT_LIMIT) -> str:
    """The pull-request comment (review/comment.py); never longer than ``limit`` characters as GitHub counts them."""
    from mlgitops.review.comment import CommentParts, assemble, environment_order, finding_lines, group_line, grouped, run_links

    lines = [COMMENT_MARKER, "## mlgitops: what this change deploys", ""]
    if not review.changed and not review.new_findings and not review.fixed_findings:
        lines.append(f"No change to the rendered manifests (compared with {inert.markdown_code(review.base[:12])}).")
        return "\n".join(lines) + "\n"
    head = [*lines, f"Compared with {inert.markdown_code(review.base[:12])}.", "", *summary_table(review)]
    head += promotion_lines(review.promotions)
    head += traffic_lines(review.environments)
    sections = []
    for env in environment_order(review.environments):
        if env.objects:
            groups = grouped(env.objects, _short)
            changes = [_object_line(g.first) if len(g.changes) == 1 else group_line(g, _short, value_cell) for g in groups]
            sections.append((env.name, changes))
    errors, others = finding_lines(review.new_findings, review.fixed_findings)
    parts = CommentParts(
        head=head,
        headings={name: f": {promotion.label}" for name, promotion in review.promotions.items()},
        sections=sections,
        errors=errors,
        other_findings=others,
        diff_lines=review.file_diff.splitlines(),
        links=review.links or run_links({}),
    )
    return assemble(parts, limit)


def _promotion_json(promotion: Promotion | None) -> dict[str, Any] | None:
    if promotion is None:
        return None
    return {
        "from": list(promotion.sources),
        "fields": [{"path": f.path, "before": f.before, "after": f.after} for f in promotion.fields],
    }


def cost_json(cost: EnvironmentCost | None) -> dict[str, Any] | None:
    """Cost figures as JSON: decimal strings to the cent (GPU-hours to a tenth); None where the environment is absent."""
    if cost is None:
        return None
    cents, tenths = Decimal("0.01"), Decimal("0.1")
    return {
        "currency": cost.currency,
        "perHourAtMinReplicas": str(cost.at_minimum.quantize(cents)) if cost.priced else None,
        "perHourAtMaxReplicas": str(cost.at_maximum.quantize(cents)) if cost.priced else None,
        "finiteJobGpuHours": str(cost.job_gpu_hours.quantize(tenths)),
        "finiteGpuJobsWithoutTimeLimit": cost.unbounded_gpu_jobs,
        "unpricedPods": cost.unpriced_pods,
    }
def _split_json(split: Any) -> list[dict[str, Any]] | None:
    return None if split is None else [{"backend": name, "weight": weight} for name, weight in split]


def as_json(review: Review) -> str:
    def footprint(value: Footprint) -> dict[str, Any]:
        return {"cpu": _cpu(value.cpu), "memory": _memory(value.memory), "gpus": dict(sorted(value.gpus.items()))}

    document = {
        "base": review.base,
        "environments": [
            {
                "name": env.name,
                "counts": env.counts,
                "promotion": _promotion_json(review.promotions.get(env.name)),
                "resources": {"before": footprint(env.before), "after": footprint(env.after)},
                "cost": {"before": cost_json(env.cost_before), "after": cost_json(env.cost_after)},
                "trafficSplits": [
                    {"route": split.route, "before": _split_json(split.before), "after": _split_json(split.after)}
                    for split in env.splits
                ],
                "objects": [
                    {
                        "kind": change.kind,
                        "name": change.name,
                        "state": change.state,
                        "previousName": change.previous_name,
                        "fields": [
                            {"path": f.path, "before": f.before, "after": f.after, "category": f.category} for f in change.fields
                        ],
                    }
                    for change in env.objects
                ],
            }
            for env in review.environments
        ],
        "newFindings": [note.__dict__ for note in review.new_findings],
        "fixedFindings": [note.__dict__ for note in review.fixed_findings],
    }
    return versioned("Review", document, default=str)


def text(review: Review) -> str:
    from mlgitops.review.comment import cost_cells

    lines = [f"compared with {review.base}"]
    plain = str
    for env in review.environments:
        counts = env.counts
        promoted = review.promotions.get(env.name)
        lines.append(
            f"{env.name}{f' ({promoted.label})' if promoted else ''}: "
            f"{counts['added']} added, {counts['removed']} removed, {counts['changed']} changed; "
            f"cpu {_delta(env.before.cpu, env.after.cpu, _cpu)}, "
            f"memory {_delta(env.before.memory, env.after.memory, _memory)}, gpus {_gpus(env.before, env.after)}"
        )
        if env.cost_before is not None or env.cost_after is not None:
            at_min, at_max, hours = cost_cells(env)
            lines.append(f"  cost per hour at min replicas {at_min}, at max replicas {at_max}; GPU-hours of finite jobs {hours}")
        lines += ["  " + _object_line(change, plain) for change in env.objects]
        lines += ["  " + split_line(split, plain) for split in env.splits if env.objects]
    for note in review.new_findings:
        lines.append(f"new {note.severity} {note.rule} ({note.environment}, {note.where}): {note.message}")
    for note in review.fixed_findings:
        lines.append(f"fixed {note.rule} ({note.environment}): {note.message}")
    return "".join(inert.terminal(line) + "\n" for line in lines)
