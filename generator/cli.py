"""The ``mlgitops`` command line: a thin shell that loads each command only when it runs.

Commands live in ``generator/commands/``; importing them pulls in pydantic, jsonschema and the
YAML libraries, so they are imported lazily to keep ``mlgitops --version`` close to the cost of
importing click alone.
"""

from __future__ import annotations

import gc
import importlib
import importlib.util
import os
import sys
from typing import Any, NoReturn

import click

from mlgitops import __version__
from mlgitops.errors import ExitCode

_COMMANDS: dict[str, tuple[str, str, str]] = {
    "render": ("mlgitops.commands.render", "render", "Render environments/ into rendered/<env>/."),
    "template": ("mlgitops.commands.render", "template", "Print environments' objects as one YAML stream (helm template)."),
    "schema": ("mlgitops.commands.render", "schema", "Print the JSON Schema of environment files."),
    "diff": ("mlgitops.commands.diff", "diff", "Summarise what a change deploys, for pull-request review."),
    "init": ("mlgitops.commands.init", "init", "Scaffold environments/ and CI for a new repository."),
    "lint": ("mlgitops.commands.lint", "lint", "Lint Kubernetes YAML against the policy catalog."),
    "policy": ("mlgitops.commands.lint", "policy", "List and test policies."),
    "set": ("mlgitops.commands.edit", "set_command", "Change a workload's image, model, replicas or resources in place."),
    "promote": ("mlgitops.commands.edit", "promote", "Copy images and model versions from one environment to another."),
    "explain": ("mlgitops.commands.lint", "explain", "Explain one policy rule."),
    "completion": ("mlgitops.commands.completion", "completion", "Print a shell completion script (bash, zsh, fish)."),
}
# kubectl, helm and ruff habits: -h as well as --help, everywhere (subcommands inherit it from here).
CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"]}


class LazyGroup(click.Group):
    """A click group whose subcommands are imported on first use.

    Every command it hands out, whatever module defines it, gets -q/--quiet and -v/--verbose
    (``with_common_options``), so a new command follows the house conventions without opting in.
    """

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(name for name, (module, _, _) in _COMMANDS.items() if _module_exists(module))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        entry = _COMMANDS.get(cmd_name)
        if entry is None or not _module_exists(entry[0]):
            return None
        from mlgitops.commands.console import with_common_options

        command = getattr(importlib.import_module(entry[0]), entry[1])
        assert isinstance(command, click.Command)
        return with_common_options(command)

    def invoke(self, ctx: click.Context) -> Any:
        """Run the subcommand; the ``ExitCode`` it returns ends the run (click would drop it in standalone mode)."""
        code = super().invoke(ctx)
        if isinstance(code, int) and code != ExitCode.OK:
            ctx.exit(int(code))
        return code

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, _COMMANDS[name][2]) for name in self.list_commands(ctx)]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


def _module_exists(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


@click.group(cls=LazyGroup, context_settings=CONTEXT_SETTINGS)
@click.version_option(__version__, "-V", "--version", prog_name="mlgitops")
def cli() -> None:
    """mlgitops: typed ML workload specs rendered into kustomize-ready, policy-checked manifests.

    Exit codes: 0 ok, 1 drift or findings, 2 bad input or usage, 3 internal error, 130 interrupted.
    """


def _common_options_on_the_group() -> None:
    # `mlgitops -q lint` as well as `mlgitops lint -q`; imported lazily like the commands.
    from mlgitops.commands.console import common_parameters

    cli.params.extend(common_parameters())


_common_options_on_the_group()


def main(argv: list[str] | None = None) -> Any:
    """Entry point: run the CLI and exit with the ``ExitCode`` the command returned.

    The one exit path of every command: a ``UserError`` (or ``UserErrors``) raised anywhere is printed here,
    one inert ``error:`` line per mistake, and exits 2; an interrupt exits 130; anything else is a bug (3).
    """
    from mlgitops.commands.console import console
    from mlgitops.errors import UserError, UserErrors
    from mlgitops.output.inert import terminal

    # A short batch process: the cyclic garbage collector only rescans the growing heap of a
    # fleet's parsed YAML over and over (11 s of a 15 s lint at 9,000 objects); refcounting frees the rest.
    gc.disable()
    try:
        code = cli.main(args=argv, prog_name="mlgitops", standalone_mode=False)
    except click.exceptions.Abort:
        # Ctrl-C (click turns KeyboardInterrupt into Abort): 128 + SIGINT, as shells report it, never
        # 1 ("findings") or 2 ("bad input").
        click.echo("interrupted", err=True)
        sys.exit(ExitCode.INTERRUPTED)
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        sys.exit(ExitCode.INTERRUPTED)
    except click.ClickException as error:
        # Usage errors quote the user's arguments: shown inert, like every other message (the help
        # text click prints for a bare `mlgitops` is its own).
        if type(error).__name__ != "NoArgsIsHelpError":
            error.message = terminal(error.message)  # type: ignore[misc, unused-ignore]  # Final in newer click
        error.show()
        sys.exit(error.exit_code)
    except UserError as error:
        for each in error.errors if isinstance(error, UserErrors) else [error]:
            console().error(terminal(each.one_line()))
        sys.exit(ExitCode.BAD_INPUT)
    except Exception as error:
        # A bug of ours, not a user mistake: one line, and the traceback only on request.
        if os.environ.get("MLGITOPS_DEBUG"):
            raise
        click.echo(
            terminal(
                f"internal error: {type(error).__name__}: {error} (a bug in mlgitops; rerun with MLGITOPS_DEBUG=1 "
                "for details and please report it)"
            ),
            err=True,
        )
        sys.exit(ExitCode.INTERNAL)
    finally:
        gc.enable()
    sys.exit(int(code) if isinstance(code, int) else ExitCode.OK)


def entry() -> NoReturn:
    """The ``mlgitops`` console script: :func:`main`, then leave without tearing the heap down.

    A lint or render of a large fleet holds millions of small objects; freeing them one by one at
    interpreter exit took 0.1 s at 9,000 objects and grows with the fleet, for memory the
    operating system takes back at once. Every file mlgitops writes is closed by then (all are
    written through context managers), so only the standard streams are flushed here. In-process
    callers (tests, the Python API) use :func:`main`, which returns through ``SystemExit``.
    """
    try:
        main()
        code: object = ExitCode.OK
    except SystemExit as stop:
        code = ExitCode.OK if stop.code is None else stop.code
    if not isinstance(code, int):
        print(code, file=sys.stderr)
        code = 1
    try:
        for stream in (sys.stdout, sys.stderr):
            if stream is not None:  # None when started with the stream closed (`mlgitops lint x >&-`)
                stream.flush()
    except BrokenPipeError:
        # The reader went away (`mlgitops lint | head`): what it wanted, it has; the exit code still tells.
        pass
    except OSError:
        code = code or ExitCode.INTERNAL  # the output could not be written whole (a full disk): never report success
    os._exit(int(code))


if __name__ == "__main__":  # pragma: no cover
    entry()
