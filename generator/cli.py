"""The ``mlgitops`` command line: a thin shell that loads each command only when it runs.

Commands live in ``generator/commands/``; importing them pulls in pydantic, jsonschema and the
YAML libraries, so they are imported lazily to keep ``mlgitops --version`` close to the cost of
importing click alone.
"""

from __future__ import annotations

import contextlib
import errno
import gc
import importlib
import importlib.util
import os
import sys
from collections.abc import Iterator
from typing import Any, NoReturn, TextIO, cast

import click

from mlgitops import __version__
from mlgitops.errors import ExitCode, OutputError

_COMMANDS: dict[str, tuple[str, str, str]] = {
    "render": ("mlgitops.commands.render", "render", "Render environments/ into rendered/<env>/."),
    "template": ("mlgitops.commands.render", "template", "Print environments' objects as one YAML stream (helm template)."),
    "schema": ("mlgitops.commands.render", "schema", "Print the JSON Schema of environment files."),
    "alerts": ("mlgitops.commands.alerts", "alerts", "Write environments' alert rules and their promtool unit tests."),
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


# What a full disk, a quota or a failing device says when output cannot be written: the environment's
# refusal, never a bug of mlgitops (exit 2, like any other input it cannot work with).
_ENVIRONMENT_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EIO, errno.EROFS, errno.ENXIO})


class _GuardedStream:
    """A standard stream whose failed writes (a full disk, an I/O error) are told apart from bugs.

    Every line mlgitops prints goes through ``sys.stdout``/``sys.stderr`` (click.echo looks them up on each call),
    so this one wrapper decides what a failed write means. On stdout, where results go, it raises
    ``OutputError`` naming the stream: the run ends with exit 2 and one line on stderr. On stderr, which
    carries messages about the run, the message is dropped (there is nowhere left to say anything) and the
    run goes on: its exit code still says what it found. A closed pipe (``| head``) stays a BrokenPipeError:
    click and ``entry`` treat it as the reader having had enough.
    """

    def __init__(self, stream: Any, name: str) -> None:
        self._stream = stream
        self._name = name
        self._results = name == "standard output"

    def write(self, text: str) -> int:
        try:
            return int(self._stream.write(text))
        except BrokenPipeError:
            raise
        except OSError as error:
            if self._results:
                raise OutputError(self._name, error) from None
            return len(text)

    def flush(self) -> None:
        try:
            self._stream.flush()
        except BrokenPipeError:
            raise
        except OSError as error:
            if self._results:
                raise OutputError(self._name, error) from None

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


@contextlib.contextmanager
def _guarded_streams() -> Iterator[None]:
    saved = sys.stdout, sys.stderr
    if sys.stdout is not None and not isinstance(sys.stdout, _GuardedStream):
        sys.stdout = cast(TextIO, _GuardedStream(sys.stdout, "standard output"))
    if sys.stderr is not None and not isinstance(sys.stderr, _GuardedStream):
        sys.stderr = cast(TextIO, _GuardedStream(sys.stderr, "standard error"))
    try:
        yield
    finally:
        sys.stdout, sys.stderr = saved


def _say(line: str) -> None:
    """One line on stderr, if stderr can take it: the exit code tells the rest when it cannot."""
    with contextlib.suppress(OSError, OutputError, ValueError):
        click.echo(line, err=True)


def main(argv: list[str] | None = None) -> Any:
    """Entry point: run the CLI and exit with the ``ExitCode`` the command returned.

    The one exit path of every command: a ``UserError`` (or ``UserErrors``) raised anywhere is printed here,
    one inert ``error:`` line per mistake, and exits 2; so does output that cannot be written (a full disk
    behind stdout: ``OutputError``); an interrupt exits 130; anything else is a bug (3). When stderr itself
    cannot be written, the exit code still says what happened.
    """
    sys.exit(_exit_code(argv, collector_after=True))


def _exit_code(argv: list[str] | None, *, collector_after: bool) -> int:
    """Run the CLI with the cyclic garbage collector off; turn it back on after only when ``collector_after``.

    A short batch process: the collector only rescans the growing heap of a fleet's parsed YAML over and
    over (11 s of a 15 s lint at 9,000 objects); reference counting frees the rest. Turning it back on is
    not free either: the next allocation starts a collection of the youngest generation, which by then is
    every object the run allocated and reference counting did not free, most of them the parsed files, which
    the folder walk's closures keep in reference cycles (about 2.9 million after a lint of the benchmark's dirty
    N = 1000 tree: 0.5-1.4 s of a 5.3-7.0 s run, in four paired measurements). In-process callers (tests, the
    Python API) need it back; the console script, about to leave through ``os._exit``, does not (:func:`entry`).
    """
    gc.disable()
    try:
        with _guarded_streams():
            return _delivered(_run(argv))
    finally:
        if collector_after:
            gc.enable()


def _delivered(code: int) -> int:
    """``code``, unless what is still buffered for stdout cannot be written: then the result never arrived (2)."""
    try:
        for stream in (sys.stdout, sys.stderr):
            if stream is not None:
                stream.flush()
    except OutputError as error:
        if code in (ExitCode.OK, ExitCode.FINDINGS):
            _say(f"error: {error}")
            return ExitCode.BAD_INPUT
    except (BrokenPipeError, ValueError):
        pass  # the reader went away, or the stream was closed: what it wanted, it has
    return code


def _run(argv: list[str] | None) -> int:
    """The command's exit code; every exception a run can end in becomes one line on stderr and its code."""
    from mlgitops.commands.console import console
    from mlgitops.errors import UserError, UserErrors
    from mlgitops.output.inert import terminal

    try:
        code = cli.main(args=argv, prog_name="mlgitops", standalone_mode=False)
    except (click.exceptions.Abort, KeyboardInterrupt):
        # Ctrl-C (click turns KeyboardInterrupt into Abort): 128 + SIGINT, as shells report it, never
        # 1 ("findings") or 2 ("bad input").
        _say("interrupted")
        return ExitCode.INTERRUPTED
    except click.ClickException as error:
        # Usage errors quote the user's arguments: shown inert, like every other message (the help
        # text click prints for a bare `mlgitops` is its own).
        if type(error).__name__ != "NoArgsIsHelpError":
            error.message = terminal(error.message)  # type: ignore[misc, unused-ignore]  # Final in newer click
        with contextlib.suppress(OSError, OutputError):
            error.show()
        return error.exit_code
    except UserError as error:
        with contextlib.suppress(OSError, OutputError):
            for each in error.errors if isinstance(error, UserErrors) else [error]:
                console().error(terminal(each.one_line()))
        return ExitCode.BAD_INPUT
    except OutputError as error:
        _say(terminal(f"error: {error}"))
        return ExitCode.BAD_INPUT
    except OSError as error:
        if error.errno not in _ENVIRONMENT_ERRNOS:
            return _internal(error)
        _say(terminal(f"error: cannot write: {error.strerror or error}"))
        return ExitCode.BAD_INPUT
    except Exception as error:
        return _internal(error)
    return int(code) if isinstance(code, int) else ExitCode.OK


def _internal(error: Exception) -> int:
    """A bug of ours, not a user mistake: one line, and the traceback only on request."""
    from mlgitops.output.inert import terminal

    if os.environ.get("MLGITOPS_DEBUG"):
        raise error
    _say(
        terminal(
            f"internal error: {type(error).__name__}: {error} (a bug in mlgitops; rerun with MLGITOPS_DEBUG=1 "
            "for details and please report it)"
        )
    )
    return ExitCode.INTERNAL


def entry() -> NoReturn:
    """The ``mlgitops`` console script: the CLI as :func:`main` runs it, then leave without tearing the heap down
    (nor turning the garbage collector back on for it to scan: :func:`_exit_code`).

    A lint or render of a large fleet holds millions of small objects; freeing them one by one at
    interpreter exit took 0.1 s at 9,000 objects and grows with the fleet, for memory the
    operating system takes back at once. Every file mlgitops writes is closed by then (all are
    written through context managers), so only the standard streams are flushed here. In-process
    callers (tests, the Python API) use :func:`main`, which returns through ``SystemExit``.
    """
    try:
        code: object = _exit_code(None, collector_after=False)
    except SystemExit as stop:
        code = ExitCode.OK if stop.code is None else stop.code
    if not isinstance(code, int):
        _say(str(code))
        code = 1
    for stream in (sys.stdout, sys.stderr):
        try:
            if stream is not None:  # None when started with the stream closed (`mlgitops lint x >&-`)
                stream.flush()
        except BrokenPipeError:
            # The reader went away (`mlgitops lint | head`): what it wanted, it has; the exit code still tells.
            pass
        except OSError as error:
            # The output could not be written whole (a full disk): never report success, never call it a bug.
            if not code:
                code = ExitCode.BAD_INPUT
                _say(
                    f"error: cannot write to {'standard output' if stream is sys.stdout else 'standard error'}: {error.strerror}"
                )
    os._exit(int(code))


if __name__ == "__main__":  # pragma: no cover
    entry()
