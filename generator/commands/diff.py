"""`mlgitops diff`: what a change does to every environment, for pull-request review."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

import click

from mlgitops.commands.console import console
from mlgitops.commands.options import environments_dir_option, output_format_option
from mlgitops.errors import ExitCode


@click.command()
@click.option(
    "-b", "--base", "base_ref", metavar="REF", help="Revision to compare with (default: merge base with the default branch)."
)
@output_format_option(("markdown", "json", "text"), "markdown")
@click.option("--fail-on-new", is_flag=True, help="Exit 1 when the change adds error-severity policy findings.")
@environments_dir_option
def diff(base_ref: str | None, output_format: str, fail_on_new: bool, environments_dir: Path) -> ExitCode:
    """Render the working tree and REF in memory and summarise the difference per environment.

    Reports objects added, removed and changed (with the fields that changed), the total CPU,
    memory and GPUs requested before and after, and policy findings the change adds or fixes.
    """
    from mlgitops.policy.severity import Severity
    from mlgitops.review.comment import run_links
    from mlgitops.review.comparison import review_change
    from mlgitops.review.summary import Review, as_json, markdown, text

    out = console()
    started = time.perf_counter()
    review = review_change(environments_dir, base_ref)
    review.links = run_links(os.environ)
    out.detail(f"compared with {review.base} in {time.perf_counter() - started:.2f} s")
    renderers: dict[str, Callable[[Review], str]] = {"markdown": markdown, "json": as_json, "text": text}
    render = renderers[output_format]
    out.result(render(review))
    if fail_on_new and any(note.severity is Severity.ERROR for note in review.new_findings):
        return ExitCode.FINDINGS
    return ExitCode.OK
