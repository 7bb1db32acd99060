"""Quantities and Kubernetes names: what is accepted, and the hints given for what is not."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from mlgitops.kube.names import dns1035_label_problem, dns1123_label_problem
from mlgitops.kube.quantity import QuantityError, format_bytes, format_cpu, parse_quantity
from tests.rendering import HEAD, _refused, _render


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("500m", Decimal("0.5")),
        ("4", Decimal(4)),
        ("1.5", Decimal("1.5")),
        ("32Gi", Decimal(32 * 2**30)),
        ("1Ki", Decimal(1024)),
        ("2M", Decimal(2_000_000)),
        ("1e3", Decimal(1000)),
        ("100n", Decimal("1e-7")),
    ],
)
def test_quantities_parse_to_base_units(text: str, value: Decimal) -> None:
    assert parse_quantity(text) == value


@pytest.mark.parametrize(
    ("text", "hint"),
    [
        ("32GB", "'32GB' is not a Kubernetes quantity (did you mean '32Gi'?)"),
        ("512mb", "'512mb' is not a Kubernetes quantity (did you mean '512Mi'?)"),
        ("16 Gi", "'16 Gi' is not a Kubernetes quantity (did you mean '16Gi'?)"),
        ("", "an empty string is not a Kubernetes quantity (write e.g. '500m' or '4Gi')"),
        (
            "1.5.0",
            "'1.5.0' is not a Kubernetes quantity (a number with an optional suffix such as m, k, M, G, "
            "Ki, Mi, Gi or Ti, e.g. '500m' or '32Gi')",
        ),
    ],
)
def test_bad_quantities_explain_themselves(text: str, hint: str) -> None:
    with pytest.raises(QuantityError) as raised:
        parse_quantity(text)
    assert str(raised.value) == hint


def test_quantities_format_for_messages() -> None:
    assert format_cpu(Decimal("0.25")) == "250m"
    assert format_cpu(Decimal(8)) == "8"
    assert format_bytes(Decimal(1800 * 2**30)) == "1800Gi"


@pytest.mark.parametrize("name", ["resnet", "a", "gpu-a100", "x" * 63, "9lives"])
def test_dns1123_labels_accepted(name: str) -> None:
    assert dns1123_label_problem(name) is None


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        (
            "ResNet",
            "'ResNet' is not a DNS-1123 label: use lower-case letters, digits and '-', starting and "
            "ending with a letter or digit (did you mean 'resnet'?)",
        ),
        (
            "a.b",
            "'a.b' is not a DNS-1123 label: use lower-case letters, digits and '-', starting and ending "
            "with a letter or digit (did you mean 'a-b'?)",
        ),
        ("x" * 64, f"'{'x' * 64}' is 64 characters long; the limit here is 63"),
        (
            "-a",
            "'-a' is not a DNS-1123 label: use lower-case letters, digits and '-', starting and ending "
            "with a letter or digit (did you mean 'a'?)",
        ),
        ("", "a name must not be empty"),
    ],
)
def test_dns1123_labels_rejected(name: str, problem: str) -> None:
    assert dns1123_label_problem(name) == problem


def test_service_names_must_start_with_a_letter() -> None:
    assert dns1035_label_problem("9serve") == ("'9serve' must start with a letter here (a DNS-1035 label, as Services require)")
    assert dns1035_label_problem("serve9") is None


def test_fleet_sized_sums_beyond_28_digits_still_format() -> None:
    # The largest quantity a field takes, times the most replicas, times thousands of workloads.
    largest = (2**63 - 1) * (2**31 - 1) * 5000
    odd = format_bytes(Decimal(largest + 1))  # no binary unit divides it: Gi with two decimals
    assert odd.endswith("Gi")
    assert float(odd[:-2]) == pytest.approx(largest / 2**30, rel=1e-12)
    assert format_bytes(Decimal(largest * 2**30)) == f"{largest}Gi"
    assert format_bytes(Decimal(largest * 2**30 + 2**29 + 1)) == f"{largest}.50Gi"
    assert format_cpu(Decimal(f"{largest}.5")) == f"{largest * 1000 + 500}m"


TINY = (
    HEAD
    + """\
workloads:
  - name: tiny
    kind: training
    image: ghcr.io/acme/t:1
    resources: {cpu: "1", memory: MEMORY}
"""
)


@pytest.mark.parametrize(
    ("memory", "message"),
    [
        ("16", "16 means 16 bytes (a number without a unit is bytes): did you mean 16Gi?"),
        ("512m", "512m means 512 thousandths of a byte ('m' is milli): did you mean 512Mi?"),
        (
            "8Mi",
            "a memory limit of 8Mi is below 12Mi, the least a container starts with (CRI-O refuses it; under runc the "
            "container's init is OOM-killed): give at least 12Mi (the limit is this request: no limits.memory)",
        ),
    ],
)
def test_memory_no_container_starts_with_is_a_located_error(tmp_path: Path, memory: str, message: str) -> None:
    line = _refused(tmp_path, TINY.replace("MEMORY", memory))
    assert line.endswith(f"dev.yaml:7:35: workloads[tiny].resources.memory: {message}")
    assert not (tmp_path / "rendered").exists()


def test_a_small_request_under_a_real_limit_is_fine(tmp_path: Path) -> None:
    [job] = [item.obj for item in _render(tmp_path, TINY.replace("MEMORY", "8Mi, limits: {memory: 64Mi}")).objects]
    container = job["spec"]["template"]["spec"]["containers"][0]
    assert container["resources"]["limits"]["memory"] == "64Mi"
    line = _refused(tmp_path, TINY.replace("MEMORY", "1Gi, limits: {memory: 4}"))
    assert "workloads[tiny].resources.limits.memory: 4 means 4 bytes" in line
