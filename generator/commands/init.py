"""`mlgitops init DIR`: scaffold a repository, or add what is missing to one that already exists."""

from __future__ import annotations

import os
from pathlib import Path

import click

from mlgitops.commands.console import console
from mlgitops.errors import UserError
from mlgitops.output.inert import terminal
from mlgitops.scaffold.parts import PARTS


def _parts(ctx: click.Context, param: click.Parameter, value: str | None) -> frozenset[str] | None:
    if value is None:
        return None
    names = frozenset(name.strip() for name in value.split(",") if name.strip())
    unknown = sorted(names - set(PARTS))
    if unknown or not names:
        raise click.BadParameter(f"{', '.join(unknown) or value!r} is not a part; the parts are {', '.join(PARTS)}")
    return names


def _existing(directory: Path, paths: list[str]) -> dict[str, str | None]:
    """The scaffold's paths that exist under ``directory`` (any kind of entry, even a dangling link), with their
    text when they are small regular files, plus every environment file already in environments/."""
    found: dict[str, str | None] = {}
    environments = directory / "environments"
    candidates = list(paths)
    if environments.is_dir() and not environments.is_symlink():
        candidates += [f"environments/{entry.name}" for entry in environments.iterdir() if entry.suffix in (".yaml", ".yml")]
    for relative in candidates:
        path = directory / relative
        if not os.path.lexists(path):
            continue
        text: str | None = None
        if path.is_file() and not path.is_symlink() and path.stat().st_size < 1_000_000:
            try:
                text = path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                text = None
        found[relative] = text
    return found


@click.command()
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path), default=".")
@click.option(
    "--only",
    callback=_parts,
    metavar="PARTS",
    help=f"Scaffold only these parts (comma-separated: {', '.join(PARTS)}).",
)
def init(directory: Path, only: frozenset[str] | None) -> None:
    """Create environments/, CI and pull-request workflows, pre-commit and Dependabot configs, .gitattributes and
    the editor schema in DIRECTORY (default: here).

    In a repository that already has some of them, init adds what is missing and never overwrites: a part
    whose files exist is left alone (and reported); for an existing .pre-commit-config.yaml, .gitattributes or
    .github/dependabot.yml it prints the lines to add. The workflows and pre-commit config install this very
    mlgitops as it was installed (a release, a git commit; a local install pins the version and says so). All or
    nothing: a run that fails (a full disk) leaves no file of the scaffold behind.
    """
    from mlgitops.output.installation import current
    from mlgitops.output.safe_write import create_new_files, refuse_links_on_the_way
    from mlgitops.scaffold.parts import plan, scaffold_files, scaffold_parts

    installation = current()
    parts = scaffold_parts(installation)
    created = [folder for folder in (directory, *directory.parents) if not os.path.lexists(folder)]
    try:
        for name in scaffold_files(installation):
            refuse_links_on_the_way(directory, name)
        existing = _existing(directory, list(scaffold_files(installation))) if directory.is_dir() else {}
        steps = plan(parts, existing, only)
        warnings: list[str] = []
        if steps.write:
            directory.mkdir(parents=True, exist_ok=True)
            warnings = create_new_files(directory, steps.write)
    except UserError:
        _remove_empty(created)
        raise
    except OSError as error:
        _remove_empty(created)
        raise UserError(f"cannot write to {directory}: {error.strerror or error}; nothing was written") from None
    out = console()
    for warning in warnings:
        click.echo(terminal(f"warning: {warning}"), err=True)
    for name in sorted(steps.write):
        out.info(terminal(f"created {directory / name}"), err=False)
    for name, why in steps.left_alone:
        out.info(terminal(f"left alone {directory / name} ({why})"), err=False)
    for name, snippet in steps.snippets:
        out.info(terminal(f"add to {directory / name}:"), err=False)
        for line in snippet.rstrip("\n").splitlines():
            out.info(terminal(f"    {line}"), err=False)
    if installation.note and any(name.startswith((".github/", ".pre-commit")) for name in steps.write):
        click.echo(terminal(f"note: {installation.note}"), err=True)
    if not steps.write and not steps.snippets:
        out.info("nothing to add: every part is already there", err=False)
    elif not steps.write:
        out.info("no file written: add the lines above by hand", err=False)
    elif any(name.startswith("environments/") and name.endswith(".yaml") for name in steps.write):
        out.info("next: edit environments/*.yaml, then run `mlgitops render` and commit rendered/", err=False)
    else:
        out.info("next: commit the files written", err=False)


def _remove_empty(folders: list[Path]) -> None:
    """Remove the folders a failed init created for DIRECTORY (deepest first), if they are still empty."""
    for folder in folders:
        try:
            folder.rmdir()
        except OSError:
            return
