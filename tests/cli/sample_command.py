"""A command defined outside generator/commands, standing for one a later change adds (test_cli_habits)."""

from __future__ import annotations

import click


@click.command()
def sample() -> None:
    """Print what the console's verbosity is."""
    from mlgitops.commands.console import console

    out = console()
    click.echo("quiet" if out.quiet else f"verbosity {out.verbosity}")
