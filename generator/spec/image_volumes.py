"""Checks of OCI image volumes (KEP-4639): a Kubernetes release that mounts them, and mounts that do not write.

Source: kubernetes/enhancements `keps/sig-node/4639-oci-volume-source` (kep.yaml: alpha 1.31, beta 1.34 milestone,
stable 1.36; README implementation history: "beta (enabled by default) in v1.35"). Below 1.35 the ImageVolume feature
gate is off unless the cluster's operators turned it on in both kube-apiserver and kubelet, and the API server drops
the volume source of a pod it does not know (the pod then fails on a volume without a source).
"""

from __future__ import annotations

from mlgitops.spec.environment import Environment
from mlgitops.spec.problems import SpecProblem
from mlgitops.spec.storage import IMAGE_VOLUME_SINCE, Volume


def minor_version(kubernetes_version: str) -> tuple[int, int]:
    """``'1.35'`` or ``'v1.35.2'`` → ``(1, 35)``."""
    major, minor = kubernetes_version.lstrip("v").split(".")[:2]
    return int(major), int(minor)


def image_volume_problems(environment: Environment) -> list[SpecProblem]:
    """An image volume in an environment whose Kubernetes release does not mount them by default."""
    if minor_version(environment.kubernetes_version) >= IMAGE_VOLUME_SINCE:
        return []
    since = ".".join(str(part) for part in IMAGE_VOLUME_SINCE)
    return [
        SpecProblem(
            ("volumes", index, "image"),
            f"image volumes (KEP-4639) are on by default from Kubernetes {since}; this environment runs "
            f"{environment.kubernetes_version}, where the API server drops the volume's source: raise "
            f"kubernetesVersion once the cluster runs {since}, or keep the weights on a claim (a ReadWriteMany "
            "claim filled once by model.download)",
        )
        for index, volume in enumerate(environment.volumes)
        if volume.image is not None
    ]


def writable_image_mount(volume: Volume, read_only: bool) -> str | None:
    """Why a mount of ``volume`` cannot be as asked (None: it can): an image volume is always mounted read-only."""
    if volume.image is None or read_only:
        return None
    return f"volume {volume.name!r} is an image, which the container runtime mounts read-only: set readOnly: true"
