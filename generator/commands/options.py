"""Options several commands share, declared once so that they read and behave the same everywhere."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from mlgitops.commands.completion import complete_environments

F = TypeVar("F", bound=Callable[..., Any])

environments_dir_option = click.option(
    "-d",
    "--environments-dir",
    "environments_dir",
    default="environments",
    show_default=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder of environment files.",
)

output_dir_option = click.option(
    "--output",
    "output_dir",
    default="rendered",
    show_default=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder that receives rendered/<env>/.",
)

policies_option = click.option(
    "-p",
    "--policies",
    "policy_dirs",
    multiple=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Extra policy folder (repeatable); the repository's .mlgitops.yaml is read too.",
)

config_option = click.option(
    "-c",
    "--config",
    "config_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Policy configuration file (default: the nearest .mlgitops.yaml).",
)


def output_format_option(choices: tuple[str, ...], default: str) -> Callable[[F], F]:
    """``-o/--output-format`` (kubectl's -o), with the older ``--format`` kept as an alias."""
    return click.option(
        "-o",
        "--output-format",
        "--format",
        "output_format",
        type=click.Choice(choices),
        default=default,
        show_default=True,
        help="Output format (--format is an alias).",
    )


def environment_option(help_text: str, *, multiple: bool) -> Callable[[F], F]:
    """``-e/--env NAME``; the shell completes the names of the environment files."""
    return click.option(
        "-e",
        "--env",
        "environments" if multiple else "environment",
        multiple=multiple,
        metavar="NAME",
        shell_complete=complete_environments,
        help=help_text,
    )
