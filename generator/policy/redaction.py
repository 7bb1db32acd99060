"""Values of secret-looking fields never appear in a finding: they are replaced by ``<redacted>``.

A finding about an env var named ``DB_PASSWORD`` (an ambiguous plain value, a schema error) would
otherwise quote its value into a CI log or a pull-request comment. The values redacted from
every finding about an object are those of env vars whose names look like credentials, of every
key of a Secret's ``data`` and ``stringData``, and of any mapping key that looks like one
(``apiToken: …`` in a ConfigMap). Values are replaced where they stand as a whole word, quoted or
not, so a finding keeps its shape: "the plain value <redacted> is text to PyYAML …".

Two reaches. In every finding about the object, the values that could be nothing else are replaced:
text and numbers, but not ``yes``/``true``/``on`` and the like, which would blank those words in every
message. In a finding about the secret field itself (its path, or one within it), every spelling of its
value is replaced whatever its type: ``API_KEY: yes`` is reported as ``<redacted> is a boolean``.
A value that is also a name in the object (a container named ``minio`` when ``MINIO_ACCESS_KEY: minio``)
is only replaced in findings about the secret field: a name is never printed as ``<redacted>``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from typing import Any

from mlgitops.kube.manifest import Manifest
from mlgitops.kube.placeholders import placeholder
from mlgitops.policy.quoted import QuotedValues

SECRET_NAME = re.compile(r"(pass(word|wd)?|secret|token|api[_-]?key|access[_-]?key|private[_-]?key|credential)", re.I)
REDACTED = "<redacted>"
# Values a secret-looking field may hold (null holds nothing).
_VALUES = (str, int, float, bool)
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


def _forms(value: Any, *, every: bool = False) -> set[str]:
    """How ``value`` may be spelled in a message; without ``every``, none for switch-like values (true, yes, on)."""
    if not every and (isinstance(value, bool) or str(value).strip().lower() in _NOT_SECRET):
        return set()
    spelled = {str(value), repr(value)}
    if isinstance(value, bool):
        spelled |= {str(value).lower()}
    return {form for form in spelled if form.strip()}


def _values(forms: set[str]) -> QuotedValues | None:
    return QuotedValues(forms) if forms else None


@dataclass(frozen=True)
class Redaction:
    """The secret values of one object: replaced in every finding (``everywhere``), and in findings about a secret
    field (``at`` its path), every spelling of that field's value.

    Each finding's message is worked on at a cost that does not grow with the object's number of secrets
    (``policy.quoted``; ``around`` finds the secret fields a finding is about by its path's prefixes): a Secret
    of 4,000 keys, each with a finding, took 6.8 s against 0.9 s for 1,000."""

    everywhere: QuotedValues | None
    at: tuple[tuple[tuple[Any, ...], QuotedValues], ...]
    """(secret field's path, every spelling of its value but those that are names of the object)."""
    by_path: dict[tuple[Any, ...], tuple[int, ...]] = dataclass_field(default_factory=dict, compare=False, repr=False)
    """Positions in ``at`` of the secret fields at each path."""
    under: dict[tuple[Any, ...], tuple[int, ...]] = dataclass_field(default_factory=dict, compare=False, repr=False)
    """Positions in ``at`` of the secret fields at or below each path."""

    @classmethod
    def of(cls, everywhere: QuotedValues | None, at: list[tuple[tuple[Any, ...], QuotedValues]]) -> Redaction:
        by_path: dict[tuple[Any, ...], list[int]] = {}
        under: dict[tuple[Any, ...], list[int]] = {}
        for position, (secret, _) in enumerate(at):
            by_path.setdefault(secret, []).append(position)
            for length in range(1, len(secret) + 1):
                under.setdefault(secret[:length], []).append(position)
        return cls(
            everywhere,
            tuple(at),
            {path: tuple(found) for path, found in by_path.items()},
            {path: tuple(found) for path, found in under.items()},
        )

    def around(self, about: tuple[Any, ...]) -> list[int]:
        """Positions in ``at``, in order, of the secret fields a finding about ``about`` is about: the field itself,
        one that holds it (an env var's item, its container), or one within it."""
        found = {position for length in range(len(about) + 1) for position in self.by_path.get(about[:length], ())}
        if about:
            found.update(self.under.get(about, ()))
        return sorted(found)


def redactor(manifest: Manifest) -> Redaction | None:
    """What to replace in the findings of ``manifest``, or None when it has no secret-looking field.

    Both the value and its spelling in the file count (findings quote what the user wrote:
    ``7e4`` for the number 70000.0, ``0x5f3759df`` for 1597463007, ``yes`` for true).
    """
    forms: set[str] = set()
    at: list[tuple[tuple[Any, ...], QuotedValues]] = []
    names: set[str] | None = None
    for path, value in _secret_values(manifest.obj):
        if placeholder(value) is not None:
            continue  # `<your-hf-token>`, `$HF_TOKEN`: a hole to fill, no secret (rule placeholder names it)
        written = manifest.written(path) if not isinstance(value, str) else None
        spelled = _forms(value)
        if spelled and written:
            spelled |= _forms(written.strip("'\""))
        forms |= spelled
        every = _forms(value, every=True) | (_forms(written.strip("'\""), every=True) if written else set())
        names = _names(manifest.obj) if names is None else names
        values = _values(every - names)
        if values is not None:
            at.append((tuple(path), values))
    if not forms and not at:
        return None
    # A secret's value that is also a name of the object (a container, a volume, the object itself: MinIO's
    # sample user `minio`) is public already: replacing it outside findings about the field itself would blank
    # the name in every message about the object or the container.
    names = _names(manifest.obj) if names is None else names
    return Redaction.of(_values(forms - names), at)


_NAME_KEYS = frozenset(("name", "namespace", "image", "serviceAccountName", "claimName", "secretName", "serviceName"))


def _names(obj: Any) -> set[str]:
    """Every spelling of the values of name-like fields (``_NAME_KEYS``) anywhere in ``obj``: names, not secrets."""
    found: set[str] = set()
    stack: list[Any] = [obj]
    visited = 0
    while stack and visited < _MAX_WALK:
        node = stack.pop()
        visited += 1
        if isinstance(node, dict):
            for key, value in node.items():
                if key in _NAME_KEYS and isinstance(value, str):
                    found.add(value)
                elif isinstance(value, (dict, list)):
                    stack.append(value)
        elif isinstance(node, list):
            stack.extend(item for item in node if isinstance(item, (dict, list)))
    return {form for name in found for form in _forms(name, every=True)}


def redact(message: str, redaction: Redaction | None, path: Sequence[Any] = ()) -> str:
    """``message`` (of a finding about the field at ``path``) with every secret value replaced by <redacted>."""
    if redaction is None:
        return message
    if redaction.everywhere is not None:
        message = redaction.everywhere.replaced(message, REDACTED)
    # A finding about the secret field or a part of it, or about what holds it (an env var's item, its container):
    # every spelling of its value; the object's names stay readable.
    for position in redaction.around(tuple(path)):
        message = redaction.at[position][1].replaced(message, REDACTED)
    return message


__all__ = ["REDACTED", "SECRET_NAME", "Redaction", "redact", "redactor"]
