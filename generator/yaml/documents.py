"""Where each document of a YAML stream starts, found from the text alone (no parse).

A ``---`` at the start of a line, followed by a space, a line break or the end of the text,
starts a document wherever a parse of valid YAML can meet it: libyaml's scanner checks for it at
column 0 before any other token (``yaml_parser_fetch_next_token`` in yaml/libyaml src/scanner.c),
ends a plain or block scalar there, and refuses it inside a quoted scalar or a flow collection.
So a valid stream split at those lines gives the same documents, in the same order, as a parse
of the whole stream, except where documents share state a split would lose: directives (``%YAML``,
``%TAG``, which apply to the document after them), ``...`` end markers (after which libyaml reads
the rest otherwise), and line breaks other than ``\\n`` (``\\r``, NEL, LS, PS: lines would be counted
otherwise) and byte-order marks. :func:`document_starts` splits only texts free of those.
"""

from __future__ import annotations

import re

_DOCUMENT_START = re.compile(r"\n---(?=[ \n]|$)")
_CONTENT = re.compile(r"^[ ]*[^#\s]", re.MULTILINE)
_SHARED_STATE = re.compile(r"(?:^|\n)(?:%|\.\.\.(?=[ \t\n]|$)|---\t)|[\r\x85\u2028\u2029\ufeff]")


def starts(text: str) -> list[int]:
    """Offsets where the documents of ``text`` start, split at its ``---`` lines, whatever else the text holds.

    What precedes the first ``---`` is a document only when it holds content (not only comments).
    Only valid for texts :func:`document_starts` accepts, or read by a reader that splits the same way.
    """
    found = [match.start() + 1 for match in _DOCUMENT_START.finditer(text)]
    if _DOCUMENT_START.match("\n" + text[:4]):
        found.insert(0, 0)
    if not found:
        return [0] if _CONTENT.search(text) else []
    if found[0] != 0 and _CONTENT.search(text, 0, found[0]):
        found.insert(0, 0)
    return found


def document_starts(text: str) -> list[int] | None:
    """The offset of each document of ``text`` as PyYAML counts them, or None where only a whole parse can say.

    Documents are counted as ``yaml.compose_all`` counts them (an empty ``---`` counts, a comment
    before the first ``---`` does not), for texts that parse; see the module docstring for the
    texts refused (directives, end markers, other line breaks).
    """
    if _SHARED_STATE.search(text):
        return None
    return starts(text)


__all__ = ["document_starts", "starts"]
