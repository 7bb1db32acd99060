"""The steps every editing command shares: edit in memory, re-render, then diff or write, and report."""

from __future__ import annotations

import difflib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from mlgitops.commands.render import fail, stop_on_findings
from mlgitops.errors import UserError
from mlgitops.output import inert
from mlgitops.output.inert import terminal, terminal_lines

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


def run_edit(options: EditOptions, build: ChangeBuilder) -> None:
    """Edit, render, then print the diff (--dry-run) or write; report in text or JSON; exit 2 on bad input."""
    from mlgitops.edit.session import apply, load_fleet
    from mlgitops.review.edit_report import edit_diff

    try:
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
            if not options.no_render:
                stop_on_findings(rendered.after)
        diff = ""
        if options.dry_run:
            diff = edit_diff(edit, rendered if not options.no_render else None, options.output_dir)
            if options.output_format == "text":
                # Inert for a CI log like render --check's diff; CRLF shown as plain line ends (JSON keeps them).
                click.echo(terminal_lines(diff.replace("\r\n", "\n")), nl=False)
        else:
            if rendered is not None and not options.no_render:
                from mlgitops.output import tree

                tree.check_output_root(options.output_dir)  # before the first file is written
            body = _pr_body(options, edit, rendered, notes)  # and the description's place too
            _write(edit, rendered if not options.no_render else None, options.output_dir)
            if body is not None:
                from mlgitops.output.safe_write import replace_file

                replace_file(body[0], body[1])
    except UserError as error:
        fail(error)
        return
    for note in notes:
        click.echo(terminal(f"note: {note}"), err=True)
    if options.output_format == "json":
        click.echo(_json(options, edit, rendered, notes, diff), nl=False)
    else:
        _text(options, edit, rendered)


def _pr_body(options: EditOptions, edit: Edit, rendered: Rerendered | None, notes: list[str]) -> tuple[Path, bytes] | None:
    """Where --pr-body goes and what it says, checked before any file of the edit is written (a UserError if it cannot be)."""
    if options.pr_body is None:
        return None
    import os

    from mlgitops.output.safe_write import check_replaceable
    from mlgitops.paths import shown_path
    from mlgitops.review.pull_request import edit_body

    # The operator named this file: a linked folder on its way (macOS's /tmp) is theirs to choose.
    path = options.pr_body.parent.resolve() / options.pr_body.name
    if not path.parent.is_dir() or not os.access(path.parent, os.W_OK):
        problem = "does not exist" if not path.parent.exists() else "is not a writable folder"
        raise UserError(f"--pr-body {shown_path(options.pr_body)}: {shown_path(path.parent)} {problem}; nothing was written")
    check_replaceable(path)
    return path, edit_body(options.title, edit, rendered, options.output_dir, notes).encode("utf-8")


def _write(edit: Edit, rendered: Rerendered | None, output_dir: Path) -> None:
    from mlgitops.output import tree
    from mlgitops.output.safe_write import check_replaceable, replace_file

    for path in edit.texts:
        check_replaceable(path)  # every file before the first is written
    for path, (_, new) in sorted(edit.texts.items()):
        replace_file(path, new.encode("utf-8"))
    if rendered is not None:
        for warning in tree.write(output_dir, rendered.wanted).warnings:
            click.echo(terminal(f"warning: {warning}"), err=True)


def _text(options: EditOptions, edit: Edit, rendered: Rerendered | None) -> None:
    from mlgitops.review.edit_report import change_lines

    if not edit.applied:
        other = f" already runs what {options.source} runs" if options.source else " already has that value"
        click.echo(terminal(f"{options.environment}{other}: nothing to change"))
        return
    for line in change_lines(edit):
        # With --dry-run, stdout is the diff alone.
        click.echo(terminal(line), err=options.dry_run)
    files = f"{len(edit.texts)} file(s)"
    names = ", ".join(edit.affected)
    if options.dry_run:
        click.echo(terminal(f"--dry-run: would change {files} and re-render {names}; nothing was written"), err=True)
    elif options.no_render:
        click.echo(terminal(f"changed {files}; rendered/ not updated (--no-render): run `mlgitops render`"), err=True)
    elif rendered is not None:
        click.echo(terminal(f"changed {files}; re-rendered {names} into {options.output_dir}/"), err=True)


def _json(options: EditOptions, edit: Edit, rendered: Rerendered | None, notes: list[str], diff: str) -> str:
    from mlgitops.paths import shown_path
    from mlgitops.review.edit_report import change_records

    document: dict[str, Any] = {
        "command": "promote" if options.source else "set",
        "environment": options.environment,
        "from": options.source,
        "dryRun": options.dry_run,
        "changes": change_records(edit),
        "files": sorted(shown_path(path) for path in edit.texts),
        "affected": edit.affected,
        "rendered": [] if options.no_render or rendered is None else [output.name for output in rendered.after.outputs],
        "notes": notes,
    }
    if options.dry_run:
        document["diff"] = diff
    return inert.json_document(document, default=str)


__all__ = ["EditOptions", "run_edit"]
