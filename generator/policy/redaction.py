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

from mlgitops.kube.manifest import Manifest

SECRET_NAME = re.compile(r"(pass(word|wd)?|secret|token|api[_-]?key|access[_-]?key|private[_-]?key|credential)", re.I)
REDACTED = "<redacted>"
# Booleans and nulls say nothing secret (and would blank every "true" in a message).
_VALUES = (str, int, float)
# Secret values are words of a few characters or more; a whole-message walk is linear in the object.
_MAX_WALK = 200_000


def _secret_values(obj: Any) -> Iterator[tuple[tuple[Any, ...], Any]]:
    """Every value of a secret-looking field in ``obj``, with its path (iterative walk, bounded)."""
    kind = obj.get("kind") if isinstance(obj, dict) else None
    for field in ("data", "stringData"):
        values = obj.get(field) if isinstance(obj, dict) else None
        if isinstance(values, dict):
            for key, value in values.items():
                # A Secret's values all are; a ConfigMap's where the key looks like a credential.
                if isinstance(value, _VALUES) and (kind == "Secret" or (isinstance(key, str) and SECRET_NAME.search(key))):
                    yield (field, key), value
    stack: list[tuple[tuple[Any, ...], Any]] = [((), obj)]
    visited = 0
    while stack and visited < _MAX_WALK:
        path, node = stack.pop()
        visited += 1
        if isinstance(node, dict):
            name = node.get("name")
            # An env var (name/value pair) named like a credential: API_TOKEN, DB_PASSWORD.
            if isinstance(name, str) and SECRET_NAME.search(name) and isinstance(node.get("value"), _VALUES):
                yield (*path, "value"), node["value"]
            stack.extend(((*path, key), value) for key, value in node.items() if isinstance(value, (dict, list)))
        elif isinstance(node, list):
            stack.extend(((*path, index), item) for index, item in enumerate(node) if isinstance(item, (dict, list)))


# Switches, not secrets: `RAY_ENABLE_K8S_TOKEN_AUTH: "true"` would otherwise blank every "true".
_NOT_SECRET = frozenset(("true", "false", "yes", "no", "on", "off", "y", "n", "enabled", "disabled", ""))


def _forms(value: Any) -> set[str]:
    if isinstance(value, bool) or str(value).strip().lower() in _NOT_SECRET:
        return set()
    return {form for form in (str(value), repr(value)) if form.strip()}


def redactor(manifest: Manifest) -> re.Pattern[str] | None:
    """A pattern matching every secret value of ``manifest`` as a whole word, or None when it has none.

    Both the value and its spelling in the file count (findings quote what the user wrote:
    ``7e4`` for the number 70000.0, ``0x5f3759df`` for 1597463007).
    """
    forms: set[str] = set()
    for path, value in _secret_values(manifest.obj):
        spelled = _forms(value)
        if spelled and isinstance(value, (int, float)):
            written = manifest.written(path)
            spelled |= _forms(written.strip("'\"")) if written else set()
        forms |= spelled
    if not forms:
        return None
    alternatives = "|".join(re.escape(form) for form in sorted(forms, key=len, reverse=True))
    return re.compile(rf"(?<![\w]){'(?:' + alternatives + ')'}(?![\w])")


def redact(message: str, pattern: re.Pattern[str] | None) -> str:
    """``message`` with every secret value replaced by <redacted>."""
    return message if pattern is None else pattern.sub(REDACTED, message)


__all__ = ["REDACTED", "SECRET_NAME", "redact", "redactor"]
