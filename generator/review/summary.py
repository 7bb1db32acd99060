"""The pull-request summary of a change, as Markdown (a PR comment), JSON or plain text."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from generator.kube.footprint import Footprint
from generator.kube.quantity import format_bytes, format_cpu
from generator.output import inert
from generator.review.changes import EnvironmentChanges, ObjectChange

COMMENT_MARKER = "<!-- mlgitops-diff -->"
_SHOWN_FIELDS = 6
_DIFF_LINES = 400


@dataclass(frozen=True)
class FindingNote:
    """A policy finding as the summary shows it."""

    rule: str
    severity: str
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


def _value(value: Any, code: Callable[[str], str]) -> str:
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
            f"{code(_short(f.path))}: {_value(f.before, code)} → {_value(f.after, code)}" for f in interesting[:_SHOWN_FIELDS]
        ]
        more = len(change.fields) - len(shown)
        line += ": " + "; ".join(shown) + (f" (+{more} more)" if more > 0 else "")
    return line


# GitHub refuses a comment body over 65,536 characters (counted as UTF-16 code units, as JavaScript does).
COMMENT_LIMIT = 65_536
# Room kept for the notes that say what was left out.
_NOTE_ROOM = 600


def comment_length(text: str) -> int:
    """Length as GitHub counts a comment body: UTF-16 code units (an emoji outside the BMP counts 2)."""
    return len(text.encode("utf-16-le")) // 2


def _summary_lines(review: Review) -> list[str]:
    """The head of the comment, always shown whole: counts per environment and the resource table."""
    lines = [
        f"Compared with {inert.markdown_code(review.base[:12])}.",
        "",
        "| environment | added | removed | changed |",
        "| --- | ---: | ---: | ---: |",
    ]
    for env in review.environments:
        counts = env.counts
        lines.append(f"| {env.name} | {counts['added']} | {counts['removed']} | {counts['changed']} |")
    lines += ["", "### Requested resources", "", "| environment | CPU | memory | GPUs |", "| --- | --- | --- | --- |"]
    for env in review.environments:
        lines.append(
            f"| {env.name} | {_delta(env.before.cpu, env.after.cpu, _cpu)} | "
            f"{_delta(env.before.memory, env.after.memory, _memory)} | {_gpus(env.before, env.after)} |"
        )
    return lines


def _finding_lines(review: Review) -> list[str]:
    code = inert.markdown_code
    lines = []
    for note in review.new_findings:
        lines.append(
            f"- :x: new **{note.severity}** {code(note.rule)} ({code(note.environment)}, {code(note.where)}): "
            + code(note.message)
        )
    for note in review.fixed_findings:
        lines.append(f"- :white_check_mark: fixed {code(note.rule)} ({code(note.environment)}): {code(note.message)}")
    return lines


class _Budget:
    """Characters left for the comment; sections take whole lines while they fit and count what they drop."""

    def __init__(self, limit: int) -> None:
        self.left = limit
        self.dropped: dict[str, int] = {}

    def take(self, lines: list[str], section: str, unit: str) -> list[str]:
        kept = []
        for index, line in enumerate(lines):
            cost = comment_length(line) + 1
            if cost > self.left:
                self.dropped[section] = len(lines) - index
                kept.append(f"- … {len(lines) - index} more {unit} not shown (the comment has a size limit)")
                self.left -= comment_length(kept[-1]) + 1
                break
            kept.append(line)
            self.left -= cost
        return kept


def markdown(review: Review, limit: int = COMMENT_LIMIT) -> str:
    """The pull-request comment; never longer than ``limit`` characters as GitHub counts them.

    The summary and the resource table are always whole. Then, while room is left: policy findings,
    the changed objects of each environment, the rendered diff (cut at a line). Whatever is cut is
    counted in a note that says where to see all of it: `mlgitops diff` in the job log, or the
    `--output-format text` / `json` output a workflow can upload as an artifact.
    """
    lines = [COMMENT_MARKER, "## mlgitops: what this change deploys", ""]
    if not review.changed and not review.new_findings and not review.fixed_findings:
        lines.append(f"No change to the rendered manifests (compared with {inert.markdown_code(review.base[:12])}).")
        return "\n".join(lines) + "\n"
    lines += _summary_lines(review)
    room = limit - comment_length("\n".join(lines)) - _NOTE_ROOM
    for _ in range(8):
        # Headings and tags around the sections are not budgeted line by line: retry with less room if they overflow.
        comment = _with_details(review, list(lines), room)
        over = comment_length(comment) - limit
        if over <= 0:
            return comment
        room -= over + 200
    cut = "\n".join(lines) + "\n\n> **Shortened to fit a pull-request comment**: run `mlgitops diff --output-format text`.\n"
    return cut if comment_length(cut) <= limit else cut[: max(0, limit // 2)]


def _with_details(review: Review, lines: list[str], room: int) -> str:
    budget = _Budget(room)
    findings = _finding_lines(review)
    if findings:
        lines += ["", "### Policy findings", "", *budget.take(findings, "findings", "findings")]
    for env in review.environments:
        if not env.objects:
            continue
        object_lines = budget.take([_object_line(change) for change in env.objects], f"objects in {env.name}", "objects")
        lines += ["", f"### {env.name}", ""]  # environment names are DNS labels (checked on load)
        if len(env.objects) > 15:
            lines += object_lines[:10]
            lines += ["", f"<details><summary>{len(env.objects) - 10} more objects</summary>", ""]
            lines += object_lines[10:]
            lines += ["", "</details>"]
        else:
            lines += object_lines
    if review.file_diff:
        diff_lines = review.file_diff.splitlines()
        cap = min(_DIFF_LINES, len(diff_lines))
        # The fence and the details tags cost about 60 characters.
        shown = budget.take(diff_lines[:cap], "diff", "diff lines") if budget.left > 200 else []
        if shown and shown[-1].startswith("- … "):
            shown.pop()
        if len(diff_lines) > len(shown):
            shown.append(f"... {len(diff_lines) - len(shown)} more lines")
        lines += ["", f"<details><summary>Rendered diff ({len(diff_lines)} lines)</summary>", ""]
        lines += [*inert.markdown_fence(shown, "diff"), "", "</details>"]
    if budget.dropped:
        left_out = ", ".join(f"{count} {section}" for section, count in budget.dropped.items())
        lines += [
            "",
            f"> **Shortened to fit a pull-request comment** (left out: {left_out}). Run `mlgitops diff --output-format text` "
            "to see everything; the workflow's job log and its uploaded artifact hold the full summary.",
        ]
    return "\n".join(lines) + "\n"


def as_json(review: Review) -> str:
    def footprint(value: Footprint) -> dict[str, Any]:
        return {"cpu": _cpu(value.cpu), "memory": _memory(value.memory), "gpus": dict(sorted(value.gpus.items()))}

    document = {
        "base": review.base,
        "environments": [
            {
                "name": env.name,
                "counts": env.counts,
                "resources": {"before": footprint(env.before), "after": footprint(env.after)},
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
    return inert.json_document(document, default=str)


def text(review: Review) -> str:
    lines = [f"compared with {review.base}"]
    plain = str
    for env in review.environments:
        counts = env.counts
        lines.append(
            f"{env.name}: {counts['added']} added, {counts['removed']} removed, {counts['changed']} changed; "
            f"cpu {_delta(env.before.cpu, env.after.cpu, _cpu)}, "
            f"memory {_delta(env.before.memory, env.after.memory, _memory)}, gpus {_gpus(env.before, env.after)}"
        )
        lines += ["  " + _object_line(change, plain) for change in env.objects]
    for note in review.new_findings:
        lines.append(f"new {note.severity} {note.rule} ({note.environment}, {note.where}): {note.message}")
    for note in review.fixed_findings:
        lines.append(f"fixed {note.rule} ({note.environment}): {note.message}")
    return "".join(inert.terminal(line) + "\n" for line in lines)
