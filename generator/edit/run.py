"""The steps every editing command shares: edit in memory, re-render, then write all of it.

`mlgitops set` and `mlgitops promote` plan an edit (:func:`plan_edit`: load the fleet, apply the changes to the
environment files in memory, re-render the environments they affect) and, unless it is a dry run or the
render has error findings, write it (:func:`write_edit`). Nothing here prints or exits: the commands report
what a plan holds and ``cli`` turns a ``UserError`` into exit 2.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlgitops.errors import UserError

if TYPE_CHECKING:
    from mlgitops.edit.session import Edit
    from mlgitops.fleet.rerender import Rerendered

ChangeBuilder = Callable[[dict[str, Any]], tuple[list[Any], list[str]]]
"""Loaded environments by name → (changes to the target environment, notes on what was left out)."""


@dataclass(frozen=True)
class EditOptions:
    """What the command line asked for."""

    title: str
    environment: str
    no_render: bool
    dry_run: bool
    output_format: str
    pr_body: Path | None
    environments_dir: Path
    output_dir: Path
    policy_dirs: tuple[Path, ...]
    in_base: bool = False
    source: str | None = None


@dataclass(frozen=True)
class PlannedEdit:
    """An edit made in memory: the new file texts, the environments it re-rendered (None with --no-render and no
    --pr-body, or when nothing changed), and notes on what was left out."""

    edit: Edit
    rendered: Rerendered | None
    notes: list[str]
    renders_output: bool
    """Whether the output folder is rewritten (False with --no-render: the re-render only feeds --pr-body)."""

    @property
    def written_output(self) -> Rerendered | None:
        """What goes into the output folder: the re-render, unless rendered/ is left alone (--no-render)."""
        return self.rendered if self.renders_output else None


def _check_names(options: EditOptions, known: list[str]) -> None:
    """Unknown environments name the file that would define them, and the closest existing one."""
    from mlgitops.edit.requests import some

    for flag, name in (("--from", options.source), ("--to" if options.source else "--env", options.environment)):
        if name is None or name in known:
            continue
        close = difflib.get_close_matches(name, known, n=1)
        hint = f"did you mean {close[0]!r}?" if close else f"environments: {some(known)}"
        abstract = any(path.stem == name for path in options.environments_dir.glob("*.y*ml"))
        what = "is an abstract base, not an environment" if abstract else "does not exist"
        raise UserError(f"{flag} {name}: {options.environments_dir.as_posix()}/{name}.yaml {what} ({hint})")


def plan_edit(options: EditOptions, build: ChangeBuilder) -> PlannedEdit:
    """Load the fleet, apply ``build``'s changes in memory and re-render what they affect; nothing is written.

    Raises ``UserError`` for an unknown environment, a change that cannot be made, or an environment that no
    longer loads or renders after it.
    """
    from mlgitops.edit.session import apply, load_fleet

    fleet = load_fleet(options.environments_dir)
    _check_names(options, sorted(fleet[0]))
    changes, notes = build(fleet[0])
    edit = apply(options.environments_dir, options.environment, changes, in_base=options.in_base, fleet=fleet)
    rendered = None
    if edit.affected and (not options.no_render or options.pr_body is not None):
        from mlgitops.fleet.rerender import rerender

        rendered = rerender(
            edit.before,
            edit.after,
            edit.affected,
            options.output_dir,
            list(options.policy_dirs),
            with_before=options.pr_body is not None,
        )
    return PlannedEdit(edit, rendered, notes, renders_output=not options.no_render)


def pr_body_path(options: EditOptions) -> Path | None:
    """Where --pr-body goes, checked before any file of the edit is written (a ``UserError`` if it cannot be)."""
    if options.pr_body is None:
        return None
    from mlgitops.output.safe_write import check_replaceable
    from mlgitops.paths import shown_path

    # The operator named this file: a linked folder on its way (macOS's /tmp) is theirs to choose.
    path = options.pr_body.parent.resolve() / options.pr_body.name
    if not path.parent.is_dir() or not os.access(path.parent, os.W_OK):
        problem = "does not exist" if not path.parent.exists() else "is not a writable folder"
        raise UserError(f"--pr-body {shown_path(options.pr_body)}: {shown_path(path.parent)} {problem}; nothing was written")
    check_replaceable(path)
    return path


def write_edit(planned: PlannedEdit, output_dir: Path, extra: dict[Path, bytes] | None = None) -> list[str]:
    """Write the edited environment files, the re-rendered output folders and ``extra`` files (a pull-request
    description); returns the output tree's warnings. Every file is checked before the first is written."""
    from mlgitops.output import tree
    from mlgitops.output.safe_write import check_replaceable, replace_file

    rendered = planned.written_output
    if rendered is not None:
        tree.check_output_root(output_dir)  # before the first file is written
    for path in planned.edit.texts:
        check_replaceable(path)
    for path, (_, new) in sorted(planned.edit.texts.items()):
        replace_file(path, new.encode("utf-8"))
    warnings = tree.write(output_dir, rendered.wanted).warnings if rendered is not None else []
    for path, content in sorted((extra or {}).items()):
        replace_file(path, content)
    return warnings


__all__ = ["EditOptions", "PlannedEdit", "plan_edit", "pr_body_path", "write_edit"]
