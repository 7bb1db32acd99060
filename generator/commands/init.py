"""`mlgitops init DIR`: scaffold a repository that renders and lints clean out of the box."""

from __future__ import annotations

import json
import os
from importlib import resources
from pathlib import Path

import click

from mlgitops import HOME, __version__
from mlgitops.commands.console import console
from mlgitops.errors import UserError
from mlgitops.output.inert import terminal


def install_requirement(version: str = __version__) -> str:
    """The pip requirement of this very version, from its git tag: it installs before (and after) a PyPI release."""
    return f"mlgitops @ git+{HOME}@v{version}"


def scaffold_files(version: str = __version__) -> dict[str, str]:
    """Repository path → content of every file `init` writes; CI and pre-commit pinned to ``version``."""
    from mlgitops.load.editor_schema import environment_file_schema

    package = resources.files("mlgitops.scaffold")
    files = {
        f"environments/{name}": package.joinpath("environments").joinpath(name).read_text(encoding="utf-8")
        for name in ("base.yaml", "dev.yaml", "staging.yaml", "prod.yaml")
    }
    files["environments/environment.schema.json"] = json.dumps(environment_file_schema(), indent=2) + "\n"
    pins = {
        "__MLGITOPS_REQUIREMENT__": install_requirement(version),
        "__MLGITOPS_VERSION__": version,
        "__MLGITOPS_HOME__": HOME,
    }
    for target, template in (
        (".github/workflows/mlgitops.yml", "workflow.yml"),
        (".pre-commit-config.yaml", "pre-commit-config.yaml"),
    ):
        text = package.joinpath(template).read_text(encoding="utf-8")
        for placeholder, value in pins.items():
            text = text.replace(placeholder, value)
        files[target] = text
    return files


@click.command()
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path), default=".")
def init(directory: Path) -> None:
    """Create environments/, a CI workflow, a pre-commit config and the editor schema in DIRECTORY (default: here).

    The workflow and the pre-commit config use this version of mlgitops, installed from its git tag.
    Existing files are never overwritten: if any of them exists, nothing is written. All or nothing: a run
    that fails (a full disk) leaves no file of the scaffold behind to block the next one.
    """
    from mlgitops.output.safe_write import create_new_files, refuse_links_on_the_way

    files = scaffold_files()
    created = [folder for folder in (directory, *directory.parents) if not os.path.lexists(folder)]
    try:
        for name in files:
            refuse_links_on_the_way(directory, name)
        # lexists: a link under the name, even a dangling one, counts as there (and is never written through).
        existing = sorted(name for name in files if os.path.lexists(directory / name))
        if existing:
            raise UserError(f"{directory / existing[0]} already exists; init writes only into a new repository")
        directory.mkdir(parents=True, exist_ok=True)
        warnings = create_new_files(directory, files)
    except UserError:
        _remove_empty(created)
        raise
    except OSError as error:
        _remove_empty(created)
        raise UserError(f"cannot write to {directory}: {error.strerror or error}; nothing was written") from None
    out = console()
    for warning in warnings:
        click.echo(terminal(f"warning: {warning}"), err=True)
    for name in sorted(files):
        out.info(terminal(f"created {directory / name}"), err=False)
    out.info("next: edit environments/*.yaml, then run `mlgitops render` and commit rendered/", err=False)


def _remove_empty(folders: list[Path]) -> None:
    """Remove the folders a failed init created for DIRECTORY (deepest first), if they are still empty."""
    for folder in folders:
        try:
            folder.rmdir()
        except OSError:
            return
