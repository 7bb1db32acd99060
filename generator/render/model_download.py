"""The init containers that bring an LLM server's weights into its model volume before the server starts.

Default commands: `hf download REPO --local-dir DIR [--revision REV]` (huggingface_hub's CLI) for
hf://REPO[@REV], `aws s3 sync URI DIR` for s3://; any other scheme needs the user's command.

How many pods download depends on where the weights go (``shared_download``). Every pod of a multi-node
LeaderWorkerSet group loads the weights from the same path (vllm-project/vllm `docs/serving/distributed_serving.md`:
"same model path" on every node), and LWS has no download-once mechanism of its own (kubernetes-sigs/lws
`docs/examples/vllm/GPU/lws.yaml` downloads in every pod):

- scratch space (an emptyDir) is each pod's own: every pod downloads its copy;
- a claim (or existing claim) is shared by the group's pods: only the leader downloads (skipped when the
  completion marker of this URI and command is already there), then writes the marker; the workers wait for it
  (``wait_container``) before they start. LWS's `startupPolicy: LeaderCreated` only orders pod creation, so the
  wait is what keeps a worker from loading half-written files.
"""

from __future__ import annotations

import hashlib
import shlex
from typing import Any

from mlgitops.render.container import container_security, env_var
from mlgitops.spec.environment import Environment
from mlgitops.spec.llm import MODELS_PATH, LlmServing
from mlgitops.spec.llm_defaults import home_mount

DOWNLOAD_CONTAINER = "download-model"
WAIT_CONTAINER = "wait-for-model"
WAIT_SECONDS = 10
DOWNLOADER_HOME_VARIABLES = ("HOME", "USER", "XDG_CACHE_HOME", "HF_HOME")
"""What the downloaders write besides the weights (huggingface_hub's Xet cache and locks under HF_HOME, the AWS
CLI's credential cache under ~/.aws) need a writable HOME too."""


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


def shared_download(environment: Environment, workload: LlmServing) -> bool:
    """Whether the pods of a multi-node group share the downloaded weights (a claim, not per-pod scratch space)."""
    download = workload.model.download
    if download is None or not workload.multi_node:
        return False
    volume = next((v for v in environment.volumes if v.name == download.volume), None)
    return volume is not None and volume.scratch is None


def completion_marker(workload: LlmServing) -> str:
    """The file the leader writes once the weights of this URI and command are complete: a new revision or command
    downloads again, and a restarted leader skips a finished download."""
    download = workload.model.download
    assert download is not None
    digest = hashlib.sha256(shlex.join([download.uri, *(download_command(workload) or [])]).encode()).hexdigest()[:8]
    return f"{workload.model.directory}/.mlgitops-download-{digest}"


def _home(server: LlmServing) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    variables = [env_var(var) for var in server.env if var.name in DOWNLOADER_HOME_VARIABLES]
    mount = home_mount(server)
    return variables, {"name": mount.volume, "mountPath": mount.path}


def download_container(workload: LlmServing, server: LlmServing, *, leader_of_group: bool = False) -> dict[str, Any]:
    """The init container: same security as the server, the model volume mounted writable at /models, the server's
    home for the downloader's own caches. ``leader_of_group``: the one download of a group sharing a claim."""
    download = workload.model.download
    assert download is not None
    command = download_command(workload)
    if leader_of_group and command is not None:
        marker = shlex.quote(completion_marker(workload))
        command = ["/bin/sh", "-c", f"[ -f {marker} ] || {{ {shlex.join(command)} && touch {marker}; }}"]
    container: dict[str, Any] = {"name": DOWNLOAD_CONTAINER, "image": download.image, "command": command}
    home_variables, home = _home(server)
    own = {var.name for var in download.env}
    variables = [var for var in home_variables if var["name"] not in own] + [env_var(var) for var in download.env]
    if variables:
        container["env"] = variables
    container["resources"] = {
        "requests": {"cpu": download.resources.cpu, "memory": download.resources.memory},
        "limits": {"memory": download.resources.memory},
    }
    container["securityContext"] = container_security(server.security)
    container["volumeMounts"] = [{"name": download.volume, "mountPath": MODELS_PATH}, home]
    return container


def wait_container(workload: LlmServing, server: LlmServing) -> dict[str, Any]:
    """A worker's (or a replica's) init container: waits until the one download (the leader's, or the download Job's) is
    complete on the shared claim."""
    download = workload.model.download
    assert download is not None
    marker = shlex.quote(completion_marker(workload))
    line = f"until [ -f {marker} ]; do echo 'waiting for the model download to complete'; sleep {WAIT_SECONDS}; done"
    return {
        "name": WAIT_CONTAINER,
        "image": download.image,
        "command": ["/bin/sh", "-c", line],
        "resources": {"requests": {"cpu": "10m", "memory": "16Mi"}, "limits": {"memory": "16Mi"}},
        "securityContext": container_security(server.security),
        "volumeMounts": [{"name": download.volume, "mountPath": MODELS_PATH, "readOnly": True}],
    }
