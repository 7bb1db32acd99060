"""Values of secret-looking fields never appear in a finding: they are replaced by ``<redacted>``.

A finding about an env var named ``DB_PASSWORD`` (an ambiguous plain value, a schema error) would
otherwise quote its value into a CI log or a pull-request comment. The values redacted from
every finding about an object are those of env vars whose names look like credentials, of every
key of a Secret's ``data`` and ``stringData``, and of any mapping key that looks like one
(``apiToken: …`` in a ConfigMap). Values are replaced where they stand as a whole word, quoted or
not, so a finding keeps its shape: "the plain value <redacted> is text to PyYAML …".
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from generator.kube.manifest import Manifest

SECRET_NAME = re.compile(r"(pass(word|wd)?|secret|token|api[_-]?key|access[_-]?key|private[_-]?key|credential)", re.I)
REDACTED = "<redacted>"
_SCALARS = (str, int, float, bool)
# Secret values are words of a few characters or more; a whole-message walk is linear in the object.
_MAX_WALK = 200_000


def _secret_values(obj: Any) -> Iterator[Any]:
    """Every value of a secret-looking field in ``obj`` (iterative walk, bounded)."""
    if isinstance(obj, dict) and obj.get("kind") == "Secret":
        for field in ("data", "stringData"):
            values = obj.get(field)
            if isinstance(values, dict):
                yield from (value for value in values.values() if isinstance(value, _SCALARS))
    stack: list[Any] = [obj]
    visited = 0
    while stack and visited < _MAX_WALK:
        node = stack.pop()
        visited += 1
        if isinstance(node, dict):
            name = node.get("name")
            if isinstance(name, str) and SECRET_NAME.search(name) and isinstance(node.get("value"), _SCALARS):
                yield node["value"]
            for key, value in node.items():
                if isinstance(key, str) and SECRET_NAME.search(key) and isinstance(value, _SCALARS):
                    yield value
                elif isinstance(value, (dict, list)):
                    stack.append(value)
        elif isinstance(node, list):
            stack.extend(item for item in node if isinstance(item, (dict, list)))


def _forms(value: Any) -> set[str]:
    text = str(value).lower() if isinstance(value, bool) else str(value)
    return {form for form in (text, repr(value), str(value)) if form.strip()}


def redactor(manifest: Manifest) -> re.Pattern[str] | None:
    """A pattern matching every secret value of ``manifest`` as a whole word, or None when it has none."""
    forms = {form for value in _secret_values(manifest.obj) for form in _forms(value)}
    if not forms:
        return None
    alternatives = "|".join(re.escape(form) for form in sorted(forms, key=len, reverse=True))
    return re.compile(rf"(?<![\w]){'(?:' + alternatives + ')'}(?![\w])")


def redact(message: str, pattern: re.Pattern[str] | None) -> str:
    """``message`` with every secret value replaced by <redacted>."""
    return message if pattern is None else pattern.sub(REDACTED, message)


__all__ = ["REDACTED", "SECRET_NAME", "redact", "redactor"]
