"""An environment file in ruamel.yaml's round-trip mode, accepted only if it writes back byte for byte.

ruamel.yaml keeps comments, key order, quoting, flow and block styles, anchors and the column
of end-of-line comments, but writes one indentation per file and normalises a few spellings
(``~``, padded flow collections, trailing spaces). The file's indentation is read from its own
nesting (its base file's, or the usual two spaces, when it has none; see ``indentation.py``), CRLF line endings, a byte
order mark and a missing final newline are restored, and the unedited tree is written once and compared with
the file: any difference is a located refusal, so an edit can never rewrite lines it did not
mean to. (ruamel.yaml: https://yaml.dev/doc/ruamel.yaml/detail/ on indentation and offsets.)
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from mlgitops.edit.indentation import DEFAULT_INDENTATION, Indentation, Observed, indentation, observe
from mlgitops.errors import Location, UserError

WIDTH = 1_000_000
"""Never fold long lines: ruamel.yaml would otherwise break plain scalars past 80 columns."""


@dataclass
class RoundTrip:
    """A parsed file and what it takes to write it back exactly."""

    data: Any
    """The ruamel.yaml tree (CommentedMap at the top)."""
    shown: str
    indentation: Indentation
    newline: str
    final_newline: bool
    explicit_start: bool
    byte_order_mark: str = ""
    """A UTF-8 byte order mark the file starts with (some Windows editors write one): kept."""

    def dump(self) -> str:
        """The tree as text, in the file's own line endings."""
        stream = io.StringIO()
        _yaml(self.indentation, self.explicit_start).dump(self.data, stream)
        text = stream.getvalue()
        if not self.final_newline and text.endswith("\n"):
            text = text[:-1]
        text = text.replace("\n", self.newline) if self.newline != "\n" else text
        return self.byte_order_mark + text


def _yaml(indentation: Indentation, explicit_start: bool) -> Any:
    from ruamel.yaml import YAML

    yaml = YAML(typ="rt", pure=False)
    yaml.preserve_quotes = True
    yaml.width = WIDTH
    yaml.indent(mapping=indentation.mapping, sequence=indentation.sequence, offset=indentation.offset)
    yaml.explicit_start = explicit_start
    return yaml


def load(text: str, shown: str, base: Callable[[], Observed] = Observed) -> RoundTrip:
    """Parse ``text`` for editing; a UserError (at the first line that would change) when it cannot round-trip.

    ``base`` gives the indentation of the file it extends, asked for only when ``text`` does not
    show its own.
    """
    from ruamel.yaml.error import MarkedYAMLError, YAMLError

    newline = _newline(text, shown)
    mark = "\ufeff" if text.startswith("\ufeff") else ""
    body = text[len(mark) :]
    body = body.replace("\r\n", "\n") if newline == "\r\n" else body
    explicit_start = _starts_with_marker(body)
    try:
        data = _yaml(DEFAULT_INDENTATION, explicit_start).load(body)
    except MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        where = Location(shown, mark.line + 1, mark.column + 1) if mark else Location(shown, 1, 1)
        raise UserError(f"ruamel.yaml cannot read this file for editing: {error.problem or error.context}", where) from None
    except YAMLError as error:
        raise UserError(f"ruamel.yaml cannot read this file for editing: {error}", Location(shown, 1, 1)) from None
    if data is None:
        from ruamel.yaml.comments import CommentedMap

        data = CommentedMap()
    roundtrip = RoundTrip(
        data, shown, indentation(observe(body), base), newline, not body or body.endswith("\n"), explicit_start, mark
    )
    written = roundtrip.dump()
    if written != text and body.strip():
        raise _refusal(text, written, shown)
    return roundtrip


def _starts_with_marker(body: str) -> bool:
    """Whether the document opens with `---` (after any comments)."""
    for line in body.splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            return line.startswith("---")
    return False


def _newline(text: str, shown: str) -> str:
    crlf = text.count("\r\n")
    if not crlf:
        if "\r" in text:
            raise UserError(
                "a bare carriage return (\\r) ends a line: save the file with LF or CRLF line endings", _at(text, "\r", shown)
            )
        return "\n"
    lone = text.replace("\r\n", "")
    if "\n" in lone or "\r" in lone:
        offset = next(i for i, c in enumerate(text) if c == "\n" and (i == 0 or text[i - 1] != "\r"))
        line = text.count("\n", 0, offset) + 1
        raise UserError(
            "mixed line endings (CRLF and LF): an edit would not know which to write; save the file with one kind",
            Location(shown, line, offset - (text.rfind("\n", 0, offset) + 1) + 1),
        )
    return "\r\n"


def _at(text: str, character: str, shown: str) -> Location:
    offset = text.index(character)
    return Location(shown, text.count("\n", 0, offset) + 1, offset - (text.rfind("\n", 0, offset) + 1) + 1)


def _refusal(text: str, written: str, shown: str) -> UserError:
    original, rewritten = text.splitlines(), written.splitlines()
    number = next(
        (n for n, (a, b) in enumerate(zip(original, rewritten, strict=False), start=1) if a != b),
        min(len(original), len(rewritten)) + 1,
    )
    before = original[number - 1] if number <= len(original) else ""
    after = rewritten[number - 1] if number <= len(rewritten) else ""
    column = next(
        (i for i, (a, b) in enumerate(zip(before, after, strict=False), start=1) if a != b), min(len(before), len(after)) + 1
    )
    if before.rstrip() != before and before.rstrip() == after.rstrip():
        reason = "it ends in spaces"
    elif before.strip() == after.strip():
        reason = "its indentation differs from the rest of the file"
        column = len(before) - len(before.lstrip()) + 1
    elif before.replace(" ", "") == after.replace(" ", ""):
        reason = "its spacing differs from how ruamel.yaml writes it"
    elif number > len(rewritten) or number > len(original):
        reason = "the end of the file would change"
    else:
        reason = f"ruamel.yaml would write it as {after.strip()[:60]!r}"
    return UserError(
        f"cannot edit this file without rewriting lines the edit does not touch: line {number} would change ({reason}); "
        "make its formatting consistent with the rest of the file, or edit it by hand",
        Location(shown, min(number, max(len(original), 1)), column),
    )


__all__ = ["RoundTrip", "load"]
