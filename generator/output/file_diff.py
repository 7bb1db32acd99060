"""Unified diffs of rendered files, shared by `render --check` and the pull-request review."""

from __future__ import annotations

import difflib

DEV_NULL = "/dev/null"


def file_diff(before_name: str, after_name: str, before: str, after: str) -> str:
    """A unified diff of one file, git-style: ``a/NAME`` and ``b/NAME``, or ``/dev/null`` for a side that is absent.

    Every line of the result ends in a newline, even where a side lacks a final one, so diffs of
    several files can be concatenated.
    """
    lines = difflib.unified_diff(
        before.splitlines(keepends=True),
        after.splitlines(keepends=True),
        fromfile=f"a/{before_name}" if before_name != DEV_NULL else before_name,
        tofile=f"b/{after_name}" if after_name != DEV_NULL else after_name,
    )
    return "".join(line if line.endswith("\n") else line + "\n" for line in lines)


def unified(before: dict[str, str], after: dict[str, str], prefix: str) -> str:
    """A unified diff of two sets of files (name → text), each shown as ``PREFIX/NAME``, in name order."""
    chunks = []
    for name in sorted(set(before) | set(after)):
        old, new = before.get(name, ""), after.get(name, "")
        if old == new:
            continue
        shown = f"{prefix}/{name}"
        chunks.append(file_diff(shown if name in before else DEV_NULL, shown if name in after else DEV_NULL, old, new))
    return "".join(chunks)
