"""MLflow wiring of workloads (a spec-to-spec step): tracking variables for runs, the server of registered models.

Each kind's row in the registry (``spec/kinds.py``) names the step that resolves it; these are two of them.

Credentials always come through secretKeyRef, so no secret value is ever rendered.
"""

from __future__ import annotations

from typing import TypeVar

from mlgitops.spec.container import EnvVar, HttpGetAction, KeyRef, Port, Probe, Probes, WorkloadBase
from mlgitops.spec.environment import Environment
from mlgitops.spec.serving import Serving

Tracked = TypeVar("Tracked", bound=WorkloadBase)

MODEL_ANNOTATION = "mlgitops.io/mlflow-model"
MODEL_PORT = 8080


def tracking_env(environment: Environment, experiment: str | None) -> list[EnvVar]:
    """MLFLOW_* variables that point a client at the environment's tracking server."""
    server = environment.mlflow
    assert server is not None
    variables = [EnvVar(name="MLFLOW_TRACKING_URI", value=server.tracking_uri)]
    if experiment is not None:
        variables.append(EnvVar(name="MLFLOW_EXPERIMENT_NAME", value=experiment))
    if server.credentials is not None:
        keys = server.credentials
        variables += [
            EnvVar(name="MLFLOW_TRACKING_USERNAME", secret_key_ref=KeyRef(name=keys.secret, key=keys.username_key)),
            EnvVar(name="MLFLOW_TRACKING_PASSWORD", secret_key_ref=KeyRef(name=keys.secret, key=keys.password_key)),
        ]
    if server.artifact_store is not None:
        store = server.artifact_store
        variables += [
            EnvVar(name="MLFLOW_S3_ENDPOINT_URL", value=store.s3_endpoint_url),
            EnvVar(name="AWS_ACCESS_KEY_ID", secret_key_ref=KeyRef(name=store.credentials_secret, key="AWS_ACCESS_KEY_ID")),
            EnvVar(
                name="AWS_SECRET_ACCESS_KEY",
                secret_key_ref=KeyRef(name=store.credentials_secret, key="AWS_SECRET_ACCESS_KEY"),
            ),
        ]
    return variables


def with_tracking(environment: Environment, workload: Tracked) -> Tracked:
    """A run with the environment's MLflow tracking variables added when it logs to MLflow (``mlflow:``).

    The workload's own env vars come last so that they win over the generated ones.
    """
    run = getattr(workload, "mlflow", None)
    if run is not None and environment.mlflow is not None:
        own = {var.name for var in workload.env}
        generated = [var for var in tracking_env(environment, run.experiment or workload.name) if var.name not in own]
        return workload.model_copy(update={"env": [*generated, *workload.env]})
    return workload


def with_registered_model(environment: Environment, workload: Serving) -> Serving:
    """A server of a registered model with MLflow's model server filled in (image, port, command, probes), unless
    KServe serves it; either way the model's URI in an annotation.

    The workload's own env vars come last so that they win over the generated ones.
    """
    if workload.model is not None and workload.kserve is None:
        own = {var.name for var in workload.env}
        generated = [var for var in tracking_env(environment, None) if var.name not in own]
        updates: dict[str, object] = {"env": [*generated, *workload.env]}
        if workload.image is None and environment.mlflow is not None:
            updates["image"] = environment.mlflow.serving_image
        if not workload.ports:
            updates["ports"] = [Port(name="http", port=MODEL_PORT)]
        if workload.command is None:
            updates["command"] = ["mlflow", "models", "serve"]
            updates["args"] = [
                "-m",
                workload.model.uri,
                "-h",
                "0.0.0.0",
                "-p",
                str(MODEL_PORT),
                "--env-manager",
                "local",
            ]
        probes = workload.probes
        ping = HttpGetAction(path="/ping", port="http")
        updates["probes"] = Probes(
            readiness=probes.readiness or Probe(http_get=ping, period_seconds=10),
            liveness=probes.liveness or Probe(http_get=ping, initial_delay_seconds=60, period_seconds=30),
            startup=probes.startup,
        )
        updates["annotations"] = {**workload.annotations, MODEL_ANNOTATION: workload.model.uri}
        return workload.model_copy(update=updates)
    if workload.model is not None:
        return workload.model_copy(update={"annotations": {**workload.annotations, MODEL_ANNOTATION: workload.model.uri}})
    return workload
