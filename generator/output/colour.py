"""ANSI colour for text meant for a terminal: applied last, only when the console says colour is wanted.

The text is already what the plain output would be (and already made inert for a terminal), so a
coloured line and a plain one differ only by escape sequences around whole words and lines.
"""

from __future__ import annotations

import click

from mlgitops.policy.severity import Severity

SEVERITY_STYLE: dict[Severity, dict[str, object]] = {
    Severity.ERROR: {"fg": "red", "bold": True},
    Severity.WARNING: {"fg": "yellow", "bold": True},
    Severity.INFO: {"fg": "cyan"},
}


def severity(level: Severity) -> str:
    """A severity's word (error, warning, info) in its colour."""
    return click.style(level.value, **SEVERITY_STYLE[level])  # type: ignore[arg-type]


def strong(text: str) -> str:
    return click.style(text, bold=True)


def faint(text: str) -> str:
    return click.style(text, dim=True)


def diff(text: str) -> str:
    """A unified diff with added lines green, removed lines red and hunk headers cyan."""
    lines = []
    for line in text.splitlines(keepends=True):
        if line.startswith(("+++", "---")):
            lines.append(click.style(line.rstrip("\n"), bold=True) + "\n")
        elif line.startswith("+"):
            lines.append(click.style(line.rstrip("\n"), fg="green") + "\n")
        elif line.startswith("-"):
            lines.append(click.style(line.rstrip("\n"), fg="red") + "\n")
        elif line.startswith("@@"):
            lines.append(click.style(line.rstrip("\n"), fg="cyan") + "\n")
        else:
            lines.append(line)
    return "".join(lines)
