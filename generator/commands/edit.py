"""`mlgitops set image|model|replicas|resources` and `mlgitops promote`: edit environment files, then re-render."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from mlgitops.commands.completion import complete_environments, complete_workloads
from mlgitops.commands.options import environments_dir_option, output_dir_option, output_format_option, policies_option
from mlgitops.edit.run import ChangeBuilder, EditOptions, PlannedEdit
from mlgitops.errors import ExitCode
from mlgitops.output import inert
from mlgitops.output.inert import terminal, terminal_lines


def run_edit(options: EditOptions, build: ChangeBuilder) -> ExitCode:
    """Plan the edit; stop on the re-render's error findings; print the diff (--dry-run) or write; report."""
    from mlgitops.commands.render import repository_locked

    # Held from before the files are read until the edit is written: two edits of one file take turns.
    with repository_locked(options.environments_dir, options.output_dir, writes=not options.dry_run):
        return _edit(options, build)


def _edit(options: EditOptions, build: ChangeBuilder) -> ExitCode:
    from mlgitops.commands.render import report_findings
    from mlgitops.edit.run import plan_edit, pr_body_path, write_edit
    from mlgitops.review.edit_report import edit_diff

    planned = plan_edit(options, build)
    if planned.written_output is not None and report_findings(planned.written_output.after):
        return ExitCode.FINDINGS
    diff = ""
    if options.dry_run:
        diff = edit_diff(planned.edit, planned.written_output, options.output_dir)
        if options.output_format == "text":
            # Inert for a CI log like render --check's diff; CRLF shown as plain line ends (JSON keeps them).
            click.echo(terminal_lines(diff.replace("\r\n", "\n")), nl=False)
    else:
        extra = {}
        path = pr_body_path(options)  # checked, and the description made, before the first file is written
        if path is not None:
            from mlgitops.review.pull_request import edit_body

            body = edit_body(options.title, planned.edit, planned.rendered, options.output_dir, planned.notes)
            extra[path] = body.encode("utf-8")
        for warning in write_edit(planned, options.output_dir, extra):
            click.echo(terminal(f"warning: {warning}"), err=True)
    for note in planned.notes:
        click.echo(terminal(f"note: {note}"), err=True)
    if options.output_format == "json":
        click.echo(_json(options, planned, diff), nl=False)
    else:
        _text(options, planned)
    return ExitCode.OK


def _text(options: EditOptions, planned: PlannedEdit) -> None:
    from mlgitops.review.edit_report import change_lines

    edit = planned.edit
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
    elif planned.rendered is not None:
        click.echo(terminal(f"changed {files}; re-rendered {names} into {options.output_dir}/"), err=True)


def _json(options: EditOptions, planned: PlannedEdit, diff: str) -> str:
    from mlgitops.paths import shown_path
    from mlgitops.review.edit_report import change_records

    edit, rendered = planned.edit, planned.written_output
    document: dict[str, Any] = {
        "command": "promote" if options.source else "set",
        "environment": options.environment,
        "from": options.source,
        "dryRun": options.dry_run,
        "changes": change_records(edit),
        "files": sorted(shown_path(path) for path in edit.texts),
        "affected": edit.affected,
        "rendered": [] if rendered is None else [output.name for output in rendered.after.outputs],
        "notes": planned.notes,
    }
    if options.dry_run:
        document["diff"] = diff
    return inert.json_document(document, default=str)


def _edit_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """Options every editing command shares: what to do after the edit, and how to report it."""
    for option in reversed(
        [
            click.option("--no-render", is_flag=True, help="Edit the environment files only; leave rendered/ as it is."),
            click.option(
                "--dry-run", is_flag=True, help="Print the unified diff of the environment files and rendered/; write nothing."
            ),
            output_format_option(("text", "json"), "text"),
            click.option(
                "--pr-body",
                type=click.Path(dir_okay=False, path_type=Path),
                metavar="FILE",
                help="Write a Markdown pull-request description (changed values and the `mlgitops diff` tables).",
            ),
            environments_dir_option,
            output_dir_option,
            policies_option,
        ]
    ):
        command = option(command)
    return command


_ENV = click.option(
    "-e",
    "--env",
    "environment",
    required=True,
    metavar="ENV",
    shell_complete=complete_environments,
    help="The environment to change.",
)
_IN_BASE = click.option(
    "--in-base",
    is_flag=True,
    help="Change the value where the environment inherits it (every environment sharing that base changes too).",
)


@click.group("set")
def set_command() -> None:
    """Change a workload's image, model, replicas, resources or canary in one environment.

    The value is edited where the environment defines it: in its own file when that overrides
    it, otherwise as a new override in its own file (the shared base stays as it is, unless
    --in-base). Comments, key order, quoting and indentation are kept; the affected environments
    are re-rendered. Exit codes: 0 ok, 1 error findings (nothing written), 2 bad input.
    """


@set_command.command("image")
@click.argument("workload", shell_complete=complete_workloads)
@click.argument("image")
@_ENV
@click.option("--container", metavar="NAME", help="An init container or sidecar of the workload (default: its main container).")
@_IN_BASE
@_edit_options
def set_image(workload: str, image: str, environment: str, container: str | None, in_base: bool, **options: Any) -> ExitCode:
    """Set WORKLOAD's image: IMAGE[@DIGEST] in full, or only :TAG or @DIGEST of the current image."""
    from mlgitops.edit.requests import image_changes

    return run_edit(
        EditOptions(title=f"Set the image of {workload} in {environment}", environment=environment, in_base=in_base, **options),
        lambda fleet: (image_changes(fleet[environment], workload, image, container), []),
    )


@set_command.command("model")
@click.argument("workload", shell_complete=complete_workloads)
@click.argument("version_or_alias", metavar="VERSION|ALIAS")
@_ENV
@_IN_BASE
@_edit_options
def set_model(workload: str, version_or_alias: str, environment: str, in_base: bool, **options: Any) -> ExitCode:
    """Serve registered-model VERSION (digits) or ALIAS with WORKLOAD; the other of the two is dropped."""
    from mlgitops.edit.requests import model_changes

    return run_edit(
        EditOptions(title=f"Set the model of {workload} in {environment}", environment=environment, in_base=in_base, **options),
        lambda fleet: (model_changes(fleet[environment], workload, version_or_alias), []),
    )


@set_command.command("replicas")
@click.argument("workload", shell_complete=complete_workloads)
@click.argument("count", type=click.IntRange(0, 2**31 - 1), required=False)
@click.option(
    "--min",
    "minimum",
    type=click.IntRange(0, 2**31 - 1),
    help="The autoscaler's minimum (0: KEDA scale to zero; an HPA needs 1 or more).",
)
@click.option("--max", "maximum", type=click.IntRange(1, 2**31 - 1), help="The autoscaler's maximum.")
@_ENV
@_IN_BASE
@_edit_options
def set_replicas(
    workload: str, count: int | None, minimum: int | None, maximum: int | None, environment: str, in_base: bool, **options: Any
) -> ExitCode:
    """Set WORKLOAD's fixed replica COUNT, or its autoscaler's --min/--max."""
    from mlgitops.edit.requests import replica_changes

    if (count is None) == (minimum is None and maximum is None):
        raise click.UsageError("give a replica COUNT, or --min/--max for a workload that autoscales (not both)")
    return run_edit(
        EditOptions(
            title=f"Set the replicas of {workload} in {environment}", environment=environment, in_base=in_base, **options
        ),
        lambda fleet: (replica_changes(fleet[environment], workload, count, minimum, maximum), []),
    )


@set_command.command("resources")
@click.argument("workload", shell_complete=complete_workloads)
@click.argument("assignments", nargs=-1, required=True, metavar="KEY=VALUE...")
@_ENV
@_IN_BASE
@_edit_options
def set_resources(workload: str, assignments: tuple[str, ...], environment: str, in_base: bool, **options: Any) -> ExitCode:
    """Set WORKLOAD's resources: cpu=4 memory=16Gi gpu=2 limits.cpu=8 ... (KEY= removes a key)."""
    from mlgitops.edit.requests import resource_changes

    return run_edit(
        EditOptions(
            title=f"Set the resources of {workload} in {environment}", environment=environment, in_base=in_base, **options
        ),
        lambda fleet: (resource_changes(fleet[environment], workload, assignments), []),
    )


@set_command.command("canary")
@click.argument("workload")
@click.argument("weight", type=click.IntRange(0, 1_000_000), required=False)
@click.option("--stable-weight", type=click.IntRange(0, 1_000_000), help="The stable server's weight (default: 100 - WEIGHT).")
@click.option("--promote", "make_stable", is_flag=True, help="Make the candidate the stable server and end the canary.")
@_ENV
@_IN_BASE
@_edit_options
def set_canary(
    workload: str,
    weight: int | None,
    stable_weight: int | None,
    make_stable: bool,
    environment: str,
    in_base: bool,
    **options: Any,
) -> ExitCode:
    """Give WORKLOAD's canary candidate WEIGHT of the traffic, or --promote the candidate to stable."""
    from mlgitops.edit.canary import canary_changes

    if make_stable == (weight is not None or stable_weight is not None):
        raise click.UsageError("give a WEIGHT (and --stable-weight), or --promote (not both)")
    return run_edit(
        EditOptions(title=f"Set the canary of {workload} in {environment}", environment=environment, in_base=in_base, **options),
        lambda fleet: (canary_changes(fleet[environment], workload, weight, stable_weight), []),
    )


@click.command()
@click.option(
    "--from",
    "source",
    required=True,
    metavar="ENV",
    shell_complete=complete_environments,
    help="The environment whose images and models to copy.",
)
@click.option(
    "--to", "target", required=True, metavar="ENV", shell_complete=complete_environments, help="The environment to change."
)
@click.argument("workloads", nargs=-1, metavar="[WORKLOAD]...", shell_complete=complete_workloads)
@click.option(
    "--field",
    "fields",
    multiple=True,
    metavar="FIELD",
    help="What to copy: image, model, or a workload field path such as resources or env[MODEL_URI].value "
    "(repeatable; default: promote.fields of .mlgitops.yaml, else image and model).",
)
@_edit_options
def promote(source: str, target: str, workloads: tuple[str, ...], fields: tuple[str, ...], **options: Any) -> ExitCode:
    """Give --to ENV the images and model versions --from ENV runs (all shared workloads, or those named).

    Edits the target environment's own file only, prints what changed and re-renders it.
    Exit codes: 0 ok (also when nothing differs), 1 error findings (nothing written), 2 bad input.
    """
    from mlgitops.edit.promotion import promotion

    if source == target:
        raise click.UsageError("--from and --to name the same environment")

    def changes(fleet: dict[str, Any]) -> tuple[list[Any], list[str]]:
        from mlgitops.policy.config import load_config

        config = load_config(options["environments_dir"])
        given_by = "--field" if fields else f"{config.file}: promote.fields:"
        found = promotion(fleet[source], fleet[target], workloads, fields or config.promote_fields, given_by)
        return found.changes, found.notes

    return run_edit(
        EditOptions(title=f"Promote {source} to {target}", environment=target, source=source, **options),
        changes,
    )


__all__ = ["promote", "set_command"]
