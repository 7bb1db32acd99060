"""Kubernetes resource quantities ("500m", "32Gi", "1e3"): parsing and helpful errors."""

from __future__ import annotations

import re
from decimal import ROUND_CEILING, Context, Decimal, InvalidOperation, localcontext
from functools import lru_cache

_BINARY = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60}
_DECIMAL = {
    "n": Decimal("1e-9"),
    "u": Decimal("1e-6"),
    "m": Decimal("1e-3"),
    "": Decimal(1),
    "k": Decimal(10**3),
    "M": Decimal(10**6),
    "G": Decimal(10**9),
    "T": Decimal(10**12),
    "P": Decimal(10**15),
    "E": Decimal(10**18),
}
_QUANTITY = re.compile(
    r"(?P<number>[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+))"
    r"(?P<suffix>Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]|[eE][+-]?[0-9]+)?"
)
# Units people write from habit, mapped to the Kubernetes spelling they most likely meant.
_HABITS = {
    "kb": "Ki",
    "kib": "Ki",
    "ki": "Ki",
    "mb": "Mi",
    "mib": "Mi",
    "mi": "Mi",
    "gb": "Gi",
    "gib": "Gi",
    "gi": "Gi",
    "g": "Gi",
    "tb": "Ti",
    "tib": "Ti",
    "ti": "Ti",
    "t": "Ti",
    "pb": "Pi",
    "pib": "Pi",
    "pi": "Pi",
}


class QuantityError(ValueError):
    """A string that Kubernetes would not accept as a resource quantity."""


class QuantityTooLarge(QuantityError):
    """A quantity whose magnitude is over 2^63-1, which the API server cannot store."""


# The API server keeps a quantity's value in an int64 (k8s.io/apimachinery resource.Quantity); anything larger
# is refused. Decimals would otherwise overflow ('1e999999999') or lose precision instead of giving a message.
LARGEST_QUANTITY = Decimal(2**63 - 1)
# An exponent far beyond any quantity the API accepts: stop before Decimal computes 10 ** 999999999.
_LARGEST_EXPONENT = 40


# Fleets repeat a handful of quantities ('4', '16Gi') across every container: each is parsed once.
@lru_cache(maxsize=65536)
def parse_quantity(text: str) -> Decimal:
    """The value of a Kubernetes quantity in base units (cores, bytes, or a plain count).

    Raises QuantityError for text that is no quantity and for a magnitude over 2^63-1 (so that no caller meets
    a Decimal overflow: every place that judges a quantity gives the same one message).
    """
    match = _QUANTITY.fullmatch(text)  # fullmatch: '1Gi\n' is not a quantity
    if not match:
        raise QuantityError(_explain(text))
    try:
        number = Decimal(match["number"])
    except InvalidOperation as error:  # pragma: no cover - the pattern admits only decimals
        raise QuantityError(_explain(text)) from error
    suffix = match["suffix"] or ""
    if suffix in _BINARY:
        value = number * _BINARY[suffix]
    elif suffix in _DECIMAL:
        value = number * _DECIMAL[suffix]
    else:
        exponent = int(suffix[1:])
        if exponent > _LARGEST_EXPONENT and number != 0:
            raise QuantityTooLarge(_too_large(text))
        value = number * (Decimal(10) ** min(max(exponent, -_LARGEST_EXPONENT), _LARGEST_EXPONENT))
    if abs(value) > LARGEST_QUANTITY:
        raise QuantityTooLarge(_too_large(text))
    return value


def _too_large(text: str) -> str:
    return f"{_shown(text)} is too large for a Kubernetes quantity (the limit is 2^63-1)"


def _shown(text: str) -> str:
    """The user's text quoted for a message, cut short: a hostile quantity can be megabytes long."""
    return repr(text) if len(text) <= 80 else f"{text[:80]!r}... ({len(text):,} characters)"


def _explain(text: str) -> str:
    shown = repr(text)
    if not text.strip():
        return "an empty string is not a Kubernetes quantity (write e.g. '500m' or '4Gi')"
    habit = re.fullmatch(r"\s*([0-9]+(?:\.[0-9]+)?)\s*([A-Za-z]+)\s*", text)
    if habit and habit[2].lower() in _HABITS:
        suggestion = habit[1] + _HABITS[habit[2].lower()]
        if suggestion != text:
            return f"{shown} is not a Kubernetes quantity (did you mean '{suggestion}'?)"
    if re.fullmatch(r"\s*[0-9.]+\s*", text) and text != text.strip():
        return f"{shown} is not a Kubernetes quantity (did you mean '{text.strip()}'?)"
    return (
        f"{shown} is not a Kubernetes quantity (a number with an optional suffix such as "
        "m, k, M, G, Ki, Mi, Gi or Ti, e.g. '500m' or '32Gi')"
    )


# Sums over a fleet (quantities up to 2^63 times replicas times workloads) outgrow Decimal's default
# 28 digits; remainders and rounding then raise instead of answering.
_WIDE = Context(prec=200)


def format_cpu(cores: Decimal) -> str:
    """Cores as Kubernetes writes them: whole cores plainly, fractions in millicores."""
    with localcontext(_WIDE):
        if cores == cores.to_integral_value():
            return str(int(cores))
        return f"{int((cores * 1000).to_integral_value())}m"


def format_bytes(amount: Decimal) -> str:
    """Bytes in the largest binary unit that divides them, for readable messages."""
    with localcontext(_WIDE):
        for suffix in ("Ei", "Pi", "Ti", "Gi", "Mi", "Ki"):
            unit = _BINARY[suffix]
            if amount >= unit and amount % unit == 0:
                return f"{int(amount // unit)}{suffix}"
        if amount >= _BINARY["Gi"]:
            return f"{(amount / _BINARY['Gi']).quantize(Decimal('0.01'))}Gi"
        return str(int(amount))


def format_exact_bytes(amount: Decimal) -> str:
    """Bytes as a quantity that means exactly ``amount``: the largest binary unit that divides it, else bytes.

    For objects the API server reads (quotas, limits), where format_bytes' rounded '1.23Gi' would change the value.
    """
    with localcontext(_WIDE):
        for suffix in ("Ei", "Pi", "Ti", "Gi", "Mi", "Ki"):
            unit = _BINARY[suffix]
            if amount >= unit and amount % unit == 0:
                return f"{int(amount // unit)}{suffix}"
        return str(int(amount.to_integral_value(rounding=ROUND_CEILING)))


def format_resource(resource: str, amount: Decimal) -> str:
    """An amount of a resource for a message: cores for cpu, binary units for memory and storage, else a count."""
    if resource == "cpu":
        return format_cpu(amount)
    if resource in ("memory", "ephemeral-storage"):
        return format_bytes(amount)
    return str(int(amount)) if amount == amount.to_integral_value() else str(amount)


MEMORY_LIMIT_FLOOR = Decimal(12 * 2**20)
"""The smallest memory limit a container starts with: CRI-O refuses less ("set memory limit %d too low; should be at
least 12582912", cri-o/cri-o `internal/config/cgmgr/cgmgr_linux.go` minMemoryLimit, "arrived at for runc on
x86_64"); under containerd, runc writes the limit and the container's init is OOM-killed ("container init was
OOM-killed (memory limit too low?)", opencontainers/runc `libcontainer/process_linux.go`). The API server accepts
any non-negative amount (kubernetes `pkg/apis/core/validation` ValidateResourceQuantityValue)."""
_PLAIN_BYTES_MEANT_UNIT = Decimal(2**20)
"""Plain digits below a mebibyte are a forgotten unit: nobody means a memory amount of under a megabyte."""


def memory_unit_problem(text: str) -> str | None:
    """Why a memory amount is a unit mistake: thousandths of a byte ('m'), or plain digits below a mebibyte."""
    if re.fullmatch(r"[0-9.]+m", text):
        return f"{text} means {text[:-1]} thousandths of a byte ('m' is milli): did you mean {text[:-1]}Mi?"
    if re.fullmatch(r"[0-9]+", text) and parse_quantity(text) < _PLAIN_BYTES_MEANT_UNIT:
        return f"{text} means {text} bytes (a number without a unit is bytes): did you mean {text}Gi?"
    return None


def memory_limit_problem(text: str) -> str | None:
    """Why a container's memory limit cannot start it: a unit mistake, or less than ``MEMORY_LIMIT_FLOOR`` (12Mi)."""
    mistake = memory_unit_problem(text)
    if mistake is not None:
        return mistake
    if parse_quantity(text) < MEMORY_LIMIT_FLOOR:
        return (
            f"a memory limit of {text} is below 12Mi, the least a container starts with (CRI-O refuses it; under runc "
            "the container's init is OOM-killed): give at least 12Mi"
        )
    return None
