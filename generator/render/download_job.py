"""The one download of an LLM server's weights into a ReadWriteMany claim, as a Job beside the server.

A Deployment's replicas would each run the download init container, all writing the same directory of the shared
claim at once. Instead one Job downloads (and writes the completion marker, ``model_download.completion_marker``);
every server pod waits for the marker (``wait_container``) and mounts the claim read-only. The Job is named by
the hash of its spec (a new URI or downloader is a new Job: a Job's pod template is immutable) and keeps no
ttlSecondsAfterFinished (a GitOps tool would recreate a deleted Job and download again); a finished download is
skipped by the marker when the Job runs again.
"""

from __future__ import annotations

from typing import Any

from mlgitops.render.metadata import ObjectMeta
from mlgitops.render.model_download import DOWNLOADER_HOME_VARIABLES, download_command, download_container
from mlgitops.render.pod import pod_template
from mlgitops.render.workloads_hash import hash_named
from mlgitops.spec.container import Mount, Probes, Resources
from mlgitops.spec.environment import Environment
from mlgitops.spec.llm import MODELS_PATH, LlmServing
from mlgitops.spec.llm_defaults import home_mount, home_volumes
from mlgitops.spec.placement import place
from mlgitops.spec.storage import Volume

DOWNLOAD_JOB_SUFFIX = "-download"
BACKOFF_LIMIT = 3


def download_job_claim(environment: Environment, workload: LlmServing) -> Volume | None:
    """The ReadWriteMany claim a single-node server's replicas share its download in (None: no Job; the download
    stays an init container of each pod, or the LeaderWorkerSet's leader does it)."""
    download = workload.model.download
    if download is None or workload.multi_node:
        return None
    volume = next((v for v in environment.volumes if v.name == download.volume), None)
    if volume is None or volume.claim is None or "ReadWriteMany" not in volume.claim.access_modes:
        return None
    return volume


def render_download_job(environment: Environment, workload: LlmServing, server: LlmServing, meta: ObjectMeta) -> dict[str, Any]:
    """The Job: the downloader as its only container, in the server's security context and pull secrets, on the
    claim (writable) and the server's home."""
    download = workload.model.download
    assert download is not None
    name = f"{workload.name}{DOWNLOAD_JOB_SUFFIX}"
    job_meta = ObjectMeta(name, {**meta.labels, "app.kubernetes.io/name": name}, meta.annotations)
    fetch = download_container(workload, server, leader_of_group=True)
    command = fetch["command"] or download_command(workload) or []
    own = {var.name for var in download.env}
    downloader = server.model_copy(
        update={
            "name": name,
            "image": download.image,
            "command": command[:1],
            "args": command[1:],
            "env": [var for var in server.env if var.name in DOWNLOADER_HOME_VARIABLES and var.name not in own] + download.env,
            "resources": Resources(cpu=download.resources.cpu, memory=download.resources.memory),
            "probes": Probes(),
            "shm_size": None,
            "mounts": [Mount(volume=download.volume, path=MODELS_PATH, role="model"), home_mount(server)],
            "replicas": 1,
            "autoscaling": None,
            "keda": None,
            "sidecars": [],
            "init_containers": [],
            "node_pool": None,
            "tolerations": [],
            "node_affinity": None,
            "anti_affinity": None,
            "spread": None,
            "priority_class_name": None,
            "labels": {},
            "annotations": {},
        }
    )
    placement = place(environment, downloader)
    home = home_volumes(workload)
    template = pod_template(environment, downloader, placement, job_meta, restart_policy="OnFailure", own_volumes=home)
    template["spec"]["containers"][0]["name"] = fetch["name"]
    spec = {"backoffLimit": BACKOFF_LIMIT, "template": template}
    return hash_named("batch/v1", "Job", job_meta, environment.namespace, spec, {})
