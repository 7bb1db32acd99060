"""`mlgitops render`, `mlgitops template` and `mlgitops schema`."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from mlgitops.commands.completion import complete_environments
from mlgitops.commands.console import console
from mlgitops.commands.options import environment_option, environments_dir_option, output_dir_option, policies_option
from mlgitops.errors import ExitCode, UserError
from mlgitops.output.inert import terminal, terminal_lines

if TYPE_CHECKING:
    from mlgitops.fleet.run import RenderedFleet

# From about this many workloads (over all environments) a render takes a few seconds: worth a progress line.
PROGRESS_FROM_WORKLOADS = 300


def report_findings(fleet: RenderedFleet) -> bool:
    """Print the configuration applied and the policy findings of a render; True when an error finding blocks writing."""
    from mlgitops.output.reporters import text
    from mlgitops.policy import Severity, fails

    out = console()
    if fleet.config_file is not None:
        out.info(terminal(f"note: applied policy configuration {fleet.config_file}"))
    findings = fleet.findings
    # Waived findings are accepted on purpose; `mlgitops lint` lists them with their reasons.
    shown = [finding for finding in findings if finding.waiver is None]
    if shown:
        click.echo(text(shown, fleet.policies, fixes=True, colour_on=out.colour_err), err=True, nl=False, color=out.colour_err)
    for warning in fleet.warnings:
        click.echo(terminal(warning), err=True)
    if fails(findings):
        errors = sum(1 for f in findings if f.waiver is None and f.severity is Severity.ERROR)
        click.echo(f"{errors} error finding(s): nothing was written (see `mlgitops explain RULE`)", err=True)
        return True
    return False


@contextlib.contextmanager
def repository_locked(environments_dir: Path, output_dir: Path, *, writes: bool) -> Iterator[None]:
    """Hold the repository's lock (output/lock.py) for a run that reads the environment files and then writes
    (``writes``) or compares; say when another run holds it. A run that writes removes the temporary files an
    interrupted run left next to the environment files; one that only reads names them."""
    from mlgitops.output.lock import repository_lock
    from mlgitops.output.safe_write import leftovers, remove_leftovers
    from mlgitops.paths import shown_path

    out = console()

    def waiting(lock: str) -> None:
        out.info(terminal(f"note: waiting for another mlgitops run on this repository to finish (lock {lock})"))

    with repository_lock(environments_dir, output_dir, waiting=waiting, optional=not writes):
        if writes:
            warnings = remove_leftovers(environments_dir)
        else:
            left = "left by an interrupted mlgitops run (`mlgitops render` removes it)"
            warnings = [f"{shown_path(path)} is {left}" for path in leftovers(environments_dir)]
        for warning in warnings:
            click.echo(terminal(f"warning: {warning}"), err=True)
        yield


@click.command()
@environment_option("Render only this environment (repeatable). Default: all.", multiple=True)
@click.option("--check", is_flag=True, help="Render in memory and compare with the output folder; exit 1 on any difference.")
@click.option(
    "--stdout",
    "to_stdout",
    is_flag=True,
    help="Print the objects as one multi-document YAML stream instead of writing files (like helm template).",
)
@environments_dir_option
@output_dir_option
@policies_option
def render(
    environments: tuple[str, ...],
    check: bool,
    to_stdout: bool,
    environments_dir: Path,
    output_dir: Path,
    policy_dirs: tuple[Path, ...],
) -> ExitCode:
    """Render environment files into kustomize roots, one folder per environment.

    Nothing is written unless every environment loads, renders, validates and passes the policy
    checks without an error finding; each folder is then replaced as a whole.
    Exit codes: 0 ok, 1 drift (--check) or error findings, 2 bad input.
    """
    if check and to_stdout:
        raise UserError("--check and --stdout exclude each other: --check compares files, --stdout writes none")
    if to_stdout:
        fleet = _render(environments, environments_dir, output_dir, policy_dirs)
        if fleet is None:
            return ExitCode.FINDINGS
        _print_stream(fleet.outputs)
        return ExitCode.OK
    from mlgitops.output import tree

    # Before the work: an output folder render would refuse fails fast. The lock is held from before the
    # environment files are read until rendered/ is written: an edit (`set`) made meanwhile waits, and is
    # never overwritten with output rendered from the files before it.
    tree.check_output_root(output_dir)
    with (
        contextlib.nullcontext() if check else tree.output_root(output_dir),
        repository_locked(environments_dir, output_dir, writes=not check),
    ):
        fleet = _render(environments, environments_dir, output_dir, policy_dirs)
        if fleet is None:
            return ExitCode.FINDINGS
        return _write_or_check(fleet, environments, output_dir, check, environments_dir)


@click.command()
@click.argument("environments", nargs=-1, metavar="[ENV]...", shell_complete=complete_environments)
@environments_dir_option
@policies_option
def template(environments: tuple[str, ...], environments_dir: Path, policy_dirs: tuple[Path, ...]) -> ExitCode:
    """Print the objects of ENV (default: every environment) as one YAML stream, as `render --stdout` does.

    The same pipeline as `render` (validation and policy checks included), nothing written: pipe it to
    `kubectl apply -f -`, `kubectl diff -f -` or another linter.
    """
    fleet = _render(environments, environments_dir, Path("rendered"), policy_dirs)
    if fleet is None:
        return ExitCode.FINDINGS
    _print_stream(fleet.outputs)
    return ExitCode.OK


def _render(
    environments: tuple[str, ...], environments_dir: Path, output_dir: Path, policy_dirs: tuple[Path, ...]
) -> RenderedFleet | None:
    """Load, render and check; None when error findings were printed (nothing is then written or printed)."""
    from mlgitops.fleet.run import render_fleet
    from mlgitops.load.environments import load_environments

    out = console()
    started = time.perf_counter()
    loaded = load_environments(environments_dir, environments)
    out.detail(f"loaded {len(loaded)} environment(s) from {environments_dir}/ in {time.perf_counter() - started:.2f} s")
    workloads = sum(max(1, len(environment.spec.workloads)) for environment in loaded)
    with out.progress(workloads, "rendering", PROGRESS_FROM_WORKLOADS) as advance:
        fleet = render_fleet(loaded, output_dir, list(policy_dirs), advance)
    out.detail(f"rendered and checked {workloads} workload(s) in {time.perf_counter() - started:.2f} s")
    return None if report_findings(fleet) else fleet


def _print_stream(outputs: list[Any]) -> None:
    from mlgitops.render import built_objects
    from mlgitops.yaml.writer import dump_documents

    documents = [dump_documents(built_objects(output.rendered), output.source_file) for output in outputs]
    console().result("---\n".join(documents))


def _write_or_check(
    fleet: RenderedFleet, environments: tuple[str, ...], output_dir: Path, check: bool, environments_dir: Path
) -> ExitCode:
    from mlgitops.fleet.run import wanted_files
    from mlgitops.output import colour, tree

    out = console()
    outputs = fleet.outputs
    # ArgoCD/Flux folders hold every environment's file, so only a full render rewrites them.
    wanted = wanted_files(outputs, gitops=not environments)
    # A full render also deletes the folders of environments that no longer exist (only folders
    # mlgitops can prove it wrote: see output/ownership.py).
    remove_stale = not environments
    if check:
        differences = tree.drift(output_dir, wanted, remove_stale)
        for difference in differences:
            shown = terminal_lines(difference.diff)
            out.result(colour.diff(shown) if out.colour_out else shown)
        for difference in differences:
            out.info(terminal(f"{difference.state}: {difference.path}"))
        from mlgitops.load.editor_schema import stale_editor_schema

        stale = stale_editor_schema(environments_dir)
        if stale is not None:
            click.echo(
                terminal(f"{stale} is not this mlgitops's editor schema; run `mlgitops schema > {stale}` and commit it"),
                err=True,
            )
        if differences:
            click.echo(terminal(f"{output_dir}/ is out of date ({len(differences)} file(s)); run `mlgitops render`"), err=True)
        if differences or stale is not None:
            return ExitCode.FINDINGS
        out.info(terminal(f"{output_dir}/ is up to date ({_summary(outputs)})"), err=False)
        return ExitCode.OK
    written = tree.write(output_dir, wanted, remove_stale)
    for warning in written.warnings:
        click.echo(terminal(f"warning: {warning}"), err=True)
    changed = written.changed
    for environment in changed:
        out.detail(terminal(f"wrote {output_dir}/{environment}/ ({len(wanted.get(environment, {}))} files)"))
    state = f"updated {', '.join(changed)}" if changed else "no changes"
    out.info(terminal(f"rendered {_summary(outputs)} into {output_dir}/ ({state})"), err=False)
    return ExitCode.OK


def _summary(outputs: list[Any]) -> str:
    return ", ".join(f"{output.name}: {len(output.objects)} objects" for output in outputs) or "no environments"


@click.command()
def schema() -> None:
    """Print the JSON Schema of environment files (for editors: yaml-language-server)."""
    from mlgitops.load.editor_schema import editor_schema_text

    click.echo(editor_schema_text(), nl=False)
