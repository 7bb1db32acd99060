"""Model lifecycle integrations: the MLflow tracking server, registered models, KServe, secret stores."""

from __future__ import annotations

import re
from typing import ClassVar, Literal

from pydantic import Field, model_validator

from mlgitops.spec.base import INT32_MAX, DnsLabel, SpecModel

_IMAGE = r"^[^\s:@/][^\s]*$"


class SecretKeys(SpecModel):
    """Keys of a Kubernetes Secret that hold a username and a password (or token)."""

    secret: DnsLabel
    """Name of the Secret (an ExternalSecret of the environment, or one listed in existingSecrets)."""
    username_key: str = "username"
    password_key: str = "password"


class ArtifactStore(SpecModel):
    """An S3-compatible artifact store that MLflow clients upload to directly."""

    s3_endpoint_url: str = Field(pattern=r"^https?://")
    """Endpoint of the S3-compatible store (MLFLOW_S3_ENDPOINT_URL)."""
    credentials_secret: DnsLabel
    """Secret with keys AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY."""


class MlflowServer(SpecModel):
    """The environment's MLflow tracking server."""

    tracking_uri: str = Field(pattern=r"^https?://")
    """URL of the tracking server (MLFLOW_TRACKING_URI)."""
    credentials: SecretKeys | None = None
    """Basic-auth credentials, read from a Secret (never written as literals)."""
    artifact_store: ArtifactStore | None = None
    serving_image: str | None = Field(default=None, pattern=_IMAGE)
    """Image with `mlflow` installed, used by serving workloads that serve a registered model."""


class MlflowRun(SpecModel):
    """Log this workload's runs to the environment's MLflow tracking server."""

    experiment: str | None = Field(default=None, min_length=1)
    """Experiment name (default: the workload name)."""


class RegisteredModel(SpecModel):
    """A model in the MLflow model registry, by version (pinned) or alias (moves without a commit)."""

    PROMOTED_TOGETHER: ClassVar[tuple[str, ...]] = ("version", "alias")
    """What `mlgitops promote` copies from one environment to another, as one unit (exactly one is set)."""

    name: str = Field(min_length=1, pattern=r"^[^/@\s]+$")
    version: str | None = Field(default=None, pattern=r"^[0-9]+$")
    alias: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_-]+$")

    @model_validator(mode="after")
    def _version_or_alias(self) -> RegisteredModel:
        if (self.version is None) == (self.alias is None):
            raise ValueError("a registered model needs exactly one of 'version' or 'alias'")
        return self

    @property
    def uri(self) -> str:
        return f"models:/{self.name}/{self.version}" if self.version else f"models:/{self.name}@{self.alias}"


class KServe(SpecModel):
    """Serve through a KServe InferenceService instead of a Deployment, Service and HPA."""

    model_format: str = Field(min_length=1, pattern=r"^[a-z0-9][-a-z0-9_.]*$")
    """Model format the serving runtime loads, e.g. 'mlflow', 'sklearn', 'pytorch', 'huggingface'."""
    storage_uri: str = Field(min_length=1)
    """Where the model files are, e.g. 's3://models/resnet50/7' or 'pvc://models/resnet50'."""
    runtime: str | None = None
    """ServingRuntime to use (default: KServe picks one for the format)."""
    deployment_mode: Literal["Standard", "Knative", "RawDeployment", "Serverless"] = "Standard"
    """Standard (a Deployment, scaled by an HPA) or Knative (a Knative Service, scale to zero); the legacy names
    RawDeployment and Serverless mean the same. The annotation written is the name operators.kserve accepts
    (Standard/Knative from KServe 0.16, RawDeployment/Serverless before)."""
    autoscaler_class: Literal["hpa", "external", "none"] | None = None
    """Standard mode: what scales the predictor (serving.kserve.io/autoscalerClass): hpa (the default under
    `autoscaling`), none (a fixed replica count, the default without it; KServe 0.16+), external (your own)."""
    scale_metric: Literal["cpu", "memory", "concurrency", "rps"] | None = None
    """Autoscaling metric: cpu or memory in Standard mode, concurrency or rps in Knative mode; default: the
    autoscaling spec's first cpu/memory metric."""
    scale_target: int | None = Field(default=None, ge=1, le=INT32_MAX)
    """Target value of scaleMetric (percent for cpu/memory)."""

    @model_validator(mode="after")
    def _uri(self) -> KServe:
        if not re.match(r"^[a-z0-9+.-]+://", self.storage_uri):
            raise ValueError(f"storageUri {self.storage_uri!r} needs a scheme such as s3://, gs:// or pvc://")
        return self


class SecretStoreRef(SpecModel):
    """The External Secrets Operator store that ExternalSecrets read from."""

    name: str = Field(min_length=1, max_length=253)
    kind: Literal["SecretStore", "ClusterSecretStore"] = "ClusterSecretStore"
    refresh_interval: str = Field(default="1h", pattern=r"^([0-9]+(ms|s|m|h))+$")


class RemoteKey(SpecModel):
    """One key of the materialised Secret and where its value lives in the store."""

    key: str = Field(pattern=r"^[-._a-zA-Z0-9]+$")
    """Key in the Kubernetes Secret."""
    remote_key: str = Field(min_length=1)
    """Path of the secret in the store, e.g. 'ml/mlflow'."""
    remote_property: str | None = None
    """Property inside that secret, e.g. 'password'."""


class ExternalSecretSpec(SpecModel):
    """A Kubernetes Secret materialised from the secret store by an ExternalSecret (no value in git)."""

    name: DnsLabel
    """Name of the ExternalSecret and of the Secret it creates."""
    data: list[RemoteKey] = Field(min_length=1)
