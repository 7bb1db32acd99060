"""The init container that downloads an LLM server's weights into its model volume before the server starts.

Default commands: `hf download REPO --local-dir DIR [--revision REV]` (huggingface_hub's CLI) for
hf://REPO[@REV], `aws s3 sync URI DIR` for s3://; any other scheme needs the user's command.
"""

from __future__ import annotations

from typing import Any

from mlgitops.render.container import container_security, env_var
from mlgitops.spec.llm import MODELS_PATH, LlmServing

DOWNLOAD_CONTAINER = "download-model"


def download_command(workload: LlmServing) -> list[str] | None:
    """The download command for the model's URI (None: a scheme without a default; checks require `command`)."""
    download = workload.model.download
    assert download is not None
    if download.command is not None:
        return list(download.command)
    scheme, _, rest = download.uri.partition("://")
    target = workload.model.directory
    if scheme == "hf":
        repository, _, revision = rest.partition("@")
        command = ["hf", "download", repository, "--local-dir", target]
        return [*command, "--revision", revision] if revision else command
    if scheme == "s3":
        return ["aws", "s3", "sync", download.uri, target]
    return None


def download_container(workload: LlmServing, server: LlmServing) -> dict[str, Any]:
    """The init container: same security as the server, the model volume mounted writable at /models."""
    download = workload.model.download
    assert download is not None
    container: dict[str, Any] = {"name": DOWNLOAD_CONTAINER, "image": download.image, "command": download_command(workload)}
    if download.env:
        container["env"] = [env_var(var) for var in download.env]
    container["resources"] = {
        "requests": {"cpu": download.resources.cpu, "memory": download.resources.memory},
        "limits": {"memory": download.resources.memory},
    }
    container["securityContext"] = container_security(server.security)
    container["volumeMounts"] = [{"name": download.volume, "mountPath": MODELS_PATH}]
    return container
