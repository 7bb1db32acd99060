"""Values of an object that a finding's message may quote: found, or replaced, at a cost that does not grow with their number.

Two steps word each finding against values of its object: a finding that quotes a placeholder gives way to
rule placeholder (``engine``), and a finding never quotes a secret (``redaction``). An object may hold thousands of
such values and get thousands of findings (a Secret of 4,000 keys that are not valid key names, a ConfigMap of
8,000 labels left as ``<fill-me>``). A regular expression that alternates the values, or a loop over them, costs
time in their number for every message: 6.8 s for the 4,000-key Secret, 5.5 s for the 8,000 labels, four times the
input taking seven times as long.

:class:`QuotedValues` finds them by length instead: the places in a message where some value could start (a regular
expression of their first characters, in C), and there the text of each length some value has, looked up in a set.
The work per message grows with its length and with how many lengths the values have (rarely more than a few dozen,
and never more than the message is long), not with how many values there are.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

# Python's \w (str patterns): a character for which str.isalnum() holds, or "_".
_WORD = re.compile(r"\w")


class QuotedValues:
    """Spellings of values (non-empty strings) to look for in messages.

    ``in_message(text)`` is ``any(value in text for value in values)``; ``replaced(text, by)`` is
    ``re.sub(r"(?<!\\w)(?:v1|v2|...)(?!\\w)", by, text)`` with the values escaped and the longest first: each
    occurrence that stands as a whole word (no word character right before or after it), leftmost first, the
    longest value that does at that place. The tests hold both to those definitions.
    """

    def __init__(self, values: Iterable[str]) -> None:
        by_length: dict[int, set[str]] = {}
        for value in values:
            if value:
                by_length.setdefault(len(value), set()).add(value)
        self._by_length = by_length
        self._longest_first = sorted(by_length, reverse=True)
        # Where a value may start: one of their first characters (nowhere, when there are none).
        firsts = sorted({value[0] for group in by_length.values() for value in group})
        starts = "[" + "".join(re.escape(character) for character in firsts) + "]" if firsts else "(?!)"
        self._starts = re.compile(starts)
        self._word_starts = re.compile(r"(?<!\w)" + starts)

    def __bool__(self) -> bool:
        return bool(self._by_length)

    def _at(self, text: str, start: int, *, whole_word: bool) -> int | None:
        """The end of the longest value written at ``start`` (followed by no word character when ``whole_word``)."""
        for length in self._longest_first:
            end = start + length
            found = end <= len(text) and text[start:end] in self._by_length[length]
            if found and (not whole_word or _WORD.match(text, end) is None):
                return end
        return None

    def in_message(self, text: str) -> bool:
        """Whether some value occurs in ``text``, anywhere."""
        return any(self._at(text, start.start(), whole_word=False) is not None for start in self._starts.finditer(text))

    def replaced(self, text: str, by: str) -> str:
        """``text`` with each value that stands there as a whole word replaced by ``by`` (the longest one first)."""
        parts: list[str] = []
        kept = position = 0
        while (start := self._word_starts.search(text, position)) is not None:
            end = self._at(text, start.start(), whole_word=True)
            if end is None:
                position = start.start() + 1
                continue
            parts += [text[kept : start.start()], by]
            kept = position = end
        if not parts:
            return text
        parts.append(text[kept:])
        return "".join(parts)


__all__ = ["QuotedValues"]
