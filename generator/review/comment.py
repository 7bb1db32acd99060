"""The pull-request comment of `mlgitops diff`: what matters first, within GitHub's 65,536 characters.

Always the same structure, so reviewers know where to look:

1. one summary table, a row per environment: objects added, removed, changed and in total; GPUs, CPU and memory
   requested; the hourly cost at minimum and at maximum replicas and the GPU-hours of finite jobs
   (fleet/cost.py), before → after. Always whole.
2. new error findings (then new warnings and fixed findings, while room is left);
3. the changes of each environment, production-like environments first (prod, staging, then others, dev last),
   within one the changes to GPUs, resources, replicas and images before the rest (labels, annotations); the same
   change to many objects (a tag bump over a fleet) is one line with a count and one example;
4. the rendered diff, folded, and where to see everything (the pull request's files, the workflow's artifact).

The room after the table is shared fairly: every environment's most important change is taken first, then error
findings (up to a third of the room), then the environments' further changes in turns, then the rest. Sections
only appear with something in them; whatever is cut is counted.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from mlgitops.fleet.cost import EnvironmentCost, money
from mlgitops.output import inert
from mlgitops.policy.severity import Severity
from mlgitops.review.changes import EnvironmentChanges, ObjectChange
from mlgitops.review.comment_size import COMMENT_LIMIT, Budget, comment_length, fit

DIFF_LINES = 400
"""At most this many lines of the rendered diff in a comment; the pull request's files show all of it."""
GROUP_FROM = 4
"""Identical changes to this many objects or more are one line (fewer are listed one by one, as before)."""
_CATEGORY_WEIGHT = {"gpu": 0, "resources": 1, "replicas": 2, "image": 3, "autoscaling": 4, "schedule": 5, "volumes": 6}
_ADDED_OR_REMOVED = 2
"""An object added or removed weighs like a replica change: it changes what runs."""
_NOISE = 7
_RANK_WORDS = (
    {"prod", "production", "prd", "live"},
    {"staging", "stage", "stg", "preprod", "uat", "qa"},
)
_LAST_WORDS = {"dev", "development", "test", "sandbox", "local"}
_NOTE_ROOM = 90
"""Room kept per environment for its "… N more changes" line."""


def environment_rank(name: str) -> int:
    """0 for production-like names (prod, prod-eu), 1 staging-like, 3 dev-like, 2 the others."""
    words = set(re.split(r"[-_.]", name.lower()))
    for rank, known in enumerate(_RANK_WORDS):
        if words & known:
            return rank
    return 3 if words & _LAST_WORDS else 2


def change_weight(change: ObjectChange) -> int:
    """Lower first: GPU, resource, replica and image changes before autoscaling, schedules, volumes and metadata."""
    if change.state != "changed":
        return _ADDED_OR_REMOVED
    return min((_CATEGORY_WEIGHT.get(f.category, _NOISE) for f in change.fields), default=_NOISE)


_HASHED = re.compile(r"-[0-9a-f]{8}$")


def _own_names(change: ObjectChange) -> set[str]:
    names = {change.name, _HASHED.sub("", change.name)}
    return {name for name in names if name}


def _pattern_path(path: str, own: set[str]) -> str:
    """``path`` with the object's own name in brackets (its container, its group) as ``[*]``."""
    return re.sub(r"\[([^\]]*)\]", lambda m: "[*]" if m.group(1) in own else m.group(0), path)


def _edit(before: Any, after: Any) -> tuple[Any, ...]:
    """What a change does, independent of the value it is done to: a string's differing middle (with whether a
    common prefix and suffix surround it), else the two values."""
    if isinstance(before, str) and isinstance(after, str):
        prefix = 0
        while prefix < min(len(before), len(after)) and before[prefix] == after[prefix]:
            prefix += 1
        suffix = 0
        while suffix < min(len(before), len(after)) - prefix and before[-1 - suffix] == after[-1 - suffix]:
            suffix += 1
        return ("edit", before[prefix : len(before) - suffix], after[prefix : len(after) - suffix], prefix > 0, suffix > 0)
    return ("value", json.dumps(before, sort_keys=True, default=str), json.dumps(after, sort_keys=True, default=str))


@dataclass
class ChangeGroup:
    """Changes that do the same thing to one or more objects."""

    changes: list[ObjectChange]
    weight: int

    @property
    def first(self) -> ObjectChange:
        return self.changes[0]


def _signature(change: ObjectChange, short: Callable[[str], str]) -> tuple[Any, ...]:
    own = _own_names(change)
    fields = tuple((_pattern_path(short(f.path), own), f.category, _edit(f.before, f.after)) for f in change.fields)
    return (change.state, fields) if change.state == "changed" else (change.state, change.kind, id(change))


def grouped(changes: Sequence[ObjectChange], short: Callable[[str], str]) -> list[ChangeGroup]:
    """Changes by weight (lightest first), identical ones together when GROUP_FROM or more share one signature."""
    by_signature: dict[tuple[Any, ...], list[ObjectChange]] = {}
    for change in changes:
        by_signature.setdefault(_signature(change, short), []).append(change)
    groups: list[ChangeGroup] = []
    for members in by_signature.values():
        weight = change_weight(members[0])
        if len(members) >= GROUP_FROM:
            groups.append(ChangeGroup(members, weight))
        else:
            groups += [ChangeGroup([member], weight) for member in members]
    return sorted(groups, key=lambda g: (g.weight, -len(g.changes), g.first.kind, g.first.name))


def _form(middle: str, prefix: bool, suffix: bool) -> str:
    """One side of a pattern edit: ``x`` stands for the common start, ``…`` for the common end."""
    return f"{'x' if prefix else ''}{middle}{'…' if suffix else ''}"


def group_line(group: ChangeGroup, short: Callable[[str], str], value_cell: Callable[[Any], str]) -> str:
    """One line for a group of identical changes: how many of which kinds, the change as a pattern, one example."""
    code = inert.markdown_code
    kinds: dict[str, int] = {}
    for change in group.changes:
        kinds[change.kind] = kinds.get(change.kind, 0) + 1
    counted = ", ".join(f"{n:,} {kind}" for kind, n in sorted(kinds.items(), key=lambda item: (-item[1], item[0])))
    own = _own_names(group.first)
    parts = []
    for index, field in enumerate(group.first.fields[:6]):
        path = code(_pattern_path(short(field.path), own))
        alike = all(
            len(c.fields) > index and (c.fields[index].before, c.fields[index].after) == (field.before, field.after)
            for c in group.changes
        )
        edit = _edit(field.before, field.after)
        if alike or edit[0] != "edit":
            parts.append(f"{path}: {value_cell(field.before)} → {value_cell(field.after)}")
        else:
            parts.append(f"{path}: {code(_form(edit[1], edit[3], edit[4]))} → {code(_form(edit[2], edit[3], edit[4]))}")
    more = len(group.first.fields) - len(parts)
    example = group.first.fields[0] if group.first.fields else None
    line = f"- **{group.first.state}** {len(group.changes):,} objects ({counted}): " + "; ".join(parts)
    line += f" (+{more} more)" if more > 0 else ""
    if example is not None:
        line += f" (e.g. {code(group.first.name)}: {value_cell(example.before)} → {value_cell(example.after)})"
    return line


def _delta(before: Decimal | None, after: Decimal | None, shown: Callable[[Decimal], str]) -> str:
    if before is None and after is None:
        return "—"
    if before is None or after is None:
        return f"{shown(before) if before is not None else '—'} → {shown(after) if after is not None else '—'}"
    if before == after:
        return shown(after)
    sign = "+" if after > before else "-"
    return f"{shown(before)} → {shown(after)} ({sign}{shown(abs(after - before))})"


def cost_cells(env: EnvironmentChanges) -> list[str]:
    """Hourly cost at minimum and at maximum replicas and the job GPU-hours, before → after ("—": no prices)."""
    before, after = env.cost_before, env.cost_after
    currency = (after.currency if after is not None else None) or (before.currency if before is not None else None)

    def figure(cost: EnvironmentCost | None, pick: Callable[[EnvironmentCost], Decimal]) -> Decimal | None:
        return pick(cost) if cost is not None and cost.priced else None

    def hours(cost: EnvironmentCost | None) -> Decimal | None:
        return cost.job_gpu_hours if cost is not None else None

    def shown_money(amount: Decimal) -> str:
        return money(amount, currency)

    return [
        _delta(figure(before, lambda c: c.at_minimum), figure(after, lambda c: c.at_minimum), shown_money),
        _delta(figure(before, lambda c: c.at_maximum), figure(after, lambda c: c.at_maximum), shown_money),
        _delta(hours(before), hours(after), lambda n: f"{n.quantize(Decimal('0.1')):,}"),
    ]


def _take_in_turns(sections: list[list[str]], kept: list[int], budget: Budget, rounds: int | None = None) -> None:
    """Take each section's next line in turn while it fits (``rounds``: at most that many turns each)."""
    done = [kept[i] >= len(lines) for i, lines in enumerate(sections)]
    turn = 0
    while not all(done) and (rounds is None or turn < rounds):
        for index, lines in enumerate(sections):
            if done[index]:
                continue
            cost = comment_length(lines[kept[index]]) + 1
            if cost > budget.left:
                done[index] = True
                continue
            budget.left -= cost
            kept[index] += 1
            done[index] = kept[index] >= len(lines)
        turn += 1


def _take(lines: list[str], budget: Budget, most: int) -> int:
    """How many of ``lines`` fit in the budget and in ``most`` characters."""
    spent = taken = 0
    for line in lines:
        cost = comment_length(line) + 1
        if cost > budget.left or spent + cost > most:
            break
        budget.left -= cost
        spent += cost
        taken += 1
    return taken


@dataclass(frozen=True)
class CommentParts:
    """What the comment is built from: the head (always whole) and the budgeted lists."""

    head: list[str]
    headings: dict[str, str]
    sections: list[tuple[str, list[str]]]
    """(environment, change lines) by environment rank."""
    errors: list[str]
    other_findings: list[str]
    diff_lines: list[str]
    links: list[str]


def assemble(parts: CommentParts, limit: int = COMMENT_LIMIT) -> str:
    """The comment of ``parts``, never longer than ``limit`` as GitHub counts."""

    def details(budget: Budget) -> list[str]:
        sections = [lines for _, lines in parts.sections]
        budget.left -= _NOTE_ROOM * len(sections) + 200  # the "more" notes, headings and the diff's frame
        kept = [0] * len(sections)
        _take_in_turns(sections, kept, budget, rounds=1)  # every environment's most important change
        errors = _take(parts.errors, budget, max(budget.left // 3, 0))
        _take_in_turns(sections, kept, budget)
        others = _take(parts.other_findings, budget, budget.left)
        diff = _take(parts.diff_lines[:DIFF_LINES], budget, budget.left) if parts.diff_lines else 0
        lines: list[str] = []
        findings = [*parts.errors[:errors], *parts.other_findings[:others]]
        left_findings = len(parts.errors) + len(parts.other_findings) - len(findings)
        if findings or left_findings:
            title = "### New error findings" if parts.errors else "### Policy findings"
            lines += ["", title, "", *findings]
            if left_findings:
                budget.dropped["findings"] = left_findings
                lines.append(f"- … {left_findings:,} more findings not shown (the comment has a size limit)")
        for (name, section), count in zip(parts.sections, kept, strict=True):
            lines += ["", f"### {name}{parts.headings.get(name, '')}", "", *section[:count]]
            if count < len(section):
                budget.dropped[f"changes in {name}"] = len(section) - count
                lines.append(f"- … {len(section) - count:,} more changes in {name} not shown (the comment has a size limit)")
        if parts.diff_lines:
            lines += diff_block(parts.diff_lines, diff)
            if diff < len(parts.diff_lines):
                budget.dropped["diff"] = len(parts.diff_lines) - diff
        if parts.links:
            lines += ["", *parts.links]
        return lines

    return fit(parts.head, details, limit)


def diff_block(diff_lines: list[str], shown: int) -> list[str]:
    """The rendered diff folded in a <details> block with the lines that fit; a plain line when none fit."""
    total = len(diff_lines)
    if shown == 0:
        return ["", f"Rendered diff: {total:,} lines, not shown here (the comment has a size limit)."]
    kept = diff_lines[:shown]
    if shown < total:
        kept.append(f"... {total - shown:,} more lines")
    summary = f"Rendered diff ({total:,} lines)" + (f", first {shown:,} shown" if shown < total else "")
    return ["", f"<details><summary>{summary}</summary>", "", *inert.markdown_fence(kept, "diff"), "", "</details>"]


def finding_lines(notes: Sequence[Any], fixed: Sequence[Any]) -> tuple[list[str], list[str]]:
    """New error findings, and the other new findings then the fixed ones, as comment lines."""
    code = inert.markdown_code

    def new(note: Any) -> str:
        return f"- :x: new **{note.severity}** {code(note.rule)} ({code(note.environment)}, {code(note.where)}): " + code(
            note.message
        )

    ordered = sorted(notes, key=lambda n: environment_rank(n.environment))
    errors = [new(note) for note in ordered if note.severity is Severity.ERROR]
    others = [new(note) for note in ordered if note.severity is not Severity.ERROR]
    others += [f"- :white_check_mark: fixed {code(n.rule)} ({code(n.environment)}): {code(n.message)}" for n in fixed]
    return errors, others


def environment_order(environments: Sequence[EnvironmentChanges]) -> list[EnvironmentChanges]:
    return sorted(environments, key=lambda env: (environment_rank(env.name), env.name))


def run_links(environ: Mapping[str, str]) -> list[str]:
    """Where to see everything, from a GitHub Actions run's variables (GITHUB_SERVER_URL, GITHUB_REPOSITORY,
    GITHUB_REF of a pull request, GITHUB_RUN_ID): the pull request's files (the whole rendered diff) and the run
    (its `mlgitops-diff` artifact holds the full summary). Outside Actions: the commands that show the same."""
    server, repository = environ.get("GITHUB_SERVER_URL", ""), environ.get("GITHUB_REPOSITORY", "")
    pull = re.fullmatch(r"refs/pull/([0-9]+)/(merge|head)", environ.get("GITHUB_REF", ""))
    run = environ.get("GITHUB_RUN_ID", "")
    valid = re.fullmatch(r"https://[A-Za-z0-9.-]+(:[0-9]+)?", server) and re.fullmatch(
        r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+", repository
    )
    links = []
    if valid and pull:
        links.append(f"Full rendered diff: [the pull request's files]({server}/{repository}/pull/{pull.group(1)}/files).")
    if valid and re.fullmatch(r"[0-9]+", run):
        links.append(
            f"Full summary: the `mlgitops-diff` artifact of [this workflow run]({server}/{repository}/actions/runs/{run})."
        )
    if not links:
        links.append(
            "Everything: `mlgitops diff --output-format text` (every change) and `git diff` of `rendered/` (the full diff)."
        )
    return links


__all__ = [
    "GROUP_FROM",
    "ChangeGroup",
    "CommentParts",
    "assemble",
    "change_weight",
    "cost_cells",
    "environment_order",
    "environment_rank",
    "finding_lines",
    "group_line",
    "grouped",
    "run_links",
]
