"""What every command prints besides its result: messages by verbosity, colour, and progress.

One ``Console`` per run, kept in the click context. ``-q/--quiet`` and ``-v/--verbose`` (given on
``mlgitops`` itself or on any command, see ``common_options``) set its verbosity. Results (a
report, a diff, a schema) always go to stdout; messages about the run go to stderr.

Colour only on a terminal: a stream that is not a TTY, or ``NO_COLOR`` set to anything but the
empty string (https://no-color.org), turns it off. Progress is click's progress bar on stderr,
shown only when stderr is a terminal and the run is not quiet: nothing ever reaches a pipe or a
CI log.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import IO, Any

import click

QUIET, NORMAL, VERBOSE = -1, 0, 1
_META_KEY = "mlgitops.console"
Advance = Callable[[int], None]
"""Progress callback handed to the pipeline: advance by this many units of work."""


def is_terminal(stream: IO[Any]) -> bool:
    """Whether ``stream`` is a terminal (not a pipe, a file or a CI log)."""
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty and isatty())
    except ValueError:  # a closed stream
        return False


def colour_wanted(stream: IO[Any]) -> bool:
    """Colour for ``stream``: a terminal, and NO_COLOR unset or empty."""
    return not os.environ.get("NO_COLOR", "") and is_terminal(stream)


@dataclass
class Console:
    """Verbosity and colour of one run."""

    verbosity: int = NORMAL

    @property
    def quiet(self) -> bool:
        return self.verbosity <= QUIET

    @property
    def verbose(self) -> bool:
        return self.verbosity >= VERBOSE

    @property
    def colour_out(self) -> bool:
        return colour_wanted(sys.stdout)

    @property
    def colour_err(self) -> bool:
        return colour_wanted(sys.stderr)

    def result(self, text: str) -> None:
        """The command's result, on stdout whatever the verbosity."""
        click.echo(text, nl=False, color=self.colour_out)

    def info(self, message: str, *, err: bool = True) -> None:
        """A line about the run (a summary, what was written); not with --quiet."""
        if not self.quiet:
            click.echo(message, err=err, color=self.colour_err if err else self.colour_out)

    def detail(self, message: str) -> None:
        """A line only -v/--verbose shows, on stderr."""
        if self.verbose:
            click.echo(click.style(message, dim=True) if self.colour_err else message, err=True)

    def error(self, message: str) -> None:
        """One ``error:`` line on stderr, always shown."""
        prefix = click.style("error:", fg="red", bold=True) if self.colour_err else "error:"
        click.echo(f"{prefix} {message}", err=True, color=self.colour_err)

    @contextlib.contextmanager
    def progress(self, total: int, label: str, minimum: int = 1) -> Iterator[Advance]:
        """A progress line on stderr over ``total`` units; a no-op when piped, quiet, or below ``minimum`` units.

        ``minimum`` is where a run starts to take a second or more: below it a bar would only flicker.
        """
        if self.quiet or total < max(minimum, 1) or not is_terminal(sys.stderr):
            yield _ignore
            return
        with click.progressbar(length=total, label=label, file=sys.stderr, show_eta=True, width=30) as bar:
            yield bar.update


def _ignore(_: int) -> None:
    return None


def console() -> Console:
    """The running command's console (a default one outside a click invocation)."""
    context = click.get_current_context(silent=True)
    if context is None:
        return Console()
    root = context.find_root()
    found = root.meta.get(_META_KEY)
    if not isinstance(found, Console):
        found = root.meta[_META_KEY] = Console()
    return found


def _set_quiet(context: click.Context, _: click.Parameter, value: bool) -> None:
    if value:
        console().verbosity = QUIET


def _set_verbose(context: click.Context, _: click.Parameter, value: int) -> None:
    if value:
        current = console()
        current.verbosity = max(current.verbosity, 0) + value


def common_parameters() -> list[click.Parameter]:
    """-q/--quiet and -v/--verbose, as every command (and the group) accepts them."""
    return [
        click.Option(
            ["-q", "--quiet"],
            is_flag=True,
            expose_value=False,
            is_eager=True,
            callback=_set_quiet,
            help="Print only results and errors: no summary, no progress.",
        ),
        click.Option(
            ["-v", "--verbose"],
            count=True,
            expose_value=False,
            is_eager=True,
            callback=_set_verbose,
            help="Say more about what the run does (repeatable).",
        ),
    ]


def with_common_options(command: click.Command) -> click.Command:
    """Give ``command`` (and, for a group, each of its subcommands) --quiet and --verbose, once."""
    names = {name for parameter in command.params for name in parameter.opts}
    if "--quiet" not in names:
        command.params.extend(common_parameters())
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            with_common_options(sub)
    return command
