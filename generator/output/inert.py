"""User-controlled text made inert for the medium it is printed to: one function per medium.

Workload names, file names, label values and policy messages come from pull requests. Printed
raw they could forge lines in a CI log (a ``\\r`` or ``\\n`` followed by ``error: …``), run GitHub
workflow commands (a line starting with ``::`` such as ``::stop-commands::``, or the legacy
``##[command]`` form anywhere in a line), drive the terminal (ANSI/OSC escape sequences), or turn
a pull-request comment into links, HTML and @mentions. Every reporter, the CLI's error printer and
`diff` pass such text through the function for their medium, and the tests feed each of them the
same hostile strings.

What no medium gets raw (:data:`HIDDEN`): characters that end or split a line, drive a terminal, reorder
text or hide it, and those XML 1.0 cannot carry. That is every control (Unicode category Cc), every
format character (Cf: the bidirectional marks and isolates such as U+061C and U+2066–U+2069, the
zero-width space, joiners and word joiner U+200B–U+200D and U+2060, U+FEFF, the soft hyphen, tag
characters), U+2028/U+2029, lone surrogates, the noncharacters (U+FDD0–U+FDEF and U+xxFFFE/U+xxFFFF:
U+FFFE and U+FFFF make an XML document ill-formed), and the fillers and selectors that render as nothing
(Hangul fillers, the combining grapheme joiner, variation selectors). Each is shown as an escape
(``\\u200b``, ``\\U000e0041``), so a reviewer sees that it is there; text without them is unchanged.

Sources: Unicode 15 category Cf (UnicodeData.txt), Unicode §23.7 noncharacters, "Trojan Source"
(CVE-2021-42574: bidirectional overrides and isolates reorder what a reviewer reads), GitHub Actions
workflow commands (``::name props::data``, data escaped as ``%25``, ``%0D``, ``%0A``; properties
also ``%3A``, ``%2C``) and the runner, which honours a command at the start of a line after leading
spaces; CommonMark code spans (a run of N backticks is closed only by a run of exactly N); GFM tables
(``\\|`` inside a cell); XML 1.0 ``Char`` production; SARIF 2.1.0 §3.11.6 (``[`` and ``]`` in message
text start embedded links unless escaped with ``\\``).
"""

from __future__ import annotations

import json
import re
from typing import Any

# C0 controls, DEL and C1 controls (ESC starts ANSI/OSC sequences; CR/LF/VT/FF/NEL split lines); every format
# character of Unicode 15 (category Cf: bidirectional marks, overrides and isolates, zero-width characters, the
# BOM, the soft hyphen, tag characters); the line and paragraph separators; lone surrogates (file names read with
# surrogateescape); the noncharacters; and characters that render as nothing (Hangul fillers, the combining
# grapheme joiner, variation selectors).
HIDDEN = (
    "\x00-\x1f\x7f-\x9f\u00ad\u034f\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u115f\u1160\u17b4\u17b5"
    "\u180b-\u180f\u200b-\u200f\u2028-\u202e\u2060-\u206f\u3164\ud800-\udfff\ufdd0-\ufdef\ufe00-\ufe0f\ufeff"
    "\uffa0\ufff9-\ufffb\ufffe\uffff\U000110bd\U000110cd\U00013430-\U0001343f\U0001bca0-\U0001bca3"
    "\U0001d173-\U0001d17a\U000e0000-\U000e0fff" + "".join(f"\\U{plane:04x}fffe\\U{plane:04x}ffff" for plane in range(0x1, 0x11))
)
"""A regular-expression character class body: what :func:`terminal` shows as escapes."""
_CONTROL = re.compile(f"[{HIDDEN}]")
# GitHub's runner takes a line as a workflow command when it starts with "::" after leading
# whitespace, and still honours the legacy "##[command]" form anywhere in a line.
_LINE_COMMAND = re.compile(r"\A(\s*)::")
_LEGACY_COMMAND = "##["


def _escape_control(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


def terminal(text: object) -> str:
    """``text`` as one inert line for a terminal or a CI log (stdout, stderr).

    Control characters, and those that reorder or hide text (:data:`HIDDEN`), become visible escapes
    (``\\x1b``, ``\\n``, ``\\u202e``…), so a value can neither end the line, send escape sequences nor
    read otherwise than it is; ``##[`` becomes ``#\\x23[`` and a leading ``::`` becomes ``\\x3a:`` so
    that no workflow command can start inside it. Every other medium builds on this one.
    """
    shown = _CONTROL.sub(_escape_control, str(text)).replace(_LEGACY_COMMAND, "#\\x23[")
    return _LINE_COMMAND.sub(lambda match: f"{match.group(1)}\\x3a:", shown)


def terminal_lines(text: str, indent: str = "") -> str:
    """Text of several lines (split at ``\\n`` only), each made inert by `terminal` and indented."""
    return "".join(f"{indent}{terminal(line)}\n" for line in text.rstrip("\n").split("\n")) if text else ""


def github_data(text: object) -> str:
    """``text`` as the data of a GitHub workflow command (after ``::name props::``).

    Line breaks stay line breaks of the annotation (``%0D``, ``%0A``); other controls are shown as escapes.
    """
    return terminal(str(text).replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A"))


def github_property(text: object) -> str:
    """``text`` as a property value of a GitHub workflow command (``file=…,title=…``)."""
    return github_data(text).replace(":", "%3A").replace(",", "%2C")


def markdown_code(text: object, *, in_table: bool = False) -> str:
    """``text`` as a Markdown code span, in which links, HTML, emphasis and @mentions are inert.

    The span is delimited by one more backtick than the longest run inside it; inside a table
    cell, ``|`` is escaped so that it cannot end the cell.
    """
    shown = terminal(text)
    if in_table:
        shown = shown.replace("|", "\\|")
    longest = max((len(run) for run in re.findall(r"`+", shown)), default=0)
    fence = "`" * (longest + 1)
    padding = " " if shown.startswith(("`", " ")) or shown.endswith(("`", " ")) or not shown else ""
    return f"{fence}{padding}{shown}{padding}{fence}"


def markdown_text(text: object) -> str:
    """``text`` as Markdown prose: one line, every character Markdown or HTML could act on escaped.

    Emphasis, links, images, HTML, headings, lists, tables and @mentions stay literal text.
    """
    shown = terminal(text)
    escaped = re.sub(r"([\\`*_{}\[\]()#+\-.!|~>])", r"\\\1", shown)
    return escaped.replace("<", "&lt;").replace("@", "&#64;")


def markdown_prose(text: object) -> str:
    """``text`` as one line of Markdown prose in which only its `` `code spans` `` keep their meaning.

    Whitespace (line breaks included) collapses to single spaces; each backtick-delimited span becomes a code
    span (:func:`markdown_code`), everything else is escaped as by :func:`markdown_text`, so links, HTML,
    emphasis and @mentions stay literal (and ``|`` cannot end a table cell outside a span).
    """
    pieces = re.split(r"(`[^`]+`)", " ".join(str(text).split()))
    return "".join(
        markdown_code(piece[1:-1]) if index % 2 else markdown_text(piece)
        for index, piece in enumerate(pieces)
    )


def markdown_fence(lines: list[str], language: str = "") -> list[str]:
    """Lines as a fenced code block that no line inside can close."""
    shown = [terminal(line) for line in lines]
    longest = max((len(run) for line in shown for run in re.findall(r"`{3,}", line)), default=0)
    fence = "`" * max(3, longest + 1)
    return [f"{fence}{language}", *shown, fence]


def json_document(document: object, **options: Any) -> str:
    """``document`` as JSON text for stdout: exact when loaded, inert in a CI log.

    JSON escapes control characters itself; ``##[`` is written ``#\\u0023[``, which loads back to
    the same string but cannot start a legacy workflow command.
    """
    return json.dumps(document, indent=2, **options).replace(_LEGACY_COMMAND, "#\\u0023[") + "\n"


def _xml_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;").replace("'", "&apos;")


def xml_text(text: object) -> str:
    """``text`` as XML character data: well-formed whatever it holds (controls shown as escapes)."""
    return _xml_escape(terminal(text))


def xml_attribute(text: object) -> str:
    """``text`` as a double-quoted XML attribute value, quotes included."""
    return f'"{_xml_escape(terminal(text))}"'


def sarif_text(text: object) -> str:
    """``text`` as a SARIF ``message.text``: one line, and no ``[…](…)`` embedded link."""
    return terminal(text).replace("[", "\\[").replace("]", "\\]")


__all__ = [
    "github_data",
    "github_property",
    "json_document",
    "markdown_code",
    "markdown_fence",
    "markdown_prose",
    "markdown_text",
    "sarif_text",
    "terminal",
    "terminal_lines",
    "xml_attribute",
    "xml_text",
]
