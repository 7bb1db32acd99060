"""Documents read by the fast engine (yaml-rs), only where it is certain to agree with PyYAML.

yaml-rs implements YAML 1.2 and PyYAML YAML 1.1, and they resolve some plain scalars
differently (`yes`, `012`, `1e3`, `2024-01-01`, `1:30`); yaml-rs also keeps no positions and
does not say which scalars were written plain, which the ambiguity rule needs. So a text is
first screened, with a few regular expressions running in C over the whole text, for
anything that could make the two readers disagree or that needs PyYAML's own checks:

- plain tokens that YAML 1.1, YAML 1.2, Go's readers or yaml-rs itself could take for
  something other than text, or read otherwise than PyYAML: the screen admits, of the tokens
  starting with a character some reader's resolver dispatches on (`-+._0-9~=<yYnNoOtTfF`),
  only shapes every reader takes alike (canonical integers and decimals, versions, quantities
  such as `500m`, flags, words other than the YAML 1.1 booleans); everything else (`_0`,
  `1_000`, `0x1F`, `017`, `1e3`, `+1`, `.5`, `1:30`, `.inf`, `~`, `Null`, `yes`, dates) goes
  to PyYAML's path. So it is wider than any reader's rules, and its tests hold it to cover
  every text :func:`~generator.yaml.ambiguity.disagree` judges;
- anchors, aliases, tags, merge keys, complex and empty keys, directives and `...` markers, so
  alias bombs and unsupported tags are refused by PyYAML's path with their located message;
- flow collections other than one-line, unnested ones of plain or quoted scalars (YAML 1.2
  relaxed flow syntax that YAML 1.1 refuses), block scalars (`|`, `>`: the two chomp empty
  and last lines differently) and trailing spaces at the end of the text;
- tabs, carriage returns, byte-order marks, YAML 1.1 line breaks (NEL, LS, PS) and characters
  PyYAML refuses;
- anything that could nest deeper than ``MAX_DEPTH``: yaml-rs itself overflows its stack on
  a deep enough document, so the bound is proved from the text before it parses.

A text that passes is split at its `---` lines (yaml-rs returns one value for a stream, and a
one-document list looks like several documents) and each document is parsed by yaml-rs with
duplicate keys refused; any error there, or any hit of the screen, sends the whole text to
PyYAML's path, which then gives the located message or the objects. The screen only ever
costs speed, never a different result: ``tests/yaml/test_engine.py`` compares both paths on
the YAML test suite, tricky scalars, real manifests and generated documents.
"""

from __future__ import annotations

import re
from typing import Any

from mlgitops.yaml.ambiguity import FIRST_CHARACTERS
from mlgitops.yaml.documents import starts
from mlgitops.yaml.engine import fast_engine

MAX_DEPTH = 100

# Plain tokens. A reader decides what a plain scalar is from its first character: PyYAML's
# resolver looks up `yaml_implicit_resolvers[text[0]]`, go-yaml (v2, v3) its `resolveTable`, and
# yaml-rs's `resolve_plain` (src/load/scalar.rs) tries null, boolean, float and integer forms that
# all start with one of `~nNtTfF+-._0-9` (it strips underscores anywhere in a number: `_0` and
# `1_000` are numbers to it). A token that starts with any other character is text to every
# reader. One that starts with one of them is admitted only in a shape every reader takes alike;
# any other such token sends the text to PyYAML's path (`0x1F`, `017`, `0o17`, `1e3`, `1_000`,
# `_0`, `+1`, `.5`, `1.`, `1:30`, `.inf`, `~`, `Null`, `yes`, `=`, `<<`, dates and times).
# The first characters: those of the three readers lint judges by (ambiguity.FIRST_CHARACTERS), `_`
# (yaml-rs), and `=` and `<` (PyYAML's value and merge keys, `=` and `<<`).
_SPECIAL_FIRST = "[" + "".join(re.escape(character) for character in sorted(FIRST_CHARACTERS | set("_=<"))) + "]"
# Where a plain scalar ends: the end of a line or the text, a comment, a flow indicator (text to
# every reader after any admitted shape, so also right in block context), or `: ` after a key.
_END = r"(?=[ ]*(?:$|[\n,\]}#]|:(?:[ \n]|$)))"
_ADMITTED = "|".join(  # most frequent first: keys and values that are words, `- ` entries, then numbers
    (
        # Words: the YAML 1.1 booleans in any case (y, n, yes, no, on, off) and every spelling of
        # true, false and null but the lowercase ones, which every YAML 1.1, 1.2 (core and JSON
        # schema) and Go reader and yaml-rs read alike, are screened; every other word is text.
        r"(?!(?i:y|n|yes|no|on|off|true|false|null)" + _END + r")[yYnNoOtTfF]",
        r"(?:true|false|null)" + _END,
        r"-(?=[ \n]|$)",  # not a scalar: a block sequence entry (`- x`, or `-` with its content below)
        # Canonical integers (up to 18 digits: Go's int64) and decimals: the same number to every reader.
        r"-?(?:0|[1-9][0-9]{0,17})(?:\.[0-9]+)?" + _END,
        # Versions and addresses (`1.4.2`, `10.0.0.1`): text to every reader.
        r"[0-9]+(?:\.[0-9]+){2,}" + _END,
        # Digits and dots, then a character no number or date form continues with: a letter (not e/E,
        # not x/o/b after a lone 0), `%`, `/`, a quote, `-` (but after the year of a date: `2024-01-01`)
        # or a space and more words (a timestamp continues after a space, but only after a date):
        # `500m`, `4Gi`, `4x4`, `25%`, `8080/TCP`, `10.0.0.0/8`, `23.10-py3`, `0 2 * * *`.
        r"-?(?!0[xXoObB]|[0-9]{4}-)[0-9]+(?:\.[0-9]+)*(?:[A-DF-Za-df-z%/\"'-]|[ ]+[^ #:,\[\]{}\n])",
        r"-[-A-Za-z]",  # flags: `--port=8080`, `-v`
        r"\.(?!(?i:inf|nan)" + _END + r")[A-Za-z/.]",  # `.spec.x`, `./run.sh`, `../x` (yaml-rs reads `.iNf` in any case)
        r"_+[A-Za-z]",  # `_internal`, `__init__` (yaml-rs reads `_0`, `__1` as numbers)
        r"[~=](?!" + _END + r")",  # `~/.cache`, `==1.2` (alone they are null and PyYAML's value key)
        r"<(?!<" + _END + r")",  # `<none>` (`<<` alone is a merge key)
    )
)
_TOKEN = r"(?=" + _SPECIAL_FIRST + r")(?!" + _ADMITTED + r")[^\s,\[\]{}#]*"
# Where plain tokens start. Each expression starts with a literal or a rare character, so the
# regular expression engine skips ahead in C; `(?=( +))\1` takes all spaces without backtracking.
_LINE_START = r"(?=([ ]*))\1(?:---[ ]+)?(?:-[ ]+)*" + _TOKEN  # keys, items, values on their own line (see _AT_LINE)
_AT_TEXT = re.compile(_LINE_START)
_AT_VALUE = re.compile(r":(?=([ ]+))\1" + _TOKEN)
_IN_FLOW = re.compile(r"""(?:[,\[{][ ]*|["'\]}]:)""" + _TOKEN)  # only where there are flow collections
# Block scalars (`|`, `>`): libyaml and yaml-rs disagree on empty ones and on trailing lines.
_BLOCK_SCALAR = re.compile(r"[|>](?<=[ \n][|>])[-+1-9]{0,2}[ ]*(?:#[^\n]*)?(?=\n|$)")
_STRUCTURE_MARKS = "&!*<?"
# A token starts after indentation, an indicator (`: `, `- `, `? `) or a flow indicator; `&&` or `{`
# inside a plain scalar (`a && b`, `sum(x{a="b"})`) is text, not an anchor or a flow collection.
_TOKEN_START = r"(?:^|(?<=[:?\[{,\n-]))[ ]*"
_MARK = r"(?:[&!]|\*(?=[^\s,\[\]{}])|(?:<<|\?)(?=[ \n:]|$))"  # anchor, tag, alias, merge key, complex key
# The same token start, as a text's start and as the character before: a pattern that starts with a
# character class lets the regular expression engine skip ahead in C (a look-behind makes it try every offset).
_STRUCTURE_AT_TEXT = re.compile(r"[ ]*" + _MARK)
_STRUCTURE = re.compile(r"[:?\[{,\n-][ ]*" + _MARK)
# A directive, a document end marker, a block scalar on the `---` line, an empty key (`: x`).
_LINE_MARK = r"%|\.\.\.(?=[ \n]|$)|---[ ]+[|>]"
_LINE_MARKS = re.compile(r"\n(?:" + _LINE_MARK + r"|[ ]*(?:-[ ]+)*:(?=[ \n]|$))")
# Plain tokens and marks at a line's start in one pass over the text (both take the indentation first).
_AT_LINE = re.compile(r"\n(?:" + _LINE_MARK + r"|(?=([ ]*))\1(?:(?:---[ ]+)?(?:-[ ]+)*" + _TOKEN + r"|(?:-[ ]+)*:(?=[ \n]|$)))")
# YAML 1.2 relaxed flow collections (multi-line keys, `"a":b`, empty and complex keys, nesting),
# which YAML 1.1 readers refuse or read otherwise: only one-line collections of plain or quoted
# scalars, not nested and not used as keys, take the fast path.
_FLOW_ITEM = r"""(?:"(?:[^"\\\n]|\\.)*"|'(?:[^'\n]|'')*'|(?:[^\s,\[\]{}#&*!|>'"%@`?:-]|-(?=[^\s,\[\]{}]))[^,\[\]{}#:\n]*)"""
_SIMPLE_FLOW = re.compile(
    r"(?:\[[ ]*(?:ITEM[ ]*(?:,[ ]*ITEM[ ]*)*,?[ ]*)?\]|\{[ ]*(?:ITEM:[ ]+ITEM[ ]*(?:,[ ]*ITEM:[ ]+ITEM[ ]*)*,?[ ]*)?\})"
    r"(?=[ ]*(?:#|\n|$))".replace("ITEM", _FLOW_ITEM)
)
_FLOW_OPEN = re.compile(_TOKEN_START + r"[\[{]")
_PRINTABLE_ASCII = bytes(range(0x20, 0x7F)) + b"\n"
_UNPRINTABLE = re.compile(  # tab, CR, BOM, YAML 1.1 line breaks (NEL, LS, PS) and what PyYAML refuses
    r"[^\n\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd\U00010000-\U0010ffff]"
)
# Block collections nest at growing indentation (a mapping's sequence may share its mapping's),
# plus the collections opened on one line by "- " (`- - x`, `- a: x`), each of which pushes the
# lines nested in it further right. With indentation under 36 spaces and runs of under 4 such
# indicators, no block collection nests deeper than 95 levels; a (simple) flow collection adds one.
_DEEP_INDENT = "\n" + " " * 36
_LONG_RUN = re.compile(r"-[ ]+-[ ]+-[ ]+-(?=[ \n]|$)")


def _first(text: str) -> re.Match[str] | None:
    """The first plain token, structure or character that PyYAML's path must handle."""
    if text.isascii():
        if text.encode("ascii").translate(None, _PRINTABLE_ASCII):
            return _UNPRINTABLE.search(text)
    elif found := _UNPRINTABLE.search(text):
        return found
    found = _AT_TEXT.match(text) or _AT_LINE.search(text) or _AT_VALUE.search(text)
    if found is None and ("[" in text or "{" in text):
        found = _IN_FLOW.search(text) or _complex_flow(text)
    if found is None and ("|" in text or ">" in text):
        found = _BLOCK_SCALAR.search(text) or _BLOCK_SCALAR.search("\n" + text[:4])
    if found is None and any(mark in text for mark in _STRUCTURE_MARKS):
        found = _STRUCTURE_AT_TEXT.match(text) or _STRUCTURE.search(text)
    return found or _LINE_MARKS.match("\n" + text[:8])


def _complex_flow(text: str) -> re.Match[str] | None:
    """The first `[` or `{` that does not open a simple one-line flow collection (see ``_SIMPLE_FLOW``)."""
    end = 0
    for opening in _FLOW_OPEN.finditer(text):
        if opening.start() < end:
            continue  # inside a simple collection already matched (a quoted "[ 0]")
        simple = _SIMPLE_FLOW.match(text, opening.end() - 1)
        if simple is None:
            return opening
        end = simple.end()
    return None


def screen(text: str) -> str | None:
    """Why ``text`` must be read by PyYAML's path (None: yaml-rs reads it exactly as PyYAML does)."""
    found = _first(text)
    if found is not None:
        return f"{found.group().strip()!r} at offset {found.start()}"
    if text.endswith(" "):
        return "trailing spaces at the end of the text (libyaml and yaml-rs chomp them differently)"
    if _DEEP_INDENT in text or text.startswith(_DEEP_INDENT[1:]) or _LONG_RUN.search(text):
        return f"indented deeply enough to nest more than {MAX_DEPTH} levels"
    return None


def _documents(text: str) -> list[str]:
    """The text of each document: split at `---` lines; what precedes the first counts only with content."""
    found = starts(text)
    return [text[start:end] for start, end in zip(found, [*found[1:], len(text)], strict=True)]


def read(text: str) -> list[Any] | None:
    """Every document of ``text`` as PyYAML's safe loader builds it, or None where only PyYAML's path may read it."""
    engine = fast_engine()
    if engine is None or screen(text) is not None:
        return None
    loads = engine.loads
    try:
        return [loads(document, parse_datetime=False) for document in _documents(text)]
    except Exception:  # any refusal (syntax, duplicate key) is for PyYAML to explain
        return None


__all__ = ["MAX_DEPTH", "read", "screen"]
