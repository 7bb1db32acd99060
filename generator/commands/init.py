"""`mlgitops init DIR`: scaffold a repository that renders and lints clean out of the box."""

from __future__ import annotations

import json
import os
from importlib import resources
from pathlib import Path

import click

from generator.commands.render import fail
from generator.errors import UserError
from generator.output.inert import terminal


def scaffold_files() -> dict[str, str]:
    """Repository path → content of every file `init` writes."""
    from generator.spec.editor_schema import environment_file_schema

    package = resources.files("generator.scaffold")
    files = {
        f"environments/{name}": package.joinpath("environments").joinpath(name).read_text(encoding="utf-8")
        for name in ("base.yaml", "dev.yaml", "staging.yaml", "prod.yaml")
    }
    files["environments/environment.schema.json"] = json.dumps(environment_file_schema(), indent=2) + "\n"
    files[".github/workflows/mlgitops.yml"] = package.joinpath("workflow.yml").read_text(encoding="utf-8")
    return files


@click.command()
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path), default=".")
def init(directory: Path) -> None:
    """Create environments/, a CI workflow and the editor schema in DIRECTORY (default: here).

    Existing files are never overwritten: if any of them exists, nothing is written.
    """
    from generator.output.safe_write import create_file, refuse_links_on_the_way

    try:
        files = scaffold_files()
        for name in files:
            refuse_links_on_the_way(directory, name)
        # lexists: a link under the name, even a dangling one, counts as there (and is never written through).
        existing = sorted(name for name in files if os.path.lexists(directory / name))
        if existing:
            raise UserError(f"{directory / existing[0]} already exists; init writes only into a new repository")
        directory.mkdir(parents=True, exist_ok=True)
        for name, text in files.items():
            create_file(directory, name, text)
    except UserError as error:
        fail(error)
    except OSError as error:
        fail(UserError(f"cannot write to {directory}: {error.strerror or error}"))
    for name in sorted(files):
        click.echo(terminal(f"created {directory / name}"))
    click.echo("next: edit environments/*.yaml, then run `mlgitops render` and commit rendered/")
