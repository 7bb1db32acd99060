"""Plain YAML text that PyYAML reads as a string but Go's YAML readers read as a number or a boolean.

kubectl, the API server's YAML decoding, kustomize, Argo CD and Flux read YAML with the Go
libraries: YAML 1.1's y/n are booleans there, and YAML 1.2 numbers such as 1e-4, .5 or 0o17
are numbers, while PyYAML (YAML 1.1 only) keeps all of them as text. A field Kubernetes
types as a string (an env value, a label, an argument) then fails to decode at apply time.
The writer quotes such text; lint reports it where someone else wrote it unquoted.
"""

from __future__ import annotations

import re

_BOOLEAN = re.compile(r"[yYnN]")
_NUMBER = re.compile(
    r"[-+]?(?:\.[0-9]+|[0-9][0-9_]*(?:\.[0-9_]*)?)(?:[eE][-+]?[0-9]+)?"
    r"|[-+]?0o[0-7_]+|[-+]?0x[0-9a-fA-F_]+|[-+]?0b[01_]+"
    r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)"
)
# Every ambiguous text starts with one of these: a cheap test before the regular expressions.
_FIRST_CHARACTERS = frozenset("yYnN+-.0123456789")


def go_reading(text: str) -> str | None:
    """What Go's YAML readers make of ``text`` written plain ("a boolean", "a number"), or None for text."""
    if text[:1] not in _FIRST_CHARACTERS:
        return None
    if _BOOLEAN.fullmatch(text):
        return "a boolean"
    if _NUMBER.fullmatch(text):
        return "a number"
    return None


__all__ = ["go_reading"]
