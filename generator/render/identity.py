"""ServiceAccounts: shared ones of the environment and a workload's own, with token automounting off by default."""

from __future__ import annotations

from typing import Any

from mlgitops.render.metadata import object_meta
from mlgitops.spec.environment import Environment
from mlgitops.spec.pod import WorkloadServiceAccount


def render_service_account(
    environment: Environment, environment_name: str, name: str, spec: WorkloadServiceAccount, *, app: str
) -> dict[str, Any]:
    """A ServiceAccount; its annotations carry the cloud identity (IRSA role ARN, GKE or Azure workload identity)."""
    meta = object_meta(
        environment,
        environment_name,
        name=name,
        app=app,
        component="identity",
        labels=dict(spec.labels),
        annotations=dict(spec.annotations),
    )
    return {
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": meta.render(environment.namespace),
        "automountServiceAccountToken": spec.automount_service_account_token,
    }


def render_shared_service_accounts(environment: Environment, environment_name: str) -> list[dict[str, Any]]:
    return [
        render_service_account(environment, environment_name, spec.name, spec, app=spec.name)
        for spec in environment.service_accounts
    ]
