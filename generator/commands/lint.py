"""`mlgitops lint`, `mlgitops policy list|test` and `mlgitops explain`."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import click

from mlgitops.commands.completion import complete_rules
from mlgitops.commands.console import console
from mlgitops.commands.options import config_option, environment_option, output_format_option, policies_option
from mlgitops.errors import ExitCode, UserError, UserErrors
from mlgitops.inputs.generated import EnvironmentFiles, generated_files
from mlgitops.kube.manifest import Manifest
from mlgitops.output.inert import terminal, terminal_lines
from mlgitops.policy.catalog import Catalog
from mlgitops.policy.model import Policy
from mlgitops.policy.severity import WORDS as SEVERITY_WORDS
from mlgitops.policy.severity import Severity

if TYPE_CHECKING:
    from mlgitops.load.extends_chain import Read
    from mlgitops.yaml.source import SourceNode

DEFAULT_KUBERNETES_VERSION = "1.32"
"""What objects of no known environment are validated at, unless --kubernetes-version says otherwise."""

# From this many objects checking them takes a second or more: worth a progress line (one step per rule).
PROGRESS_FROM_OBJECTS = 3000


def _catalog(policies: tuple[Path, ...], config_file: Path | None, start: Path) -> Catalog:
    from mlgitops.policy import load_catalog, load_config

    config = load_config(start, config_file)
    return load_catalog(list(policies), config)


def _kubernetes_version(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """A Kubernetes minor version the installed schemas cover: anything else is a usage error (exit 2)."""
    import re

    if value is None:
        return None
    from mlgitops.kube.schema import schema_version

    if not re.fullmatch(r"v?1\.[0-9]{1,3}(\.[0-9]{1,3})?", value):
        raise click.BadParameter(f"{value!r} is not a Kubernetes version such as 1.32")
    try:
        schema_version(value)
    except UserError as error:
        raise click.BadParameter(error.message) from None
    return value


@click.command()
@click.argument("paths", nargs=-1, type=click.Path())
@output_format_option(("text", "json", "sarif", "junit", "github"), "text")
@click.option(
    "-f",
    "--fail-on",
    type=click.Choice(SEVERITY_WORDS),
    default="error",
    show_default=True,
    help="Exit 1 when an unwaived finding is at least this severe.",
)
@policies_option
@config_option
@environment_option("Environment the manifests belong to (default: their mlgitops.io/environment label).", multiple=False)
@click.option(
    "--crd",
    "crds",
    multiple=True,
    type=click.Path(path_type=Path),
    help="CustomResourceDefinition file or folder, to validate custom resources (repeatable).",
)
@click.option(
    "--kubernetes-version",
    default=None,
    callback=_kubernetes_version,
    help=f"Kubernetes version to validate against (e.g. 1.34). Default: for objects of an environment in "
    f"environments/ (rendered/<env>), that environment's kubernetesVersion; for the rest {DEFAULT_KUBERNETES_VERSION}.",
)
@click.option(
    "--exclude",
    "excludes",
    multiple=True,
    metavar="GLOB",
    help="Leave out files and folders matching GLOB (gitignore syntax, relative to here; repeatable). "
    "Folder walks also leave out what git ignores.",
)
@click.option(
    "--allow-remote",
    is_flag=True,
    help="Let kubectl kustomize fetch remote resources and read bases outside the repository (off: refused).",
)
def lint(
    paths: tuple[str, ...],
    output_format: str,
    fail_on: str,
    policy_dirs: tuple[Path, ...],
    config_file: Path | None,
    environment: str | None,
    crds: tuple[Path, ...],
    kubernetes_version: str | None,
    excludes: tuple[str, ...],
    allow_remote: bool,
) -> ExitCode:
    """Check Kubernetes YAML (files, folders, kustomize roots, or - for stdin) against the policy catalog.

    In folders, documents that are not Kubernetes objects are skipped (and counted); a file that
    is not valid YAML is reported and the rest is still linted. Files named on the command line
    must hold Kubernetes objects only.

    Exit codes: 0 clean, 1 findings at or above --fail-on, 2 unreadable input or usage.
    """
    from mlgitops.inputs.collect import collect
    from mlgitops.kube.custom_resources import load_crds, upstream_schemas
    from mlgitops.output.reporters import report, summary
    from mlgitops.output.sarif import RunFacts
    from mlgitops.policy import PolicyContext, evaluate, fails

    out = console()
    facts = RunFacts.here()
    started = time.perf_counter()
    try:
        targets = list(paths) or (["rendered"] if Path("rendered").is_dir() else ["."])
        catalog = _catalog(policy_dirs, config_file, Path.cwd())
        found = collect(targets, allow_remote=allow_remote, progress=out.progress, excludes=excludes)
        out.detail(f"read {found.files} file(s), {len(found.manifests)} object(s) in {time.perf_counter() - started:.2f} s")
        custom = upstream_schemas().merged(load_crds(list(crds))) if crds else upstream_schemas()
        if environment is not None:
            for manifest in found.manifests:
                manifest.environment = environment
        if found.errors and not found.manifests:
            raise UserErrors(found.errors)  # nothing could be linted: the errors are the whole report
        roots = [facts.repository_root or facts.working_directory, facts.working_directory]
        environment_files = EnvironmentFiles(generated_files(found.manifests), roots)
        layers: dict[Path, SourceNode] = {}  # environment files parsed with positions, for sources
        environment_versions, file_versions = ((), ()) if kubernetes_version else _versions(found.manifests, environment_files)
        context = PolicyContext(
            environment=environment,
            kubernetes_version=kubernetes_version or DEFAULT_KUBERNETES_VERSION,
            custom_schemas=custom,
            environment_versions=environment_versions,
            file_versions=file_versions,
        )
        active = catalog.active()
        shown = len(active) * len(found.manifests) if len(found.manifests) >= PROGRESS_FROM_OBJECTS else 0
        with out.progress(shown, "checking") as advance:
            findings = evaluate(found.manifests, catalog, context, advance, _sources_ahead(environment_files, layers))
        out.detail(f"checked {len(active)} rule(s) in {time.perf_counter() - started:.2f} s")
    except UserError as error:
        if output_format == "sarif":
            # Code scanning still gets a log to upload: no results, the errors as notifications.
            errors = error.errors if isinstance(error, UserErrors) else [error]
            out.result(report([], {}, "sarif", facts.finished(ExitCode.BAD_INPUT, errors)))
        raise
    # What could not be read is reported (and exits 2); the rest was linted.
    unread = [each for problem in found.errors for each in (problem.errors if isinstance(problem, UserErrors) else [problem])]
    exit_code = ExitCode.BAD_INPUT if unread else ExitCode.FINDINGS if fails(findings, Severity(fail_on)) else ExitCode.OK
    if any(environment_files.of(finding.location.file) is not None for finding in findings):
        # A finding on a rendered object also names the environment field that produced it (every format):
        # reviewers read, and annotations land on, the environment files of a pull request. Only then are the
        # environment models imported (0.2 s, a third of a lint of one file of another team's manifests).
        from mlgitops.fleet.sources import with_environment_sources, written_items

        written = written_items(findings, found.manifests)
        # The objects are done with: let the memory of a large fleet serve the environments loaded next
        # (lint of the N = 10,000 benchmark fleet peaked at 1.8 GB holding both).
        found.manifests.clear()
        findings = with_environment_sources(findings, environment_files, written, catalog.policies, layers)
    out.result(report(findings, catalog.policies, output_format, facts.finished(exit_code, unread), colour=out.colour_out))
    # What could not be read is part of the report (the rest was linted): listed before the notes and the summary.
    for each in unread:
        out.error(terminal(each.one_line()))
    if catalog.config_file is not None:
        out.info(terminal(f"note: applied policy configuration {catalog.config_file}"))
    for note in found.notes:
        out.info(terminal(f"note: {note}"))
    out.info(summary(findings, found.files))
    return exit_code


def _sources_ahead(
    files: EnvironmentFiles, layers: dict[Path, SourceNode]
) -> tuple[Callable[[], object], Callable[[str], bool]] | None:
    """What tracing findings to environment files needs first, when some linted file has an environment file at
    hand: the spec's models (0.25 s to make, about a fifth of a lint of the N = 100 benchmark fleet) and the
    environment files, parsed into ``layers`` (``fleet.sources.parse_ahead``), and which files' findings need them.
    ``evaluate`` does it while the other process checks policies, once there is a violation in such a file (a clean
    rendered tree needs no sources: nothing is done for it). None when no finding can be traced."""
    if not any(files.of(generated) is not None for generated in sorted(files.generated)):
        return None

    def prepare() -> None:
        from mlgitops.fleet.sources import parse_ahead

        parse_ahead(files, layers)

    return prepare, lambda file: files.of(file) is not None


Versions = tuple[tuple[str, str], ...]


def _versions(manifests: list[Manifest], files: EnvironmentFiles) -> tuple[Versions, Versions]:
    """``_environment_versions`` and ``_file_versions``, reading each environment file once for both (three
    environments extending one 650 KB base read it six times, 0.4 s of a lint of the N = 1000 fleet); what was read
    is let go when they are known."""
    read: Read = {}
    return _environment_versions(manifests, read), _file_versions(files, read)


def _file_versions(files: EnvironmentFiles, read: Read) -> Versions:
    """(file, kubernetesVersion) of each generated file whose header names an environment file at hand: lint of
    rendered/<env> judges each environment at its own version, read from the environment file that rendered it
    (the one ``source`` points into), so two fleets with an environment of the same name are judged apart."""
    from mlgitops.load.kubernetes_versions import environment_version

    versions: dict[str, str | None] = {}
    found: list[tuple[str, str]] = []
    for generated in sorted(files.generated):
        environment_file = files.of(generated)
        if environment_file is None:
            continue
        if environment_file not in versions:
            versions[environment_file] = environment_version(Path(environment_file), read)
        version = versions[environment_file]
        if version is not None:
            found.append((generated, version))
    return tuple(found)


def _environment_versions(manifests: list[Manifest], read: Read) -> Versions:
    """(environment, kubernetesVersion) for objects without a generated-file header, by their
    ``mlgitops.io/environment`` label: read from environments/ of the working directory, else of the repository."""
    from mlgitops.load.kubernetes_versions import kubernetes_versions
    from mlgitops.paths import repository_root

    named = {manifest.environment for manifest in manifests if manifest.environment}
    if not named:
        return ()
    versions: dict[str, str] = {}
    for folder in dict.fromkeys([Path.cwd() / "environments", repository_root(Path.cwd()) / "environments"]):
        for name, version in kubernetes_versions(folder, read).items():
            versions.setdefault(name, version)
    return tuple(sorted((name, version) for name, version in versions.items() if name in named))


@click.group()
def policy() -> None:
    """List the policy catalog, or test policies against their own examples."""


@policy.command("list")
@policies_option
@config_option
@output_format_option(("text", "json"), "text")
def list_policies(policy_dirs: tuple[Path, ...], config_file: Path | None, output_format: str) -> None:
    """Every rule with its severity and title (disabled rules are marked)."""
    catalog = _catalog(policy_dirs, config_file, Path.cwd())
    if output_format == "json":
        from mlgitops.output.machine import versioned

        rules = [_rule_summary(entry) for _, entry in sorted(catalog.policies.items())]
        click.echo(versioned("RuleList", {"rules": rules}), nl=False)
        return
    width = max(len(rule) for rule in catalog.policies)
    for rule, entry in sorted(catalog.policies.items()):
        state = "" if entry.enabled else " (disabled)"
        click.echo(terminal(f"{rule.ljust(width)}  {entry.severity:<7}  {entry.title}{state}"))
        console().detail(terminal(f"{' ' * width}  defined in {entry.file}"))


def _rule_summary(entry: Policy) -> dict[str, object]:
    return {
        "id": entry.id,
        "severity": entry.severity.value,
        "title": entry.title,
        "enabled": entry.enabled,
        "tags": list(entry.tags),
        "file": entry.file,
    }


@policy.command("test")
@click.argument("folder", required=False, type=click.Path(file_okay=False, path_type=Path))
@config_option
def test_policies(folder: Path | None, config_file: Path | None) -> ExitCode:
    """Run every policy (or those in FOLDER) against its pass and fail examples."""
    from mlgitops.policy.catalog import load_folders
    from mlgitops.policy.testing import run_catalog_examples

    catalog = _catalog((folder,) if folder else (), config_file, Path.cwd())
    only = set(load_folders([folder]).policies) if folder else None
    results = run_catalog_examples(catalog, only)
    out = console()
    for result in results:
        if result.ok and out.quiet:
            continue
        state = "ok  " if result.ok else "FAIL"
        click.echo(terminal(f"{state} {result.policy} {result.kind}[{result.index}]: {result.detail}"))
    failed = sum(not result.ok for result in results)
    out.info(f"{len(results) - failed} examples passed, {failed} failed")
    return ExitCode.FINDINGS if failed else ExitCode.OK


@click.command()
@click.argument("rule", shell_complete=complete_rules)
@policies_option
@output_format_option(("text", "json"), "text")
def explain(rule: str, policy_dirs: tuple[Path, ...], output_format: str) -> None:
    """Why RULE exists, a failing and a passing example, and how to fix it."""
    entry = _catalog(policy_dirs, None, Path.cwd()).get(rule)
    if output_format == "json":
        from mlgitops.output.machine import versioned

        detail = {
            **_rule_summary(entry),
            "rationale": entry.rationale,
            "fix": entry.fix,
            "examples": {
                "fail": [example.manifest for example in entry.examples_fail],
                "pass": [example.manifest for example in entry.examples_pass],
            },
        }
        click.echo(versioned("Rule", {"rule": detail}), nl=False)
        return
    click.echo(terminal(f"{entry.id} ({entry.severity}): {entry.title}") + "\n")
    click.echo("Why:\n" + terminal_lines(entry.rationale, "  "))
    click.echo("Fix:\n" + terminal_lines(entry.fix, "  "))
    click.echo("Fails:\n" + terminal_lines(entry.examples_fail[0].manifest, "    "))
    click.echo("Passes:\n" + terminal_lines(entry.examples_pass[0].manifest, "    "))
    click.echo(terminal(f"Defined in {entry.file}"))
