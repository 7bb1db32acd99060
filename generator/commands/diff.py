"""`mlgitops diff`: what a change does to every environment, for pull-request review."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from generator.commands.options import environments_dir_option
from generator.commands.render import fail
from generator.errors import UserError


@click.command()
@click.option("--base", "base_ref", metavar="REF", help="Revision to compare with (default: merge base with the default branch).")
@click.option("--format", "output_format", type=click.Choice(["markdown", "json", "text"]), default="markdown", show_default=True)
@click.option("--fail-on-new", is_flag=True, help="Exit 1 when the change adds error-severity policy findings.")
@environments_dir_option
def diff(base_ref: str | None, output_format: str, fail_on_new: bool, environments_dir: Path) -> None:
    """Render the working tree and REF in memory and summarise the difference per environment.

    Reports objects added, removed and changed (with the fields that changed), the total CPU,
    memory and GPUs requested before and after, and policy findings the change adds or fixes.
    """
    from generator.review.comparison import review_change
    from generator.review.summary import as_json, markdown, text

    try:
        review = review_change(environments_dir, base_ref)
    except UserError as error:
        fail(error)
        return
    render = {"markdown": markdown, "json": as_json, "text": text}[output_format]
    click.echo(render(review), nl=False)
    if fail_on_new and any(note.severity == "error" for note in review.new_findings):
        sys.exit(1)
