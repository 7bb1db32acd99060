"""ExternalSecrets: Kubernetes Secrets materialised from a secret store, so no value is ever in git."""

from __future__ import annotations

from typing import Any

from mlgitops.render.metadata import object_meta
from mlgitops.spec.environment import Environment


def render_external_secrets(environment: Environment, environment_name: str) -> list[dict[str, Any]]:
    store = environment.secret_store
    if store is None:
        return []
    objects = []
    for secret in environment.external_secrets:
        meta = object_meta(environment, environment_name, name=secret.name, app=secret.name, component="secrets")
        data = []
        for entry in secret.data:
            remote: dict[str, Any] = {"key": entry.remote_key}
            if entry.remote_property is not None:
                remote["property"] = entry.remote_property
            data.append({"secretKey": entry.key, "remoteRef": remote})
        objects.append(
            {
                "apiVersion": "external-secrets.io/v1",
                "kind": "ExternalSecret",
                "metadata": meta.render(environment.namespace),
                "spec": {
                    "refreshInterval": store.refresh_interval,
                    "secretStoreRef": {"kind": store.kind, "name": store.name},
                    "target": {"name": secret.name, "creationPolicy": "Owner"},
                    "data": data,
                },
            }
        )
    return objects
