"""LLM servers (vLLM, SGLang, TGI): a model split over GPUs by tensor parallelism and over nodes by pipeline parallelism.

`tensorParallel` GPUs serve one shard each inside one pod (one node); `pipelineParallel` pods, one per
node, hold consecutive layers. One pod per replica renders a Deployment; more than one renders a
LeaderWorkerSet (leaderworkerset.x-k8s.io/v1) whose group is the leader plus `pipelineParallel - 1`
workers. Sources: vLLM's distributed serving docs, SGLang's server arguments, TGI's launcher.
"""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field, field_validator, model_validator

from mlgitops.spec.base import INT32_MAX, DnsLabel, PositiveQuantity, SpecModel
from mlgitops.spec.container import IMAGE_PATTERN, EnvVar, Port
from mlgitops.spec.inference_pool import InferencePoolSpec
from mlgitops.spec.serving import RouteBackend, ServerBase

LLM_PORT_NAME = "http"
DOWNLOAD_SCHEMES = ("hf", "s3")
"""URI schemes model.download has a default command for (Hugging Face's `hf download`, `aws s3 sync`)."""
CANARY_SUFFIX = "-canary"
"""The candidate of a canary runs as its own server, named after the stable one with this suffix."""
MODELS_PATH = "/models"
"""Where the model's volume is mounted in the server (and, writable, in the download init container)."""


class DownloadResources(SpecModel):
    """Requests of the download init container (its memory limit equals the request)."""

    cpu: PositiveQuantity = "1"
    memory: PositiveQuantity = "2Gi"


class ModelDownload(SpecModel):
    """Download the weights into a volume in an init container before the server starts."""

    PROMOTED_TOGETHER: ClassVar[tuple[str, ...]] = ("uri",)
    """What `mlgitops promote` and `set model` treat as the model's version: the weights' source (with its revision)."""

    uri: str = Field(pattern=r"^[a-z0-9+.-]+://[^\s]+$")
    """Where the weights are: 'hf://org/name' (Hugging Face, optionally '@revision'), 's3://bucket/prefix', or any
    other scheme together with `command`."""
    image: str = Field(pattern=IMAGE_PATTERN)
    """Image of the downloader: with the `hf` CLI for hf://, the AWS CLI for s3://."""
    volume: DnsLabel
    """Environment volume the weights are written to: scratch space (downloaded again by every pod) or a
    ReadWriteMany/ReadWriteOnce claim (kept across restarts)."""
    command: list[str] | None = None
    """Download command; default for hf:// is `hf download`, for s3:// `aws s3 sync`, into /models/<path>."""
    env: list[EnvVar] = Field(default_factory=list)
    """Variables of the downloader, e.g. HF_TOKEN or AWS credentials from a Secret (secretKeyRef)."""
    resources: DownloadResources = Field(default_factory=DownloadResources)
    """CPU and memory of the download init container."""


class LlmModel(SpecModel):
    """The model the server loads, where its weights come from, and the name it is served under."""

    PROMOTED_TOGETHER: ClassVar[tuple[str, ...]] = ("path",)
    """What `mlgitops promote` and `set model` treat as the model's version: the weights' directory in the volume."""

    name: str = Field(pattern=r"^[A-Za-z0-9][-A-Za-z0-9_.:/]*$", max_length=253)
    """Served model name (the OpenAI API's `model`), e.g. 'llama-3.1-70b-instruct'."""
    volume: DnsLabel | None = None
    """Environment volume holding the weights: a `claim` (a PVC path) or an `existingClaim`; mounted read-only."""
    download: ModelDownload | None = None
    """Download the weights before the server starts, instead of `volume`."""
    path: str | None = Field(default=None, pattern=r"^[^/\s][^\s]*$")
    """Directory of the weights inside the volume (default: the model name)."""
    attention_heads: int | None = Field(default=None, ge=1, le=INT32_MAX)
    """The model's num_attention_heads (config.json): when given, tensorParallel must divide it."""

    @field_validator("path")
    @classmethod
    def _no_parent_steps(cls, value: str | None) -> str | None:
        if value is not None and ".." in value.split("/"):
            raise ValueError(f"{value!r} must not contain '..'")
        return value

    @model_validator(mode="after")
    def _one_source(self) -> LlmModel:
        if (self.volume is None) == (self.download is None):
            raise ValueError("a model needs exactly one of 'volume' (a claim or an existing claim) or 'download'")
        return self

    @property
    def directory(self) -> str:
        """Where the server finds the weights."""
        return f"{MODELS_PATH}/{self.path or self.name}"


class ServerHome(SpecModel):
    """A writable home for the server: HOME, USER and the caches under it (Hugging Face, vLLM, Triton, TorchInductor).

    The upstream server images have no home a non-root uid can write (vllm/vllm-openai runs as root with HOME=/root;
    an unknown uid gets HOME=/ from runc), so mlgitops points HOME and every cache at this volume.
    """

    volume: DnsLabel | None = None
    """Environment volume to keep it on: scratch space, or a claim that keeps compile caches across restarts.
    Default: an emptyDir of `sizeLimit` of the pod's own (volume 'server-home')."""
    path: str = Field(default="/home/llm", pattern=r"^/[^\s]*$")
    """Where it is mounted: HOME, with the caches below it (.cache, .config)."""
    size_limit: PositiveQuantity = "20Gi"
    """Size of the default emptyDir (compile caches of vLLM, Triton and TorchInductor grow to a few GiB)."""

    @field_validator("path")
    @classmethod
    def _no_parent_steps(cls, value: str) -> str:
        if ".." in value.split("/"):
            raise ValueError(f"{value!r} must not contain '..'")
        return value


class Canary(SpecModel):
    """A candidate version served beside the stable one, with a share of the traffic by weight.

    The candidate is a server of its own (`<name>-canary`: Deployment or LeaderWorkerSet, Service, and with an
    inferencePool its own pool and endpoint picker); the HTTPRoute splits requests between the two by weight
    (Gateway API backendRefs[].weight: proportional, a weight of 0 sends none). `mlgitops set canary` moves the
    weight or makes the candidate stable.
    """

    weight: int = Field(ge=0, le=1_000_000)
    """The candidate's share of requests (relative to stableWeight; with the default stableWeight, a percentage)."""
    stable_weight: int | None = Field(default=None, ge=0, le=1_000_000)
    """The stable server's share (default: 100 - weight)."""
    image: str | None = Field(default=None, pattern=IMAGE_PATTERN, min_length=1)
    """The candidate's image (default: the stable server's)."""
    model: LlmModel | None = None
    """The candidate's model (default: the stable server's)."""
    args: list[str] | None = None
    """The candidate's extra server flags (default: the stable server's)."""
    replicas: int = Field(default=1, ge=0, le=INT32_MAX)
    """Replicas of the candidate (fixed: a canary is not autoscaled)."""

    @property
    def weights(self) -> tuple[int, int]:
        """(stable, candidate) backend weights of the HTTPRoute."""
        stable = self.stable_weight if self.stable_weight is not None else max(100 - self.weight, 0)
        return stable, self.weight


class LlmServing(ServerBase):
    """An LLM server: a Deployment (one pod per replica) or a LeaderWorkerSet (a pod per pipeline stage), a Service.

    GPUs per pod are `tensorParallel`, pods per replica `pipelineParallel`: `resources.gpu` is derived
    (leave it out). `args` are appended to the server's own arguments.
    """

    kind: Literal["llm-serving"]
    server: Literal["vllm", "sglang", "tgi"] = "vllm"
    """The inference server the image runs: vLLM, SGLang or Hugging Face TGI (TGI shards within one node only)."""
    model: LlmModel
    """The model and where its weights come from."""
    tensor_parallel: int = Field(default=1, ge=1, le=INT32_MAX)
    """GPUs one model shard is split across, all in one pod (one node): the server's tensor parallel size."""
    pipeline_parallel: int = Field(default=1, ge=1, le=INT32_MAX)
    """Pipeline stages, one pod (one node) each: more than 1 renders a LeaderWorkerSet of this size."""
    port: int = Field(default=8000, ge=1, le=65535)
    """Port the server listens on (named 'http' in the Service)."""
    home: ServerHome = Field(default_factory=ServerHome)
    """Where the server's HOME and caches are written (the image-aware defaults: README, LLM servers). Variables
    of `env` with the same names win over the defaults, and `security.runAsUser` over the server's uid."""
    queue: DnsLabel | None = None
    """Kueue LocalQueue that admits the server's pods (a Deployment pod by pod, a LeaderWorkerSet group by group), so
    that serving and training share one GPU quota. Only when named: servers do not take kueue.defaultQueue."""
    inference_pool: InferencePoolSpec | None = None
    """Serve through a Gateway API Inference Extension InferencePool and its endpoint picker; an httpRoute then
    routes to the pool instead of the Service."""
    canary: Canary | None = None
    """A candidate version beside this one, with a share of the httpRoute's traffic."""
    model_load_seconds: int = Field(default=1800, ge=30, le=86400)
    """How long loading the model may take before Kubernetes gives up and restarts the server: the startup probe's
    budget (period 10 s x failureThreshold). Readiness and liveness probes wait until it succeeds."""

    def service_ports(self) -> list[Port]:
        return [Port(name=LLM_PORT_NAME, port=self.port)]

    @property
    def multi_node(self) -> bool:
        return self.pipeline_parallel > 1

    def route_backends(self) -> list[RouteBackend]:
        """Its InferencePool (or Service), and with a canary the candidate's too, each with its weight."""
        kind: Literal["Service", "InferencePool"] = "InferencePool" if self.inference_pool is not None else "Service"
        if self.canary is None:
            return [RouteBackend(kind, self.name)]
        stable, candidate = self.canary.weights
        return [RouteBackend(kind, self.name, stable), RouteBackend(kind, f"{self.name}{CANARY_SUFFIX}", candidate)]

    def candidate(self) -> LlmServing | None:
        """The canary's candidate as a server of its own (None without a canary): the stable spec with the canary's
        image, model and args, a fixed replica count, no autoscaler, route or canary of its own."""
        canary = self.canary
        if canary is None:
            return None
        return self.model_copy(
            update={
                "name": f"{self.name}{CANARY_SUFFIX}",
                "image": canary.image or self.image,
                "model": canary.model or self.model,
                "args": canary.args if canary.args is not None else self.args,
                "replicas": canary.replicas,
                "autoscaling": None,
                "keda": None,
                "disruption_budget": None,
                "ingress": None,
                "http_route": None,
                "canary": None,
                # Its own pool selects its own pods: a selector of the stable server's would pick them too.
                "inference_pool": self.inference_pool.model_copy(update={"selector": None}) if self.inference_pool else None,
                # Its pods run as the stable server's own ServiceAccount (rendered once, named after it).
                "service_account": None,
                "service_account_name": self.name if self.service_account is not None else self.service_account_name,
            }
        )
