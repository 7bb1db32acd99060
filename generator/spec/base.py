"""Shared configuration of every spec model: camelCase keys, unknown keys rejected."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema
from pydantic.alias_generators import to_camel

from mlgitops.kube.metadata_rules import annotation_key_problem, label_problem, namespace_problem
from mlgitops.kube.names import dns1123_label_problem, dns1123_subdomain_problem, label_key_problem, port_name_problem
from mlgitops.kube.quantity import QuantityError, parse_quantity


class SpecModel(BaseModel):
    """Base of all spec models. Keys are camelCase, as in Kubernetes; unknown keys are errors."""

    model_config = ConfigDict(
        extra="forbid",
        alias_generator=to_camel,
        populate_by_name=True,
        frozen=True,
        # Attribute docstrings are field descriptions in the JSON Schema only: spec/field_docs.py adds them there,
        # and pydantic's reading of them at class creation (80 ms per run) is left off.
        # Field names are Kubernetes' and KServe's words (`modelFormat`), not pydantic's: pydantic
        # before 2.10 warned on stderr about every field starting with `model_`.
        protected_namespaces=(),
    )


def _number_as_text(value: object) -> object:
    # `cpu: 4` and `cpu: 0.5` are natural to write; Kubernetes reads them as quantities too.
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    return value


# Replica, worker, node and GPU counts are int32 in the Kubernetes API; a larger count would be
# rendered into objects the API server refuses (and multiplied into sums past Decimal's precision).
INT32_MAX = 2**31 - 1


def _quantity(value: str) -> str:
    try:
        amount = parse_quantity(value)
    except QuantityError as error:
        raise ValueError(str(error)) from None
    if amount < 0:
        raise ValueError(f"{value!r} is negative; resource quantities must be zero or more")
    return value


def _positive_quantity(value: str) -> str:
    _quantity(value)
    if parse_quantity(value) == 0:
        raise ValueError(f"{value!r} is zero; give a positive amount")
    return value


def _refusing(problem_of: Callable[[str], str | None]) -> Callable[[str], str]:
    """A validator that raises the naming rule's own explanation (kube/names.py) for a value it refuses."""

    def check(value: str) -> str:
        problem = problem_of(value)
        if problem:
            raise ValueError(problem)
        return value

    return check


def refused_by(problem_of: Callable[[str], str | None]) -> AfterValidator:
    """A validator that refuses what one of the API server's rules (kube/api_rules.py) names a problem; None passes."""
    check = _refusing(problem_of)
    return AfterValidator(lambda value: value if value is None else check(value))


_dns_label = _refusing(dns1123_label_problem)
_dns_subdomain = _refusing(dns1123_subdomain_problem)
_port_name = _refusing(port_name_problem)


def _labels(value: dict[str, str]) -> dict[str, str]:
    # The API server's rule, shared with lint's api-validation (kube/metadata_rules.py).
    for key, label in value.items():
        problem = label_problem(key, label)
        if problem:
            raise ValueError(problem)
    return value


def _label_key(value: str) -> str:
    problem = label_key_problem(value)
    if problem:
        raise ValueError(problem)
    return value


def _annotation_keys(value: dict[str, str]) -> dict[str, str]:
    for key in value:
        problem = annotation_key_problem(key)
        if problem:
            raise ValueError(problem)
    return value


_QUANTITY_SCHEMA = WithJsonSchema(
    {
        "anyOf": [
            {
                "type": "string",
                "pattern": r"^[+]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([KMGTPE]i|[numkMGTPE]|[eE][+-]?[0-9]+)?$",
            },
            {"type": "number", "minimum": 0},
        ]
    }
)

Quantity = Annotated[str, BeforeValidator(_number_as_text), AfterValidator(_quantity), _QUANTITY_SCHEMA]
"""A Kubernetes quantity such as '500m', '4', '32Gi'."""

PositiveQuantity = Annotated[str, BeforeValidator(_number_as_text), AfterValidator(_positive_quantity), _QUANTITY_SCHEMA]

DnsLabel = Annotated[str, AfterValidator(_dns_label)]
"""A DNS-1123 label: lower-case letters, digits and '-', at most 63 characters."""

NamespaceName = Annotated[str, AfterValidator(_refusing(namespace_problem))]
"""A namespace name (a DNS-1123 label, as the API server requires, kube/metadata_rules.py)."""

DnsSubdomain = Annotated[
    str,
    AfterValidator(_dns_subdomain),
    WithJsonSchema({"type": "string", "maxLength": 253, "pattern": r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$"}),
]
"""A DNS-1123 subdomain: lower-case letters, digits, '-' and '.', at most 253 characters (PriorityClass, StorageClass names)."""

PortName = Annotated[str, Field(max_length=15, pattern=r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"), AfterValidator(_port_name)]
"""A port name (IANA service name): at most 15 lower-case letters, digits and '-', one letter at least, no '--'."""


def _port_reference(value: int | str) -> int | str:
    if isinstance(value, int) and not 1 <= value <= 65535:
        raise ValueError(f"port {value} is not between 1 and 65535")
    return _port_name(value) if isinstance(value, str) else value


PortReference = Annotated[
    int | str,
    AfterValidator(_port_reference),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "integer", "minimum": 1, "maximum": 65535},
                {"type": "string", "maxLength": 15, "pattern": r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"},
            ]
        }
    ),
]
"""A container port by number (1-65535) or by name (a port name)."""

Labels = Annotated[dict[str, str], AfterValidator(_labels)]
LabelKey = Annotated[str, AfterValidator(_label_key)]
"""A label key such as 'topology.kubernetes.io/zone' (optional DNS prefix, then a name)."""
Annotations = Annotated[dict[str, str], AfterValidator(_annotation_keys)]
