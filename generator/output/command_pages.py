"""Reference pages of the command line: an index, and a page per command with the help of it and its subcommands.

The text is click's own help (``Command.get_help`` on a context chained to the root command, as
``mlgitops CMD --help`` prints it), at a fixed width so the pages do not depend on the terminal that builds
them. Hidden commands are left out. Page paths are relative to the documentation folder: ``commands/index.md``
and ``commands/<name>.md``. The command line is passed in (``mlgitops.cli.cli``): ``output`` never imports it.
"""

from __future__ import annotations

import click

from mlgitops.output import inert

COMMANDS_INDEX = "commands/index.md"
HELP_WIDTH = 100
"""Characters per line of the help text (click's ``terminal_width`` and ``max_content_width``)."""


def command_page_path(name: str) -> str:
    return f"commands/{name}.md"


def _context(command: click.Command, name: str, parent: click.Context | None = None) -> click.Context:
    # The command's own context settings (``-h`` beside ``--help``), as ``Command.make_context`` applies them.
    settings = {**command.context_settings, "terminal_width": HELP_WIDTH, "max_content_width": HELP_WIDTH}
    return click.Context(command, info_name=name, parent=parent, **settings)


def _subcommands(context: click.Context) -> list[tuple[str, click.Command]]:
    group = context.command
    if not isinstance(group, click.Group):
        return []
    found = [(name, group.get_command(context, name)) for name in group.list_commands(context)]
    return [(name, command) for name, command in found if command is not None and not command.hidden]


def _help(context: click.Context) -> list[str]:
    return inert.markdown_fence(context.command.get_help(context).split("\n"), "text")


def _sections(context: click.Context, depth: int) -> list[str]:
    """The help of ``context``'s command, then of each subcommand under a heading one level deeper."""
    lines = [*_help(context), ""]
    for name, command in _subcommands(context):
        sub = _context(command, name, context)
        lines += [f"{'#' * depth} {inert.markdown_text(sub.command_path)}", ""]
        lines += [*_summary(command), *_sections(sub, depth + 1)]
    return lines


def _summary(command: click.Command) -> list[str]:
    """The command's one-line summary as an inert paragraph."""
    return [inert.markdown_text(command.get_short_help_str(limit=HELP_WIDTH)), ""]


def command_page(command: click.Command, name: str, root: click.Context) -> str:
    context = _context(command, name, root)
    lines = [f"# {inert.markdown_text(context.command_path)}", "", *_summary(command), *_sections(context, 2)]
    return "\n".join(lines).rstrip("\n") + "\n"


def commands_index(root: click.Context, commands: list[tuple[str, click.Command]]) -> str:
    lines = ["# Commands", "", *_help(root), "", "| command | what it does |", "| --- | --- |"]
    for name, command in commands:
        summary = inert.markdown_text(command.get_short_help_str(limit=HELP_WIDTH))
        lines.append(f"| [{inert.markdown_text(f'{root.info_name} {name}')}]({name}.md) | {summary} |")
    return "\n".join([*lines, ""])


def command_pages(cli: click.Command, name: str = "mlgitops") -> dict[str, str]:
    """Every page of the command line ``cli`` (called ``name``) by its path in the documentation folder."""
    root = _context(cli, name)
    commands = _subcommands(root)
    pages = {COMMANDS_INDEX: commands_index(root, commands)}
    pages.update({command_page_path(sub): command_page(command, sub, root) for sub, command in commands})
    return pages
