"""A policy's finding message: ``{target}``, ``{kind}``, ``{name}``, ``{detail}``, ``{value}`` (quoted) and ``{text}``
(the value as written) filled in.

``!r`` quotes a value; nothing else is honoured.

A policy message is user data. Python's ``str.format`` would also honour format specs and
attribute lookups in it (``{target:>300000000}`` builds a 300 MB string; ``{target.__class__}``
reaches into objects), so templates are checked when the policy loads and filled here by plain
substitution.
"""

from __future__ import annotations

import string

FIELDS = ("detail", "kind", "name", "target", "text", "value")


def template_problem(template: str) -> str | None:
    """Why ``template`` is not a valid message template, or None."""
    try:
        parts = list(string.Formatter().parse(template))
    except ValueError as error:
        return f"not a valid message template ({error}); write {{{{ and }}}} for literal braces"
    for _, field, spec, conversion in parts:
        if field is None:
            continue
        if field not in FIELDS or spec or conversion not in (None, "r", "s"):
            shown = "{" + field + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "") + "}"
            return f"{shown[:40]!r} is not a placeholder; use only {', '.join('{' + name + '}' for name in FIELDS)}"
    return None


def fill(template: str, values: dict[str, str]) -> str:
    """``template`` with each placeholder replaced by its value (the template was checked on load)."""
    if template_problem(template) is not None:
        return template
    parts = []
    for literal, field, _, conversion in string.Formatter().parse(template):
        parts.append(literal)
        if field is not None:
            value = values.get(field, "")
            parts.append(repr(value) if conversion == "r" else value)
    return "".join(parts)


__all__ = ["FIELDS", "fill", "template_problem"]


NAMED = 5
"""Names a finding lists of a group it is about; the rest are counted ("and 1,995 more"), so that a message stays a
line, and N findings about one group of N do not write N x N names."""


def listed(names: list[str]) -> str:
    """``names`` joined with commas, the first ``NAMED`` of them and a count of the rest."""
    shown = ", ".join(names[:NAMED])
    return shown + (f" and {len(names) - NAMED:,} more" if len(names) > NAMED else "")
