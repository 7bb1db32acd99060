r"""Accelerators as Kubernetes sees them: extended resources that a device plugin advertises on nodes.

A pod asks for an accelerator by naming its extended resource in ``resources.limits`` (the
request, if given, must equal the limit; counts are whole numbers). Nodes that carry
accelerators are usually tainted so that other pods stay off them; each family has its own
taint key, and clusters differ in the value (GKE: ``nvidia.com/gpu=present:NoSchedule``,
many others ``nvidia.com/gpu:NoSchedule`` without a value). Without cluster facts, a pod is
taken to tolerate its accelerator's nodes when it tolerates the family's taint key, with any
value (operator ``Exists``, or ``Equal`` with a value).

Families (resource name → taint key), from the vendors' device plugins:

==============================================  ===========================  =====================
resource                                        taint key                    source
==============================================  ===========================  =====================
``nvidia.com/gpu``                              ``nvidia.com/gpu``           NVIDIA device plugin
``nvidia.com/mig-<g>g.<mem>gb`` (MIG slices)    ``nvidia.com/gpu``           MIG "mixed" strategy
``nvidia.com/gpu.shared`` (time-sliced)         ``nvidia.com/gpu``           ``renameByDefault``
``amd.com/gpu``                                 ``amd.com/gpu``              AMD GPU device plugin
``habana.ai/gaudi``                             ``habana.ai/gaudi``          Intel Gaudi plugin
``aws.amazon.com/neuron``, ``…/neuroncore``,    ``aws.amazon.com/neuron``    AWS Neuron plugin
``…/neurondevice``
``google.com/tpu``                              ``google.com/tpu``           GKE TPU node pools
``huawei.com/Ascend910``, ``huawei.com/ascend-*``  the resource name *        Ascend device plugin
``gpu.intel.com/i915``, ``gpu.intel.com/xe``    the resource name *          Intel GPU plugin
any other ``<domain>/gpu``                      the resource name *          (a GPU of some vendor)
==============================================  ===========================  =====================

\* No vendor convention: the ExtendedResourceToleration admission plugin's (taint key = resource
name) is assumed, but nodes are not taken to carry it unless cluster facts say so, and the
resource name is taken to select the device class itself (``Accelerator.vendor_family`` is False).

DRA DeviceClasses of the accelerator drivers (``gpu.nvidia.com``, ``gpu.amd.com``, ...) map to
the same taint keys (``ACCELERATOR_DEVICE_CLASSES``).

Time-sliced shared GPUs (``nvidia.com/gpu.shared``) hand out slices of one GPU's time: asking
for more than one gives no more compute. Dynamic Resource Allocation (``resource.k8s.io``
ResourceClaims) is not an extended resource and is not covered here.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from mlgitops.kube.quantity import QuantityError, parse_quantity

NVIDIA_GPU = "nvidia.com/gpu"


@dataclass(frozen=True)
class Accelerator:
    """What one accelerator resource name stands for.

    ``resource`` is the extended resource pods request (e.g. ``nvidia.com/mig-1g.10gb``);
    ``vendor`` a display name; ``taint_key`` the key its nodes are conventionally tainted
    with; ``shared`` whether a device is a time slice of a GPU (a count above 1 gives no
    more compute).
    """

    resource: str
    vendor: str
    taint_key: str
    kind: str = "gpu"
    """"gpu" (any vendor's GPU, MIG slice or shared GPU), "tpu", "neuron", "hpu" (Gaudi) or "npu" (Ascend)."""
    shared: bool = False
    vendor_family: bool = True
    """A vendor's device-plugin family: its nodes are documented to carry ``taint_key``, and one resource
    name spans device models (nvidia.com/gpu is a T4 or an H100). False for names that are their own
    class (example.com/gpu, a DRA-backed extended resource) or whose vendor documents no taint."""

    def toleration(self) -> dict[str, str]:
        """The toleration that admits pods to this accelerator's nodes whatever the taint's value."""
        return {"key": self.taint_key, "operator": "Exists", "effect": "NoSchedule"}


# (pattern over the whole resource name, vendor, taint key or None for "the resource name itself", kind, shared)
_FAMILIES: tuple[tuple[re.Pattern[str], str, str | None, str, bool], ...] = (
    (re.compile(r"nvidia\.com/gpu"), "NVIDIA", NVIDIA_GPU, "gpu", False),
    (re.compile(r"nvidia\.com/gpu\.shared"), "NVIDIA", NVIDIA_GPU, "gpu", True),
    (re.compile(r"nvidia\.com/mig-[0-9a-z.+-]+(?<!\.shared)"), "NVIDIA", NVIDIA_GPU, "gpu", False),
    (re.compile(r"amd\.com/gpu"), "AMD", "amd.com/gpu", "gpu", False),
    (re.compile(r"habana\.ai/gaudi[0-9a-z.-]*"), "Intel Gaudi", "habana.ai/gaudi", "hpu", False),
    (re.compile(r"aws\.amazon\.com/neuron(core|device)?"), "AWS Neuron", "aws.amazon.com/neuron", "neuron", False),
    (re.compile(r"google\.com/tpu"), "Google TPU", "google.com/tpu", "tpu", False),
    (re.compile(r"huawei\.com/ascend[0-9a-z.-]*", re.IGNORECASE), "Huawei Ascend", None, "npu", False),
    (re.compile(r"gpu\.intel\.com/(i915|xe)"), "Intel GPU", None, "gpu", False),
    (re.compile(r"[a-z0-9]([-a-z0-9.]*[a-z0-9])?/gpu"), "GPU", None, "gpu", False),
)
# Node labels that only GKE's accelerator node pools carry. GKE runs the ExtendedResourceToleration
# admission plugin, which adds the toleration of an extended resource's taint to every pod asking
# for it; TPUs (google.com/tpu) exist only there.
GKE_ACCELERATOR_LABELS = ("cloud.google.com/gke-accelerator", "cloud.google.com/gke-tpu-accelerator")


# DRA DeviceClasses that hand out accelerators (the drivers' default class names), and the taint key
# of the nodes that have such devices (the same nodes the device plugins taint).
ACCELERATOR_DEVICE_CLASSES: dict[str, str] = {
    "gpu.nvidia.com": NVIDIA_GPU,
    "mig.nvidia.com": NVIDIA_GPU,
    "gpu.amd.com": "amd.com/gpu",
    "gpu.intel.com": "gpu.intel.com/i915",
    "gaudi.habana.ai": "habana.ai/gaudi",
    "neuron.aws.com": "aws.amazon.com/neuron",
    "tpu.google.com": "google.com/tpu",
}


def accelerator(resource: str) -> Accelerator | None:
    """The accelerator a resource name stands for, or None for anything else (cpu, memory, hugepages, ...).

    A ``.shared`` suffix (the NVIDIA device plugin's renaming of time-sliced devices, MIG slices
    included) marks a shared device of the family.
    """
    if "/" not in resource:
        return None
    for pattern, vendor, taint_key, kind, shared in _FAMILIES:
        if pattern.fullmatch(resource):
            return Accelerator(resource, vendor, taint_key or resource, kind, shared, vendor_family=taint_key is not None)
    if resource.endswith(".shared"):
        base = accelerator(resource.removesuffix(".shared"))
        if base is not None:
            return Accelerator(resource, base.vendor, base.taint_key, base.kind, True, base.vendor_family)
    return None


def family_of(name: str) -> Accelerator | None:
    """The accelerator family of an extended resource or of a DRA DeviceClass (``gpu.nvidia.com`` is NVIDIA's)."""
    if name in ACCELERATOR_DEVICE_CLASSES:
        return accelerator(ACCELERATOR_DEVICE_CLASSES[name])
    return accelerator(name)


def taint_key_of(name: str) -> str | None:
    """The taint key nodes offering ``name`` (an extended resource or a DRA DeviceClass) usually carry:
    the family's key, an unknown extended resource's own name, None for a DeviceClass nothing is known about."""
    if name in ACCELERATOR_DEVICE_CLASSES:
        return ACCELERATOR_DEVICE_CLASSES[name]
    found = accelerator(name)
    if found is not None:
        return found.taint_key
    return name if "/" in name else None


def is_accelerator_class(name: str) -> bool:
    """Whether a DRA DeviceClass hands out accelerators (a known driver class, or one naming gpu/tpu/mig/neuron)."""
    return name in ACCELERATOR_DEVICE_CLASSES or any(word in name.split(".")[0] for word in ("gpu", "tpu", "mig", "neuron"))


def tolerated_by_the_platform(item: Accelerator, node_labels: Iterable[str]) -> bool:
    """Whether the platform adds the accelerator's toleration itself: on GKE (TPUs, or pods selecting
    GKE accelerator labels) the ExtendedResourceToleration admission plugin does."""
    return item.kind == "tpu" or any(label in GKE_ACCELERATOR_LABELS for label in node_labels)


def is_accelerator(resource: str) -> bool:
    """Whether ``resource`` names an accelerator device (GPU, MIG slice, shared GPU, TPU, Neuron, Gaudi, Ascend)."""
    return accelerator(resource) is not None


def amount(value: Any) -> Decimal | None:
    """The amount of a resource value as written (``1``, ``"2"``), or None when it is no quantity."""
    try:
        return parse_quantity(str(value))
    except (QuantityError, InvalidOperation):
        return None


def requested(requests: Mapping[str, Any], limits: Mapping[str, Any]) -> dict[str, Decimal]:
    """Accelerators a container asks for, by resource name, with their counts (positive amounts only).

    The limit counts (a request without a limit is refused by the API server, see
    ``kube.api_rules``; a request alone is still counted here). ``nvidia.com/gpu: 0`` asks for nothing.
    """
    found: dict[str, Decimal] = {}
    for name, value in {**requests, **limits}.items():
        devices = amount(value)
        if is_accelerator(str(name)) and devices is not None and devices > 0:
            found[str(name)] = devices
    return found


def tolerates(tolerations: Iterable[Mapping[str, Any]], item: Accelerator) -> bool:
    """Whether a pod with ``tolerations`` may run on nodes tainted ``<item.taint_key>=<any value>:NoSchedule``.

    Follows the Kubernetes matching rules (an empty key with ``Exists`` tolerates everything;
    an empty effect matches every effect); the value is not compared, since clusters differ
    in it (``present`` on GKE, empty or ``true`` elsewhere).
    """
    for toleration in tolerations:
        effect = toleration.get("effect")
        if effect and effect != "NoSchedule":
            continue
        key = toleration.get("key")
        operator = str(toleration.get("operator") or "Equal")
        if not key:
            if operator == "Exists":
                return True
            continue
        if key == item.taint_key and operator in ("Exists", "Equal"):
            return True
    return False


__all__ = [
    "ACCELERATOR_DEVICE_CLASSES",
    "GKE_ACCELERATOR_LABELS",
    "NVIDIA_GPU",
    "Accelerator",
    "accelerator",
    "amount",
    "family_of",
    "is_accelerator",
    "is_accelerator_class",
    "requested",
    "taint_key_of",
    "tolerated_by_the_platform",
    "tolerates",
]
