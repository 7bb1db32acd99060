"""Who a pod's containers run as: the one place that decides `runAsNonRoot` and `runAsUser`, so they never contradict.

The kubelet decides at container start, after the API server has accepted the pod
(kubernetes/kubernetes `pkg/kubelet/kuberuntime/security_context_others.go`, `verifyRunAsNonRoot`, the same from
v1.19 to v1.36): with `runAsNonRoot: true` it refuses a container whose effective `runAsUser` is 0
("container's runAsUser breaks non-root policy"), whose image runs as root, or whose image USER is a name
("image has non-numeric user (vllm), cannot verify user is non-root"): it never reads the image's /etc/passwd.
The pod then sits in CreateContainerConfigError. So mlgitops renders `runAsNonRoot: true` only together with a
numeric uid above 0, on the pod (and on a container that overrides it), and never with uid 0:

- `security.runAsUser: 0` is root: `runAsNonRoot` becomes false and rule `security-non-root` reports the pod
  (a `mlgitops.io/waive.security-non-root` annotation is what lets it run); written together with
  `runAsNonRoot: true` it is refused at that line.
- Without a `runAsUser`, a non-root pod runs as ``DEFAULT_RUN_AS_USER`` (1000: the first user most images create,
  e.g. the `ray` user of the Ray images, KServe's `kserve` and Triton's `triton-server`); LLM servers take their
  image's own default (``spec/llm_defaults.py``).
"""

from __future__ import annotations

from dataclasses import dataclass

from mlgitops.spec.container import ContainerSecurity, Security, WorkloadBase
from mlgitops.spec.problems import FieldPath, SpecProblem

DEFAULT_RUN_AS_USER = 1000
"""uid of a non-root pod whose spec gives none."""


@dataclass(frozen=True)
class RunAs:
    """The identity a container (or the pod) starts with: ``non_root`` is runAsNonRoot, ``user`` runAsUser (None:
    the image's USER decides, which only a pod that allows root leaves to the image)."""

    non_root: bool
    user: int | None


def pod_run_as(security: Security) -> RunAs:
    """The pod's securityContext: runAsNonRoot true unless the spec says false or asks for uid 0; a non-root pod
    always gets a numeric uid."""
    non_root = security.run_as_non_root if security.run_as_non_root is not None else security.run_as_user != 0
    user = security.run_as_user
    if user is None and non_root:
        user = DEFAULT_RUN_AS_USER
    return RunAs(non_root, user)


def container_run_as(security: Security, override: ContainerSecurity | None = None) -> RunAs:
    """What one container runs as: its own settings over the pod's. ``user`` is the container's own runAsUser to
    render (None: it inherits the pod's)."""
    pod = pod_run_as(security)
    own_user = override.run_as_user if override is not None else None
    user = own_user if own_user is not None else pod.user
    own_non_root = override.run_as_non_root if override is not None else None
    non_root = own_non_root if own_non_root is not None else (pod.non_root and user != 0)
    if non_root and user is None:
        # A container that asks for non-root in a pod that allows root still needs a uid the kubelet can verify.
        own_user = DEFAULT_RUN_AS_USER
    return RunAs(non_root, own_user)


def run_as_problems(workload: WorkloadBase, at: FieldPath) -> list[SpecProblem]:
    """`runAsNonRoot: true` written together with uid 0 (on the workload, or a container's own or inherited): the
    kubelet would refuse to start the container."""
    problems = []
    security = workload.security
    if security.run_as_non_root is True and security.run_as_user == 0:
        problems.append(SpecProblem((*at, "security", "runAsNonRoot"), _contradiction("the pod")))
    for field in ("initContainers", "sidecars"):
        extras = workload.init_containers if field == "initContainers" else workload.sidecars
        for index, extra in enumerate(extras):
            own = extra.security
            user = own.run_as_user if own.run_as_user is not None else security.run_as_user
            non_root = own.run_as_non_root if own.run_as_non_root is not None else security.run_as_non_root
            if non_root is True and user == 0 and (own.run_as_non_root is not None or own.run_as_user is not None):
                where = "runAsNonRoot" if own.run_as_non_root is not None else "runAsUser"
                problems.append(SpecProblem((*at, field, index, "security", where), _contradiction(f"container {extra.name!r}")))
    return problems


def _contradiction(who: str) -> str:
    return (
        f"runAsNonRoot: true with runAsUser: 0: the kubelet refuses to start {who} (CreateContainerConfigError); "
        "give a non-zero runAsUser, or drop runAsNonRoot to run as root (rule security-non-root then needs a waiver)"
    )
