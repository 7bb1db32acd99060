"""Semantic checks of servers: one autoscaler per server, KEDA triggers and scale to zero, LLM parallelism and models.

Each problem names the field path the user wrote, so the loader can point at its line.
"""

from __future__ import annotations

import math
from decimal import Decimal

from mlgitops.kube.autoscalers import competing_autoscalers, replicas_fight, scaled_object_bounds
from mlgitops.kube.fit import node_fit
from mlgitops.kube.quantity import memory_limit_problem
from mlgitops.kube.volumes import attaches_to_one_node
from mlgitops.spec.checked import Checked
from mlgitops.spec.keda import SERVER_SIGNALS
from mlgitops.spec.llm import DOWNLOAD_SCHEMES, MODELS_PATH, LlmServing
from mlgitops.spec.placement import Placement, pool_choice
from mlgitops.spec.problems import FieldPath, SpecProblem
from mlgitops.spec.serving import ServerBase
from mlgitops.spec.storage import Volume

# A LeaderWorkerSet's StatefulSets ('<name>-<group>') label their pods '<name>-<group>-<10-character hash>' (<= 63).
LEADER_WORKER_NAME_LIMIT = 40
LEADER_WORKER_MAX_REPLICAS = 1_000_000


def autoscaler_problems(workload: ServerBase, at: FieldPath) -> list[SpecProblem]:
    """At most one autoscaler, sane KEDA bounds, and scale to zero only with a startup probe and activation thresholds."""
    keda = workload.keda
    if keda is None:
        return []
    problems = []
    # The facts (kube/autoscalers.py) that lint's hpa-keda-conflict and hpa-replicas rules judge on rendered objects.
    if competing_autoscalers(1 + (workload.autoscaling is not None)):
        problems.append(
            SpecProblem(
                (*at, "keda"),
                "autoscaling and keda both scale this workload: KEDA runs an HPA of its own and the two fight over the "
                "replica count (rule hpa-keda-conflict); keep one",
                at_key=True,
            )
        )
    if replicas_fight(workload.replicas is not None, autoscalers=1):
        problems.append(
            SpecProblem(
                (*at, "replicas"),
                "replicas and keda are both set: under KEDA the replica count is its to manage (drop replicas, use "
                "keda.minReplicas)",
            )
        )
    if scaled_object_bounds(keda.min_replicas, keda.max_replicas).inverted:
        problems.append(
            SpecProblem((*at, "keda", "maxReplicas"), f"maxReplicas {keda.max_replicas} is below minReplicas {keda.min_replicas}")
        )
    # An LLM server's derived startup probe (spec/llm_defaults.py) is there already.
    if keda.min_replicas == 0 and workload.probes.startup is None:
        problems.append(
            SpecProblem(
                (*at, "keda", "minReplicas"),
                "scale to zero needs a startup probe (probes.startup): every wake-up starts the server cold, and "
                "without one the liveness probe restarts it before the model has loaded",
            )
        )
    if keda.min_replicas == 0 and all(trigger.signal is not None for trigger in keda.triggers):
        problems.append(
            SpecProblem(
                (*at, "keda", "triggers"),
                "at zero replicas there is no server, and with it go its own metrics (queue, KV cache, GPU use): "
                "nothing could wake it. Add a trigger with a query on traffic that arrives from outside, such as the "
                "ingress controller's request rate, and an activation threshold",
            )
        )
    for index, trigger in enumerate(keda.triggers):
        here = (*at, "keda", "triggers", index)
        if keda.min_replicas == 0 and trigger.activation is None:
            problems.append(
                SpecProblem(
                    here,
                    "scale to zero needs an activation threshold (activation): the value of the query above which "
                    "KEDA wakes the server from zero replicas; write down what is worth a cold start",
                )
            )
    return problems


def llm_server_problems(checked: Checked[LlmServing]) -> list[SpecProblem]:
    """An LLM server's own: what its spec cannot ask for (as written), and the KEDA signals read from its metrics."""
    problems = llm_problems(checked.written, checked.volumes, checked.at)
    workload = checked.workload
    for index, trigger in enumerate(workload.keda.triggers if workload.keda is not None else []):
        if trigger.signal in SERVER_SIGNALS:
            problems += _server_signal(workload, trigger.signal, (*checked.at, "keda", "triggers", index, "signal"))
    return problems


def _server_signal(workload: LlmServing, signal: str, at: FieldPath) -> list[SpecProblem]:
    if workload.server == "tgi" and signal == "kv-cache":
        return [SpecProblem(at, "TGI publishes no KV-cache usage metric: scale on queue-depth or write the query yourself")]
    if workload.metrics is None:
        return [
            SpecProblem(
                at,
                f"signal {signal!r} queries the series Prometheus scrapes from Service {workload.name!r}, but nothing "
                "scrapes it: set metrics (a ServiceMonitor, e.g. 'metrics: {}') or write the query yourself",
            )
        ]
    return []


def llm_problems(workload: LlmServing, volumes: dict[str, Volume], at: FieldPath) -> list[SpecProblem]:
    """What an LLM server's spec cannot ask for: a command of its own, a GPU count apart from tensorParallel, ..."""
    problems = []
    if workload.command is not None:
        problems.append(
            SpecProblem(
                (*at, "command"),
                f"an llm-serving workload runs {workload.server}'s own command with the parallelism mlgitops derives; "
                "remove command and put extra server flags in args",
            )
        )
    gpu = workload.resources.gpu
    if gpu is not None and gpu != workload.tensor_parallel:
        problems.append(
            SpecProblem(
                (*at, "resources", "gpu"),
                f"gpu {gpu} differs from tensorParallel {workload.tensor_parallel}: an LLM server's pod gets one GPU per "
                "tensor-parallel shard; remove resources.gpu",
            )
        )
    if workload.server == "tgi" and workload.multi_node:
        problems.append(
            SpecProblem(
                (*at, "pipelineParallel"),
                "TGI shards a model over the GPUs of one node only: use vllm or sglang for pipelineParallel above 1",
            )
        )
    heads = workload.model.attention_heads
    if heads is not None and heads % workload.tensor_parallel:
        tp = workload.tensor_parallel
        divisors = _divisors(heads)
        below = max(n for n in divisors if n < tp)
        above = min((n for n in divisors if n > tp), default=None)
        options = f"{below} or {above}" if above is not None else str(below)
        problems.append(
            SpecProblem(
                (*at, "tensorParallel"),
                f"tensorParallel {tp} does not divide the model's {heads} attention heads: each GPU must hold whole "
                f"heads (try {options})",
            )
        )
    if workload.multi_node and (workload.replicas or 0) > LEADER_WORKER_MAX_REPLICAS:
        problems.append(
            SpecProblem(
                (*at, "replicas"),
                f"a LeaderWorkerSet runs at most {LEADER_WORKER_MAX_REPLICAS:,} groups, not {workload.replicas:,}",
            )
        )
    if workload.multi_node and len(workload.name) > LEADER_WORKER_NAME_LIMIT:
        problems.append(
            SpecProblem(
                (*at, "name"),
                f"{workload.name!r} is {len(workload.name)} characters long; a multi-node server's name is limited to "
                f"{LEADER_WORKER_NAME_LIMIT} (its LeaderWorkerSet names pods and revisions after it)",
            )
        )
    for index, mount in enumerate(workload.mounts):
        if mount.path == MODELS_PATH or mount.path.startswith(f"{MODELS_PATH}/"):
            problems.append(SpecProblem((*at, "mounts", index, "path"), f"{MODELS_PATH} is where the model's volume is mounted"))
    for index, metric in enumerate(workload.autoscaling.metrics if workload.autoscaling else []):
        if metric.type in ("cpu", "memory"):
            problems.append(
                SpecProblem(
                    (*at, "autoscaling", "metrics", index),
                    f"{metric.type} use says nothing about an LLM server's load (it waits on its GPUs): scale on a pods "
                    "or external metric such as the queue of waiting requests, or use keda",
                )
            )
    return problems + model_volume_problems(workload, volumes, at) + _home_volume(workload, volumes, at)


def _home_volume(workload: LlmServing, volumes: dict[str, Volume], at: FieldPath) -> list[SpecProblem]:
    """`home.volume` names a writable environment volume; `home.path` stays out of the model's directory."""
    home = workload.home
    if home.path == MODELS_PATH or home.path.startswith(f"{MODELS_PATH}/"):
        return [SpecProblem((*at, "home", "path"), f"{MODELS_PATH} is where the model's volume is mounted")]
    if home.volume is None:
        return []
    volume = volumes.get(home.volume)
    field = (*at, "home", "volume")
    if volume is None:
        known = ", ".join(sorted(volumes)) or "none defined under volumes"
        return [SpecProblem(field, f"volume {home.volume!r} does not exist (have: {known})")]
    read_only_claim = volume.claim is not None and volume.claim.access_modes == ["ReadOnlyMany"]
    if volume.config_map is not None or volume.image is not None or read_only_claim:
        return [SpecProblem(field, f"the server writes its caches under HOME, but volume {home.volume!r} is read-only")]
    return []


def _divisors(number: int) -> list[int]:
    """Every divisor of ``number`` (counted up to its square root, so int32 head counts stay quick)."""
    small = [n for n in range(1, math.isqrt(number) + 1) if number % n == 0]
    return sorted({*small, *(number // n for n in small)})


def model_volume_problems(workload: LlmServing, volumes: dict[str, Volume], at: FieldPath) -> list[SpecProblem]:
    """The model's volume exists and can hold weights; a download can write it and reach every pod of a group."""
    model = workload.model
    download = model.download
    field = (*at, "model", "volume") if download is None else (*at, "model", "download", "volume")
    name = model.volume if download is None else download.volume
    volume = volumes.get(name or "")
    if volume is None:
        known = ", ".join(sorted(volumes)) or "none defined under volumes"
        return [SpecProblem(field, f"volume {name!r} does not exist (have: {known})")]
    if download is None and volume.scratch is not None:
        return [
            SpecProblem(
                field,
                f"volume {name!r} is scratch space (emptyDir), empty in every new pod: keep the weights on a claim, or "
                "fetch them with model.download",
            )
        ]
    memory = memory_limit_problem(download.resources.memory) if download is not None else None
    if memory is not None:
        return [SpecProblem((*at, "model", "download", "resources", "memory"), memory)]
    scheme = download.uri.partition("://")[0] if download is not None else ""
    if download is not None and download.command is None and scheme not in DOWNLOAD_SCHEMES:
        return [
            SpecProblem(
                (*at, "model", "download", "uri"),
                f"mlgitops knows how to download {', '.join(f'{s}://' for s in DOWNLOAD_SCHEMES)} URIs, not {scheme}://: "
                "give model.download.command",
            )
        ]
    if download is not None and volume.image is not None:
        return [SpecProblem(field, f"the download writes the weights, but volume {name!r} is an image (read-only)")]
    if download is not None and volume.claim is not None and volume.claim.access_modes == ["ReadOnlyMany"]:
        return [SpecProblem(field, f"the download writes the weights, but claim {name!r} is ReadOnlyMany")]
    if workload.multi_node and volume.claim is not None and attaches_to_one_node(volume.claim.access_modes):
        hint = "ReadWriteMany (the leader downloads once for the group)" if download is not None else "ReadOnlyMany"
        return [
            SpecProblem(
                field,
                f"the {workload.pipeline_parallel} pods of a group run on different nodes, but claim {name!r} is "
                f"{'/'.join(volume.claim.access_modes)} (one node at a time): make it {hint}"
                + (", or download into scratch space (every pod its own copy)" if download is not None else ""),
            )
        ]
    return []


def tensor_parallel_fit(workload: LlmServing, placement: Placement, at: FieldPath) -> list[SpecProblem]:
    """tensorParallel GPUs share one pod, so one node of the pool must have that many (the fact: kube/fit.py)."""
    candidates, accelerator = placement.candidates, placement.gpu_resource
    if not candidates or accelerator is None:
        return []
    shortfalls = node_fit({accelerator: Decimal(workload.tensor_parallel)}, pool_choice(candidates)).shortfalls
    if not shortfalls:
        return []
    largest, available = shortfalls[0].pool, int(shortfalls[0].available)
    hint = ""
    if available and workload.server != "tgi":
        stages = -(-workload.tensor_parallel // available)
        hint = f" (e.g. tensorParallel: {available}, pipelineParallel: {stages * workload.pipeline_parallel})"
    return [
        SpecProblem(
            (*at, "tensorParallel"),
            f"tensorParallel {workload.tensor_parallel} puts {workload.tensor_parallel} GPUs ({accelerator}) in one pod, "
            f"but the largest node of pool {largest.name!r} has {available}: keep tensor parallelism within a node and "
            f"span nodes with pipelineParallel{hint}",
        )
    ]
