"""Markdown that GitHub accepts as one comment or pull-request description: at most 65,536 characters.

GitHub refuses a longer body ("Body is too long"), counting UTF-16 code units as JavaScript does (an
emoji outside the Basic Multilingual Plane counts 2). A body is built from a head that is always
shown whole and details that take whole lines while room is left; whatever is cut is counted in
one note saying where to see everything.
"""

from __future__ import annotations

from collections.abc import Callable

COMMENT_LIMIT = 65_536
"""GitHub's limit for a comment or a pull-request description, in UTF-16 code units."""
_NOTE_ROOM = 600
"""Room kept for the notes that say what was left out."""
FULL_TEXT = (
    "Run `mlgitops diff --output-format text` to see everything; the workflow's job log and its uploaded artifact "
    "hold the full summary."
)


def comment_length(text: str) -> int:
    """Length as GitHub counts a comment body: UTF-16 code units (an emoji outside the BMP counts 2)."""
    return len(text.encode("utf-16-le")) // 2


class Budget:
    """Characters left for the details; sections take whole lines while they fit and count what they drop."""

    def __init__(self, limit: int) -> None:
        self.left = limit
        self.dropped: dict[str, int] = {}

    def take(self, lines: list[str], section: str, unit: str) -> list[str]:
        """The lines of ``section`` that fit, then one ``- … N more <unit> not shown`` line for the rest."""
        kept = []
        for index, line in enumerate(lines):
            cost = comment_length(line) + 1
            if cost > self.left:
                self.dropped[section] = len(lines) - index
                kept.append(f"- … {len(lines) - index} more {unit} not shown (the comment has a size limit)")
                self.left -= comment_length(kept[-1]) + 1
                break
            kept.append(line)
            self.left -= cost
        return kept


def fit(head: list[str], details: Callable[[Budget], list[str]], limit: int = COMMENT_LIMIT) -> str:
    """``head`` whole, then as much of ``details(budget)`` as fits: never longer than ``limit`` as GitHub counts.

    Headings and tags around the details are not budgeted line by line: when they overflow, the
    details are built again with less room.
    """
    room = limit - comment_length("\n".join(head)) - _NOTE_ROOM
    for _ in range(8):
        budget = Budget(room)
        lines = [*head, *details(budget)]
        if budget.dropped:
            left_out = ", ".join(f"{count} {section}" for section, count in budget.dropped.items())
            lines += ["", f"> **Shortened to fit a pull-request comment** (left out: {left_out}). {FULL_TEXT}"]
        body = "\n".join(lines) + "\n"
        over = comment_length(body) - limit
        if over <= 0:
            return body
        room -= over + 200
    cut = "\n".join(head) + f"\n\n> **Shortened to fit a pull-request comment**: {FULL_TEXT}\n"
    return cut if comment_length(cut) <= limit else cut[: max(0, limit // 2)]


__all__ = ["COMMENT_LIMIT", "Budget", "comment_length", "fit"]
