"""The steps every editing command shares: edit in memory, re-render, then diff or write, and report."""

from __future__ import annotations

import difflib
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from generator.commands.render import fail, stop_on_findings
from generator.errors import UserError

if TYPE_CHECKING:
    from generator.edit.session import Edit
    from generator.fleet.rerender import Rerendered

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
    from generator.edit.requests import some

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
    from generator.edit.session import apply, load_fleet

    try:
        fleet = load_fleet(options.environments_dir)
        _check_names(options, sorted(fleet[0]))
        changes, notes = build(fleet[0])
        edit = apply(options.environments_dir, options.environment, changes, in_base=options.in_base, fleet=fleet)
        rendered = None
        if edit.affected and (not options.no_render or options.pr_body is not None):
            from generator.fleet.rerender import rerender

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
            diff = _diff(edit, rendered if not options.no_render else None, options.output_dir)
            if options.output_format == "text":
                click.echo(diff, nl=False)
        else:
            if rendered is not None and not options.no_render:
                from generator.output import tree

                tree.check_output_root(options.output_dir)  # before the first file is written
            _write(edit, rendered if not options.no_render else None, options.output_dir)
            if options.pr_body is not None:
                _write_body(options, options.pr_body, edit, rendered, notes)
    except UserError as error:
        fail(error)
        return
    for note in notes:
        click.echo(f"note: {_inert(note)}", err=True)
    if options.output_format == "json":
        click.echo(_json(options, edit, rendered, notes, diff))
    else:
        _text(options, edit, rendered)


def _diff(edit: Edit, rendered: Rerendered | None, output_dir: Path) -> str:
    from generator.output import tree
    from generator.output.file_diff import file_diff
    from generator.paths import shown_path

    chunks = [file_diff(shown_path(path), shown_path(path), old, new) for path, (old, new) in sorted(edit.texts.items())]
    if rendered is not None:
        tree.check_output_root(output_dir)
        chunks += [difference.diff for difference in tree.drift(output_dir, rendered.wanted)]
    return "".join(chunks)


def _write(edit: Edit, rendered: Rerendered | None, output_dir: Path) -> None:
    from generator.output import tree
    from generator.output.files import check_replaceable, replace_file

    for path in edit.texts:
        check_replaceable(path)  # every file before the first is written
    for path, (_, new) in sorted(edit.texts.items()):
        replace_file(path, new.encode("utf-8"))
    if rendered is not None:
        tree.write(output_dir, rendered.wanted)


def _write_body(options: EditOptions, target: Path, edit: Edit, rendered: Rerendered | None, notes: list[str]) -> None:
    from generator.output.file_diff import unified
    from generator.output.files import replace_file
    from generator.review.changes import compare_environment
    from generator.review.pull_request import EditedValue, pull_request_body
    from generator.spec.paths import MISSING, show

    environments = []
    file_diff = _diff(edit, None, options.output_dir)
    if rendered is not None:
        for output in rendered.after.outputs:
            old = rendered.before.get(output.name)
            environments.append(
                compare_environment(
                    output.name, [item.obj for item in old.objects] if old else [], [item.obj for item in output.objects]
                )
            )
            file_diff += unified(old.files if old else {}, output.files, f"{options.output_dir.as_posix()}/{output.name}")
    values = [
        EditedValue(
            a.environment,
            show(a.path),
            None if a.before is MISSING else a.before,
            None if a.after is MISSING else a.after,
            f"{a.location.file}:{a.location.line}",
        )
        for a in edit.applied
    ]
    replace_file(target, pull_request_body(options.title, values, environments, file_diff, notes).encode("utf-8"))


def _inert(value: Any) -> str:
    """A user-controlled value for the terminal: JSON-quoted, so control characters cannot act."""
    from generator.spec.paths import MISSING

    if value is MISSING:
        return "(none)"
    return value if isinstance(value, str) and value.isprintable() and value.isascii() else json.dumps(value)


def _text(options: EditOptions, edit: Edit, rendered: Rerendered | None) -> None:
    from generator.spec.paths import MISSING, show

    if not edit.applied:
        other = f" already runs what {options.source} runs" if options.source else " already has that value"
        click.echo(f"{options.environment}{other}: nothing to change")
        return
    for applied in edit.applied:
        before = "(none)" if applied.before is MISSING else json.dumps(applied.before)
        after = "(removed)" if applied.after is MISSING else json.dumps(applied.after)
        # With --dry-run stdout is the diff alone, so that it can be piped to `git apply`.
        click.echo(f"{applied.location}: {applied.environment}: {show(applied.path)}: {before} -> {after}", err=options.dry_run)
    files = f"{len(edit.texts)} file(s)"
    names = ", ".join(edit.affected)
    if options.dry_run:
        click.echo(f"--dry-run: would change {files} and re-render {names}; nothing was written", err=True)
    elif options.no_render:
        click.echo(f"changed {files}; rendered/ not updated (--no-render): run `mlgitops render`", err=True)
    elif rendered is not None:
        click.echo(f"changed {files}; re-rendered {names} into {options.output_dir}/", err=True)


def _json(options: EditOptions, edit: Edit, rendered: Rerendered | None, notes: list[str], diff: str) -> str:
    from generator.paths import shown_path
    from generator.spec.paths import MISSING, Item, show

    def plain(value: Any) -> Any:
        return None if value is MISSING else value

    document: dict[str, Any] = {
        "command": "promote" if options.source else "set",
        "environment": options.environment,
        "from": options.source,
        "dryRun": options.dry_run,
        "changes": [
            {
                "environment": applied.environment,
                "workload": applied.path[1].name if len(applied.path) > 1 and isinstance(applied.path[1], Item) else None,
                "path": show(applied.path),
                "before": plain(applied.before),
                "after": plain(applied.after),
                "removed": applied.after is MISSING,
                "file": applied.location.file,
                "line": applied.location.line,
                "column": applied.location.column,
            }
            for applied in edit.applied
        ],
        "files": sorted(shown_path(path) for path in edit.texts),
        "affected": edit.affected,
        "rendered": [] if options.no_render or rendered is None else [output.name for output in rendered.after.outputs],
        "notes": notes,
    }
    if options.dry_run:
        document["diff"] = diff
    return json.dumps(document, indent=2, default=str)


__all__ = ["EditOptions", "run_edit"]
