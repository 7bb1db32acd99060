"""MLflow wiring of workloads (a spec-to-spec step): tracking variables for runs, the server of registered models.

Credentials always come through secretKeyRef, so no secret value is ever rendered.
"""

from __future__ import annotations

from mlgitops.spec.container import EnvVar, HttpGetAction, KeyRef, Port, Probe, Probes
from mlgitops.spec.environment import Environment
from mlgitops.spec.llm import LlmServing
from mlgitops.spec.llm_defaults import with_llm_defaults
from mlgitops.spec.serving import Serving
from mlgitops.spec.workloads import Workload

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


def with_mlflow(environment: Environment, workload: Workload) -> Workload:
    """The workload with MLflow variables added and, for a registered model, its server filled in.

    The workload's own env vars come last so that they win over the generated ones.
    """
    if isinstance(workload, Serving) and workload.model is not None and workload.kserve is None:
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
    if isinstance(workload, Serving) and workload.model is not None:
        return workload.model_copy(update={"annotations": {**workload.annotations, MODEL_ANNOTATION: workload.model.uri}})
    run = getattr(workload, "mlflow", None)
    if run is not None and environment.mlflow is not None:
        own = {var.name for var in workload.env}
        generated = [var for var in tracking_env(environment, run.experiment or workload.name) if var.name not in own]
        return workload.model_copy(update={"env": [*generated, *workload.env]})
    return workload


def resolved(environment: Environment, workload: Workload) -> Workload:
    """The workload with everything mlgitops derives filled in: MLflow wiring, an LLM server's GPUs, probes, command."""
    if isinstance(workload, LlmServing):
        return with_llm_defaults(workload)
    return with_mlflow(environment, workload)
