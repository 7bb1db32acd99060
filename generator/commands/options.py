"""Options several commands share, declared once so that they read and behave the same everywhere."""

from __future__ import annotations

from pathlib import Path

import click

environments_dir_option = click.option(
    "--environments-dir",
    "environments_dir",
    default="environments",
    show_default=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder of environment files.",
)

policies_option = click.option(
    "--policies",
    "policy_dirs",
    multiple=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Extra policy folder (repeatable); the repository's .mlgitops.yaml is read too.",
)

config_option = click.option(
    "--config",
    "config_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Policy configuration file (default: the nearest .mlgitops.yaml).",
)
