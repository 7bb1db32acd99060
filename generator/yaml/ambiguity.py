"""Plain YAML scalars that YAML readers read differently, judged by three readers at once.

- **PyYAML** (YAML 1.1, Python tools, mlgitops itself): ``yes/no/on/off`` are booleans,
  ``1:30`` is the base-60 number 90, ``2025-03-01`` is a date, ``1e-4`` (no sign in the
  exponent) and ``y``/``n`` are text.
- **Go's YAML 1.1 reader** (sigs.k8s.io/yaml over go-yaml v2: kubectl, the API server's YAML
  decoding, Argo CD, Flux's source reading): ``y/n/yes/no/on/off`` are booleans; numbers are
  whatever ``strconv.ParseInt`` (base prefixes ``0b``/``0o``/``0x``, a leading ``0`` for octal)
  or a float pattern accepts (``1e-4``, ``.5``, ``09``); no base 60; timestamps decode into
  untyped values as their text.
- **A YAML 1.2 reader** (go-yaml v3, kustomize's kyaml): only ``true/false`` are booleans;
  numbers and text as above.

The rules come from each library's scalar resolver (PyYAML ``resolver.py``; go-yaml ``resolve.go``
and ``decode.go`` of v2 and v3). The writer quotes text that any of them would not read as
text; ``lint`` reports plain values they disagree on and judges manifests by kubectl's reading.
yaml-rs, the fast engine mlgitops reads with, is not one of the three: it reads YAML 1.2 with its
own rules (``_0`` and ``1_000`` are numbers to it), so :mod:`generator.yaml.fast_reader` hands
PyYAML every text holding a plain scalar it could read otherwise, or that :func:`disagree` judges.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import yaml

FIRST_CHARACTERS = frozenset("yYnNoOtTfF~+-.0123456789")
"""Every plain scalar that one of the three readers does not read as text starts with one of these
(booleans, numbers, base 60, dates, null): PyYAML's resolver and go-yaml's ``resolveTable`` dispatch on
the first character. The fast reader's screen (:mod:`generator.yaml.fast_reader`) judges every token
starting with one of these, and with the few more that only yaml-rs or PyYAML's special keys need."""

PYYAML = "PyYAML (Python tools, YAML 1.1)"
GO_YAML_11 = "kubectl and the API server (Go, YAML 1.1)"
YAML_12 = "kustomize (kyaml, YAML 1.2)"
READERS = (PYYAML, GO_YAML_11, YAML_12)

_GO_TRUE_11 = frozenset(("y", "Y", "yes", "Yes", "YES", "on", "On", "ON", "true", "True", "TRUE"))
_GO_FALSE_11 = frozenset(("n", "N", "no", "No", "NO", "off", "Off", "OFF", "false", "False", "FALSE"))
_GO_TRUE_12 = frozenset(("true", "True", "TRUE"))
_GO_FALSE_12 = frozenset(("false", "False", "FALSE"))
_GO_NULL = frozenset(("", "~", "null", "Null", "NULL"))
_GO_SPECIAL_FLOATS = {
    **dict.fromkeys((".nan", ".NaN", ".NAN"), math.nan),
    **dict.fromkeys((".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF"), math.inf),
    **dict.fromkeys(("-.inf", "-.Inf", "-.INF"), -math.inf),
}
_GO_INT = re.compile(r"[-+]?(?:0[bB][01]+|0[oO][0-7]+|0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)")
_GO_FLOAT = re.compile(r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?")
_GO_DOT_FLOAT = re.compile(r"\.[0-9]+(?:[eE][-+]?[0-9]+)?")


@dataclass(frozen=True)
class Reading:
    """What one reader makes of a plain scalar: its kind and value.

    Kinds: "text", "boolean", "integer", "float", "null", "date", and "refused" where PyYAML's
    resolver takes the text for a number or date its constructor then refuses (``0x_``).
    """

    kind: str
    value: Any

    def same_as(self, other: Reading) -> bool:
        if self.kind != other.kind:
            return False
        if self.kind == "float" and math.isnan(self.value) and math.isnan(other.value):
            return True
        return bool(self.value == other.value)

    def describe(self) -> str:
        """``text``, ``the boolean true``, ``the number 90``, ``a date``, ``null``."""
        if self.kind == "text":
            return "text"
        if self.kind == "boolean":
            return f"the boolean {'true' if self.value else 'false'}"
        if self.kind in ("integer", "float"):
            return f"the number {_number(self.value)}"
        if self.kind == "null":
            return "null"
        if self.kind == "refused":
            return "an error (it looks like a number or date, but is none)"
        return "a date" if self.kind == "date" else f"a {self.kind}"


def _number(value: float | int) -> str:
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "infinity" if value > 0 else "minus infinity"
        return repr(value)
    return str(value)


_PYYAML_RESOLVER = yaml.resolver.Resolver()
_PYYAML_CONSTRUCTOR = yaml.constructor.SafeConstructor()
_PYYAML_KINDS = {
    "tag:yaml.org,2002:bool": "boolean",
    "tag:yaml.org,2002:int": "integer",
    "tag:yaml.org,2002:float": "float",
    "tag:yaml.org,2002:null": "null",
    "tag:yaml.org,2002:timestamp": "date",
}


def pyyaml_reading(text: str) -> Reading:
    """What PyYAML's safe loader makes of ``text`` written plain."""
    tag = _PYYAML_RESOLVER.resolve(yaml.ScalarNode, text, (True, False))  # type: ignore[no-untyped-call]
    kind = _PYYAML_KINDS.get(tag)
    if kind is None:
        return Reading("text", text)
    node = yaml.ScalarNode(tag, text)
    try:
        return Reading(kind, _PYYAML_CONSTRUCTOR.construct_object(node, deep=True))
    except ValueError:  # matched by the resolver, refused by the constructor (`0x_`, `2024-02-30`)
        return Reading("refused", text)


def _go_int(plain: str) -> int | None:
    if not _GO_INT.fullmatch(plain):
        return None
    sign = -1 if plain[0] == "-" else 1
    body = plain.lstrip("+-")
    prefix = body[:2].lower()
    if prefix in ("0b", "0o", "0x"):
        value = int(body[2:], {"0b": 2, "0o": 8, "0x": 16}[prefix])
    elif len(body) > 1 and body[0] == "0":
        value = int(body[1:], 8)
    else:
        value = int(body)
    value *= sign
    if -(2**63) <= value < 2**63:
        return value
    if plain[0] not in "+-" and value < 2**64:
        return value  # strconv.ParseUint
    return None


def _go_reading(text: str, booleans: tuple[frozenset[str], frozenset[str]]) -> Reading:
    """go-yaml's resolver (v2 with YAML 1.1 booleans, v3 with YAML 1.2 ones), decoding into an untyped value."""
    if text in _GO_NULL:
        return Reading("null", None)
    if text in booleans[0] or text in booleans[1]:
        return Reading("boolean", text in booleans[0])
    if text in _GO_SPECIAL_FLOATS:
        return Reading("float", _GO_SPECIAL_FLOATS[text])
    first = text[:1]
    if first == ".":
        if _GO_DOT_FLOAT.fullmatch(text):
            return Reading("float", float(text))
    elif first in "+-0123456789":
        plain = text.replace("_", "")
        integer = _go_int(plain) if plain else None
        if integer is not None:
            return Reading("integer", integer)
        if _GO_FLOAT.fullmatch(plain):
            number = float(plain)
            if not math.isinf(number):
                return Reading("float", number)
    return Reading("text", text)  # timestamps too: an untyped value keeps their text


def go_yaml11_reading(text: str) -> Reading:
    """What kubectl (sigs.k8s.io/yaml, go-yaml v2) sends to the API server for ``text`` written plain."""
    return _go_reading(text, (_GO_TRUE_11, _GO_FALSE_11))


def yaml12_reading(text: str) -> Reading:
    """What a YAML 1.2 reader (go-yaml v3, kustomize's kyaml) makes of ``text`` written plain."""
    return _go_reading(text, (_GO_TRUE_12, _GO_FALSE_12))


def readings(text: str) -> tuple[Reading, Reading, Reading]:
    """The readings of PyYAML, Go's YAML 1.1 reader and a YAML 1.2 reader, in the order of ``READERS``."""
    return pyyaml_reading(text), go_yaml11_reading(text), yaml12_reading(text)


@lru_cache(maxsize=65536)
def disagree(text: str) -> bool:
    """Whether the three readers make different things of ``text`` written plain (cached: values repeat)."""
    if text[:1] not in FIRST_CHARACTERS:
        return False
    first, *others = readings(text)
    return any(not first.same_as(other) for other in others)


def kubectl_kind(text: str) -> str:
    """What kubectl makes of ``text`` written plain, in a word or two: "text", "a number", "a boolean" or "null"."""
    kind = go_yaml11_reading(text).kind
    return {"integer": "a number", "float": "a number", "boolean": "a boolean"}.get(kind, kind)


def kubectl_key(text: str) -> str:
    """The mapping key kubectl sends for ``text`` written plain (sigs.k8s.io/yaml turns keys into strings)."""
    reading = go_yaml11_reading(text)
    if reading.kind == "boolean":
        return "true" if reading.value else "false"
    if reading.kind == "null":
        return "null"
    return text if reading.kind == "text" else _number(reading.value)


def kubectl_value(text: str) -> Any:
    """The JSON value kubectl sends for ``text`` written plain (what the API server and admission see)."""
    return go_yaml11_reading(text).value


@lru_cache(maxsize=65536)
def go_reading(text: str) -> str | None:
    """What Go's YAML readers make of ``text`` written plain when PyYAML reads it as text ("a boolean", "a number"), or None.

    The writer quotes such text; PyYAML's own representer already quotes what PyYAML would not read as text.
    """
    if text[:1] not in FIRST_CHARACTERS or pyyaml_reading(text).kind != "text":
        return None
    for reading in (go_yaml11_reading(text), yaml12_reading(text)):
        if reading.kind == "boolean":
            return "a boolean"
        if reading.kind in ("integer", "float"):
            return "a number"
        if reading.kind == "null":
            return "null"
    return None


__all__ = [
    "FIRST_CHARACTERS",
    "GO_YAML_11",
    "PYYAML",
    "READERS",
    "YAML_12",
    "Reading",
    "disagree",
    "go_reading",
    "go_yaml11_reading",
    "kubectl_key",
    "kubectl_kind",
    "kubectl_value",
    "pyyaml_reading",
    "readings",
    "yaml12_reading",
]
