"""The Markdown description of a pull request that `mlgitops set` or `mlgitops promote` prepares.

It opens with the values the edit changes (environment, field, before, after) and continues
with the same sections `mlgitops diff` posts: requested resources before → after, the objects
that change, and the rendered diff, so a reviewer sees one format whichever way a change came.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from generator.review.changes import EnvironmentChanges
from generator.review.summary import diff_details, object_sections, resources_table, value_cell


@dataclass(frozen=True)
class EditedValue:
    """One row of the table of changed values."""

    environment: str
    field: str
    before: Any
    after: Any
    where: str


def pull_request_body(
    title: str, values: list[EditedValue], environments: list[EnvironmentChanges], file_diff: str, notes: list[str]
) -> str:
    """The description: title, changed values, notes, then the `mlgitops diff` sections."""
    lines = [f"## {title}", "", "| environment | field | before | after | file |", "| --- | --- | --- | --- | --- |"]
    for value in values:
        cells = [value.environment, f"`{value.field}`", value_cell(value.before), value_cell(value.after), f"`{value.where}`"]
        lines.append(f"| {' | '.join(cells)} |")
    if notes:
        lines += ["", *(f"- {note}" for note in notes)]
    if environments:
        lines += ["", *resources_table(environments)]
        lines += object_sections(environments)
    lines += diff_details(file_diff, "Diff of environments/ and rendered/")
    return "\n".join(lines) + "\n"


__all__ = ["EditedValue", "pull_request_body"]
