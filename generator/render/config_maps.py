"""ConfigMaps from literal values and repository files, named `<name>-<content hash>` like kustomize's generator.

A pod refers to the hashed name, so changing the content changes the pod template and rolls
the pods (and gives a training Job a new name) instead of leaving them on stale values.
"""

from __future__ import annotations

from typing import Any

from mlgitops.render.metadata import object_meta
from mlgitops.render.workloads_hash import spec_hash
from mlgitops.spec.derived import per_environment
from mlgitops.spec.environment import Environment
from mlgitops.spec.pod import ConfigMapSpec

# etcd refuses objects over 1 MiB; the API server caps ConfigMap data there.
CONFIG_MAP_LIMIT = 1024 * 1024


class MissingFile(LookupError):
    """A file a ConfigMap names was not read (an environment built in code without its files)."""


def config_map_data(environment: Environment, index: int) -> dict[str, str]:
    """Every key of configMaps[index]: literal data, then the files' contents (by key)."""
    spec = environment.config_maps[index]
    data = dict(spec.data)
    for file_index, file in enumerate(spec.files):
        read = environment.repository_file(("configMaps", index, "files", file_index, "path"))
        if read is None:
            raise MissingFile(file.path)
        data[file.key_name] = read.text
    return dict(sorted(data.items()))


def hashed_name(spec: ConfigMapSpec, data: dict[str, str]) -> str:
    return f"{spec.name}-{spec_hash({'data': data})}"


@per_environment
def config_map_names(environment: Environment) -> dict[str, str]:
    """Spec name → rendered name of every ConfigMap the environment renders (read-only; hashed once per environment)."""
    return {
        spec.name: hashed_name(spec, config_map_data(environment, index)) for index, spec in enumerate(environment.config_maps)
    }


def render_config_maps(environment: Environment, environment_name: str) -> list[dict[str, Any]]:
    objects = []
    for index, spec in enumerate(environment.config_maps):
        data = config_map_data(environment, index)
        meta = object_meta(environment, environment_name, name=hashed_name(spec, data), app=spec.name, component="config")
        objects.append({"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta.render(environment.namespace), "data": data})
    return objects
