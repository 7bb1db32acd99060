"""What mlgitops derives for an LLM server (a spec-to-spec step): GPUs, /dev/shm, probes, the server's command line.

GPUs per pod = tensorParallel; pods per replica = pipelineParallel. The command line follows each
server's documented flags: vLLM (`vllm serve --tensor-parallel-size --pipeline-parallel-size`, multi-node
through Ray with the helper script the vllm/vllm-openai image ships), SGLang (`sglang.launch_server
--tp-size --pp-size --nnodes --node-rank --dist-init-addr`) and TGI (`text-generation-launcher --num-shard`).
LeaderWorkerSet injects LWS_LEADER_ADDRESS and LWS_WORKER_INDEX into every pod of a group.
"""

from __future__ import annotations

import math
import shlex
from decimal import Decimal
from typing import Literal

from mlgitops.kube.quantity import format_bytes, parse_quantity
from mlgitops.spec.container import HttpGetAction, Mount, Probe, Probes
from mlgitops.spec.llm import LLM_PORT_NAME, MODELS_PATH, LlmServing

Role = Literal["single", "leader", "worker"]
HEALTH_PATH = "/health"
STARTUP_PERIOD_SECONDS = 10
SHM_CAP = Decimal(16 * 2**30)
SHM_FLOOR = Decimal(2**20)
VLLM_MULTI_NODE_SCRIPT = "/vllm-workspace/examples/online_serving/multi-node-serving.sh"
RAY_PORT = 6379
SGLANG_DIST_PORT = 20000


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
    mounts = [_model_mount(workload), *workload.mounts]
    return workload.model_copy(
        update={
            "resources": resources,
            "shm_size": workload.shm_size or _default_shm(resources.memory),
            "probes": Probes() if role == "worker" else _probes(workload),
            "command": command,
            "args": args,
            "mounts": mounts,
        }
    )
