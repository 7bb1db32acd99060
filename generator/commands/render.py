"""`mlgitops render` and `mlgitops schema`."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from generator.commands.options import environments_dir_option, policies_option
from generator.errors import UserError, UserErrors
from generator.output.inert import terminal, terminal_lines

if TYPE_CHECKING:
    from generator.fleet.run import RenderedFleet

EXIT_DRIFT = 1
EXIT_BAD_INPUT = 2


def fail(error: UserError) -> None:
    """Print a user error (one inert line per problem: see output/inert.py) and exit 2."""
    for each in error.errors if isinstance(error, UserErrors) else [error]:
        click.echo(f"error: {terminal(each.one_line())}", err=True)
    sys.exit(EXIT_BAD_INPUT)


def stop_on_findings(fleet: RenderedFleet) -> None:
    """Print the configuration applied and the policy findings of a render; exit 1, before anything is written, on an error."""
    from generator.output.reporters import text
    from generator.policy import fails

    if fleet.config_file is not None:
        click.echo(terminal(f"note: applied policy configuration {fleet.config_file}"), err=True)
    findings = fleet.findings
    # Waived findings are accepted on purpose; `mlgitops lint` lists them with their reasons.
    shown = [finding for finding in findings if finding.waiver is None]
    if shown:
        click.echo(text(shown, fleet.policies, fixes=True), err=True, nl=False)
    if fails(findings):
        errors = sum(1 for f in findings if f.waiver is None and f.severity == "error")
        click.echo(f"{errors} error finding(s): nothing was written (see `mlgitops explain RULE`)", err=True)
        sys.exit(EXIT_DRIFT)


@click.command()
@click.option(
    "--env",
    "environments",
    multiple=True,
    metavar="NAME",
    help="Render only this environment (repeatable). Default: all.",
)
@click.option("--check", is_flag=True, help="Render in memory and compare with the output folder; exit 1 on any difference.")
@environments_dir_option
@click.option(
    "--output",
    "output_dir",
    default="rendered",
    show_default=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder that receives rendered/<env>/.",
)
@policies_option
def render(
    environments: tuple[str, ...], check: bool, environments_dir: Path, output_dir: Path, policy_dirs: tuple[Path, ...]
) -> None:
    """Render environment files into kustomize roots, one folder per environment.

    Nothing is written unless every environment loads, renders, validates and passes the policy
    checks without an error finding; each folder is then replaced as a whole.
    Exit codes: 0 ok, 1 drift (--check) or error findings, 2 bad input.
    """
    from generator.fleet.run import render_fleet, wanted_files
    from generator.load.environments import load_environments
    from generator.output import tree

    try:
        tree.check_output_root(output_dir)  # before the work: an output folder render would refuse fails fast
        loaded = load_environments(environments_dir, environments)
        fleet = render_fleet(loaded, output_dir, list(policy_dirs))
        outputs = fleet.outputs
        stop_on_findings(fleet)
        # ArgoCD/Flux folders hold every environment's file, so only a full render rewrites them.
        wanted = wanted_files(outputs, gitops=not environments)
        # A full render also deletes the folders of environments that no longer exist (only folders
        # mlgitops can prove it wrote: see output/ownership.py).
        remove_stale = not environments
        if check:
            differences = tree.drift(output_dir, wanted, remove_stale)
            for difference in differences:
                click.echo(terminal_lines(difference.diff), nl=False)
            for difference in differences:
                click.echo(terminal(f"{difference.state}: {difference.path}"), err=True)
            if differences:
                click.echo(
                    terminal(f"{output_dir}/ is out of date ({len(differences)} file(s)); run `mlgitops render`"), err=True
                )
                sys.exit(EXIT_DRIFT)
            click.echo(terminal(f"{output_dir}/ is up to date ({_summary(outputs)})"))
            return
        written = tree.write(output_dir, wanted, remove_stale)
        for warning in written.warnings:
            click.echo(terminal(f"warning: {warning}"), err=True)
        changed = written.changed
        state = f"updated {', '.join(changed)}" if changed else "no changes"
        click.echo(terminal(f"rendered {_summary(outputs)} into {output_dir}/ ({state})"))
    except UserError as error:
        fail(error)


def _summary(outputs: list) -> str:  # type: ignore[type-arg]
    return ", ".join(f"{output.name}: {len(output.objects)} objects" for output in outputs) or "no environments"


@click.command()
def schema() -> None:
    """Print the JSON Schema of environment files (for editors: yaml-language-server)."""
    from generator.spec.editor_schema import environment_file_schema

    click.echo(json.dumps(environment_file_schema(), indent=2, sort_keys=False))
