"""Where a user mistake is, the one exception that carries it to the CLI, and the exit codes of every command."""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum


class ExitCode(IntEnum):
    """What a run of ``mlgitops`` tells its caller. Commands return one; ``cli`` alone exits with it.

    A ``UserError`` raised anywhere becomes ``BAD_INPUT`` in ``cli``; a command never exits by itself.
    """

    OK = 0
    FINDINGS = 1
    """Findings at or above the failing severity, drift (``render --check``), or failing policy examples."""
    BAD_INPUT = 2
    """Bad input or usage, or an environment that refuses the run's output (a full disk, a closed stream):
    one located line per mistake on stderr (when stderr can take it)."""
    INTERNAL = 3
    """A bug of mlgitops (the traceback only with MLGITOPS_DEBUG=1)."""
    INTERRUPTED = 130
    """Ctrl-C: 128 + SIGINT, as shells report it."""


@dataclass(frozen=True, order=True)
class Location:
    """A 1-based line and column in a file, as editors and CI annotations count them."""

    file: str
    line: int
    column: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


class UserError(Exception):
    """A mistake in the user's input: reported as one line, never as a traceback.

    The CLI catches it once and exits 2. ``location`` may be ``None`` only when the
    mistake has no place in a file (a missing directory, a bad flag value).
    """

    def __init__(self, message: str, location: Location | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.location = location

    def one_line(self) -> str:
        text = " ".join(self.message.split("\n"))
        return f"{self.location}: {text}" if self.location else text

    def __str__(self) -> str:
        return self.one_line()


class OutputError(Exception):
    """Writing to a standard stream failed (a full disk, ``> /dev/full``, an I/O error): the environment refused the
    output, not a bug of mlgitops. ``cli`` reports it in one line (when stderr can take it) and exits 2."""

    def __init__(self, stream: str, error: OSError) -> None:
        self.stream = stream
        self.strerror = error.strerror or str(error)
        super().__init__(f"cannot write to {stream}: {self.strerror}")


class UserErrors(UserError):
    """Several independent mistakes found in one pass, each reported on its own line."""

    errors: list[UserError]

    def __init__(self, errors: list[UserError]) -> None:
        # Flattened: each line printed is one error (a nested group would print as one joined line).
        leaves: list[UserError] = []
        for error in errors:
            leaves.extend(error.errors if isinstance(error, UserErrors) else [error])
        ordered = sorted(
            leaves,
            key=lambda e: (e.location is None, e.location or Location("", 0, 0), e.message),
        )
        unique: list[UserError] = []
        seen: set[str] = set()
        for error in ordered:
            if error.one_line() not in seen:
                seen.add(error.one_line())
                unique.append(error)
        super().__init__(unique[0].message, unique[0].location)
        self.errors = unique

    def one_line(self) -> str:
        return "\n".join(e.one_line() for e in self.errors)
