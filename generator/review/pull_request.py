"""The Markdown description of a pull request that `mlgitops set` or `mlgitops promote` prepares.

It opens with the values the edit changes (environment, field, before, after) and continues
with the same sections `mlgitops diff` posts: requested resources before → after, the objects
that change, and the rendered diff, so a reviewer sees one format whichever way a change came.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlgitops.output import inert
from mlgitops.review.changes import EnvironmentChanges
from mlgitops.review.comment_size import Budget, fit
from mlgitops.review.summary import diff_details, object_sections, resources_table, traffic_lines, value_cell

if TYPE_CHECKING:
    from mlgitops.edit.session import Edit
    from mlgitops.fleet.rerender import Rerendered


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
    """The description: title, changed values, notes, then the `mlgitops diff` sections.

    Never longer than GitHub takes for a description (review/comment_size.py): the values, notes and
    resource table whole, then the objects and the diff while they fit.
    """
    lines = [f"## {title}", "", "| environment | field | before | after | file |", "| --- | --- | --- | --- | --- |"]
    for value in values:
        code = functools.partial(inert.markdown_code, in_table=True)
        cells = [
            value.environment,
            code(value.field),
            value_cell(value.before, code),
            value_cell(value.after, code),
            code(value.where),
        ]
        lines.append(f"| {' | '.join(cells)} |")
    if notes:
        lines += ["", *(f"- {inert.markdown_code(note)}" for note in notes)]
    if environments:
        lines += ["", *resources_table(environments), *traffic_lines(environments)]

    def details(budget: Budget) -> list[str]:
        shown = diff_details(file_diff.replace("\r\n", "\n"), "Diff of environments/ and rendered/", budget)
        return [*object_sections(environments, budget=budget), *shown]

    return fit(lines, details)


def edit_body(title: str, edit: Edit, rendered: Rerendered | None, output_dir: Path, notes: list[str]) -> str:
    """The description of an edit: its values, and the affected environments' renders before → after."""
    from mlgitops.output.file_diff import unified
    from mlgitops.review.changes import compare_environment
    from mlgitops.review.edit_report import edit_diff, visible_value
    from mlgitops.spec.paths import show

    environments = []
    file_diff = edit_diff(edit, None, output_dir)
    if rendered is not None:
        for output in rendered.after.outputs:
            old = rendered.before.get(output.name)
            before = [item.obj for item in old.objects] if old else []
            environments.append(compare_environment(output.name, before, [item.obj for item in output.objects]))
            file_diff += unified(old.files if old else {}, output.files, f"{output_dir.as_posix()}/{output.name}")
    values = [
        EditedValue(
            a.environment,
            show(a.path),
            visible_value(a.path, a.before),
            visible_value(a.path, a.after),
            f"{a.location.file}:{a.location.line}",
        )
        for a in edit.applied
    ]
    return pull_request_body(title, values, environments, file_diff, notes)


__all__ = ["EditedValue", "edit_body", "pull_request_body"]
