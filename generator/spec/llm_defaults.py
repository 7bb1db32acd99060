"""What mlgitops derives for an LLM server (a spec-to-spec step): GPUs, /dev/shm, probes, the server's command line.

GPUs per pod = tensorParallel; pods per replica = pipelineParallel. The command line follows each
server's documented flags: vLLM (`vllm serve --tensor-parallel-size --pipeline-parallel-size`, multi-node
through Ray with the helper script the vllm/vllm-openai image ships), SGLang (`sglang.launch_server
--tp-size --pp-size --nnodes --node-rank --dist-init-addr`) and TGI (`text-generation-launcher --num-shard`).
LeaderWorkerSet injects LWS_LEADER_ADDRESS and LWS_WORKER_INDEX into every pod of a group.

Image-aware defaults (``server_home``): the upstream images have no home a non-root uid can write, so the server
gets a uid, a writable HOME on a volume and every cache below it. Sources: vllm-project/vllm `docker/Dockerfile`
(target vllm-openai has no USER: root, HOME=/root; PR #40275 adds a `vllm` user, uid 2000, not switched to) and
`vllm/envs.py` (caches under $XDG_CACHE_HOME or ~/.cache: VLLM_CACHE_ROOT, VLLM_CONFIG_ROOT); runc
`libcontainer/env.go` (HOME=/ for a uid without a passwd entry); PyTorch `torch/_inductor/runtime/cache_dir_utils.py`
(getpass.getuser(): USER, else getpwuid, which fails for an unknown uid: vllm-project/vllm#44548, kserve/kserve#5666);
sgl-project/sglang `docker/Dockerfile` (no USER, caches under /root); huggingface/text-generation-inference
`Dockerfile` v3.3.7 (no USER, HF_HOME=/data, HF_KERNELS_CACHE=/kernels).
"""

from __future__ import annotations

import math
import shlex
from decimal import Decimal
from typing import Literal

from mlgitops.kube.quantity import format_bytes, parse_quantity
from mlgitops.spec.container import EnvVar, HttpGetAction, Mount, Probe, Probes
from mlgitops.spec.llm import LLM_PORT_NAME, MODELS_PATH, LlmServing
from mlgitops.spec.run_as import DEFAULT_RUN_AS_USER
from mlgitops.spec.storage import ScratchSpec, Volume

Role = Literal["single", "leader", "worker"]
HEALTH_PATH = "/health"
STARTUP_PERIOD_SECONDS = 10
SHM_CAP = Decimal(16 * 2**30)
SHM_FLOOR = Decimal(2**20)
VLLM_MULTI_NODE_SCRIPT = "/vllm-workspace/examples/online_serving/multi-node-serving.sh"
RAY_PORT = 6379
SGLANG_DIST_PORT = 20000
HOME_VOLUME = "server-home"
"""The pod's own emptyDir holding the server's HOME when `home.volume` names no environment volume."""
SERVER_USERS = {"vllm": 2000, "sglang": DEFAULT_RUN_AS_USER, "tgi": DEFAULT_RUN_AS_USER}
"""uid each server runs as unless `security.runAsUser` says otherwise: vLLM's images name uid 2000 `vllm` (PR #40275);
SGLang's and TGI's create no user, so any uid works once HOME and the caches are writable."""
# Cache variables below HOME, by server (relative paths; the common ones first).
_COMMON_CACHES = (
    ("XDG_CACHE_HOME", ".cache"),
    ("XDG_CONFIG_HOME", ".config"),
    ("HF_HOME", ".cache/huggingface"),
    ("TRITON_CACHE_DIR", ".cache/triton"),
    ("TORCHINDUCTOR_CACHE_DIR", ".cache/torchinductor"),
)
_SERVER_CACHES = {
    "vllm": (("VLLM_CACHE_ROOT", ".cache/vllm"), ("VLLM_CONFIG_ROOT", ".config/vllm")),
    "sglang": (),
    "tgi": (("HF_KERNELS_CACHE", ".cache/kernels"),),
}


def home_env(workload: LlmServing) -> list[EnvVar]:
    """HOME, USER (any name: getpass.getuser() reads it before getpwuid) and the server's caches below HOME."""
    home = workload.home.path.rstrip("/") or "/"
    caches = (*_COMMON_CACHES, *_SERVER_CACHES[workload.server])
    return [
        EnvVar(name="HOME", value=home),
        EnvVar(name="USER", value=workload.server),
        *(EnvVar(name=name, value=f"{home.rstrip('/')}/{relative}") for name, relative in caches),
    ]


def home_volumes(workload: LlmServing) -> list[Volume]:
    """The pod's own volumes for the server's home: an emptyDir unless `home.volume` names an environment volume."""
    if workload.home.volume is not None:
        return []
    return [Volume(name=HOME_VOLUME, scratch=ScratchSpec(size_limit=workload.home.size_limit))]


def home_mount(workload: LlmServing) -> Mount:
    return Mount(volume=workload.home.volume or HOME_VOLUME, path=workload.home.path, role="cache")


def _default_shm(memory: str) -> str:
    """Half the memory request, at most 16Gi (at least 1Mi): NCCL between tensor-parallel GPUs and the server's
    workers use it."""
    return format_bytes(max(min(parse_quantity(memory) / 2, SHM_CAP).to_integral_value(), SHM_FLOOR))


def _probes(workload: LlmServing) -> Probes:
    health = HttpGetAction(path=HEALTH_PATH, port=LLM_PORT_NAME)
    own = workload.probes
    startup = Probe(
        http_get=health,
        period_seconds=STARTUP_PERIOD_SECONDS,
        failure_threshold=math.ceil(workload.model_load_seconds / STARTUP_PERIOD_SECONDS),
    )
    return Probes(
        readiness=own.readiness or Probe(http_get=health, period_seconds=5, failure_threshold=3),
        liveness=own.liveness or Probe(http_get=health, period_seconds=30, timeout_seconds=10, failure_threshold=5),
        startup=own.startup or startup,
    )


def _model_mount(workload: LlmServing) -> Mount:
    model = workload.model
    volume = model.volume if model.volume is not None else model.download.volume  # type: ignore[union-attr]
    role: Literal["model", "cache"] = "model" if model.volume is not None else "cache"
    return Mount(volume=volume, path=MODELS_PATH, role=role, read_only=True)


def server_command(workload: LlmServing, role: Role) -> tuple[list[str], list[str]]:
    """Command and arguments of the server container in one pod of a replica (the user's args come last)."""
    model = workload.model
    tp, pp, port = str(workload.tensor_parallel), str(workload.pipeline_parallel), str(workload.port)
    extra = list(workload.args or [])
    # vLLM and SGLang name the served model and bind the API the same way.
    endpoint = ["--served-model-name", model.name, "--host", "0.0.0.0", "--port", port]
    if workload.server == "vllm":
        serve = ["vllm", "serve", model.directory, *endpoint, "--tensor-parallel-size", tp, "--pipeline-parallel-size", pp]
        if role == "single":
            return serve[:2], [*serve[2:], *extra]
        if role == "leader":
            line = f"bash {VLLM_MULTI_NODE_SCRIPT} leader --ray_port={RAY_PORT} --ray_cluster_size={pp} && exec " + shlex.join(
                [*serve, "--distributed-executor-backend", "ray", *extra]
            )
        else:
            line = f'exec bash {VLLM_MULTI_NODE_SCRIPT} worker --ray_port={RAY_PORT} --ray_address="$LWS_LEADER_ADDRESS"'
        return ["/bin/sh", "-c"], [line]
    if workload.server == "sglang":
        launch = ["python3", "-m", "sglang.launch_server"]
        args = ["--model-path", model.directory, *endpoint, "--tp-size", tp]
        if role == "single":
            return launch, [*args, *extra]
        group = ["--pp-size", pp, "--nnodes", pp]
        line = (
            "exec "
            + shlex.join([*launch, *args, *group])
            + f' --node-rank "$LWS_WORKER_INDEX" --dist-init-addr "$LWS_LEADER_ADDRESS:{SGLANG_DIST_PORT}"'
        )
        if extra:
            line += " " + shlex.join(extra)
        return ["/bin/sh", "-c"], [line]
    # TGI shards over the GPUs of one node only (checks refuse pipelineParallel > 1).
    return ["text-generation-launcher"], [
        "--model-id",
        model.directory,
        "--hostname",
        "0.0.0.0",
        "--port",
        port,
        "--num-shard",
        tp,
        *extra,
    ]


def with_llm_defaults(workload: LlmServing, role: Role | None = None) -> LlmServing:
    """The server with everything derived filled in, as the pod of ``role`` runs it (default: single or leader).

    A worker of a multi-node group runs the same container without the HTTP probes (it serves no requests).
    """
    role = role or ("leader" if workload.multi_node else "single")
    resources = workload.resources
    if resources.gpu is None:
        resources = resources.model_copy(update={"gpu": workload.tensor_parallel})
    command, args = server_command(workload, role)
    mounts = [_model_mount(workload), home_mount(workload), *workload.mounts]
    own = {var.name for var in workload.env}
    env = [*(var for var in home_env(workload) if var.name not in own), *workload.env]
    security = workload.security
    if security.run_as_user is None and security.run_as_non_root is not False:
        security = security.model_copy(update={"run_as_user": SERVER_USERS[workload.server]})
    return workload.model_copy(
        update={
            "resources": resources,
            "shm_size": workload.shm_size or _default_shm(resources.memory),
            "probes": Probes() if role == "worker" else _probes(workload),
            "command": command,
            "args": args,
            "mounts": mounts,
            "env": env,
            "security": security,
        }
    )
