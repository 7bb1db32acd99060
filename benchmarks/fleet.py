"""Write a synthetic fleet of environment files for the benchmark.

The fleet has the shape of the example in `environments/`, scaled up: an abstract `base.yaml`
holding the cluster, the volumes and N workloads, and `dev.yaml`, `staging.yaml` and
`prod.yaml` that extend it and override a slice of the workloads, so every environment renders
N workloads. The mix covers every workload kind mlgitops renders (single-node GPU training,
distributed TrainJobs, serving with an HPA and a Service, batch CronJobs), CPU and GPU pools
with taints, and claims of every access mode. Workloads are split into teams (`group:`), so a
large environment is sharded into one kustomize root per team, as a real fleet would be.

Output depends only on (N, seed): the same arguments write the same bytes.

    python benchmarks/fleet.py --n 100 --out /tmp/fleet [--validate]
"""

from __future__ import annotations

import argparse
import random
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

DEFAULT_SEED = 20240607
WORKLOADS_PER_TEAM = 25
"""Keeps each sharded kustomize root near 100 objects, well under the 300-object shard limit."""
WORKLOADS_PER_FILE = 1000
"""Keeps every environment file under mlgitops's 1 MB limit: larger lists go into a chain of `extends:` bases."""
KUBERNETES_VERSION = "1.32"

# Shares of each workload kind, in the order kinds are drawn.
KIND_WEIGHTS: dict[str, int] = {"training": 30, "distributed-training": 10, "serving": 35, "batch": 25}

Spec = dict[str, Any]


@dataclass(frozen=True)
class FleetSummary:
    """What was written: the environments folder and how many workloads of each kind."""

    environments_dir: Path
    workloads_per_environment: int
    teams: int
    kinds: dict[str, int]


def node_pools() -> list[Spec]:
    """Two CPU pools and two tainted GPU pools (A100 for training, L4 for GPU serving); maxNodes sizes Kueue's quotas."""
    gpu_taint = [{"key": "nvidia.com/gpu", "value": "present", "effect": "NoSchedule"}]
    return [
        {
            "name": "cpu-general",
            "labels": {"node-pool": "cpu-general"},
            "allocatable": {"cpu": "15", "memory": "58Gi"},
            "instanceTypes": ["m6i.4xlarge"],
            "maxNodes": 200,
        },
        {
            "name": "cpu-highmem",
            "labels": {"node-pool": "cpu-highmem"},
            "allocatable": {"cpu": "31", "memory": "240Gi"},
            "instanceTypes": ["r6i.8xlarge"],
            "maxNodes": 200,
        },
        {
            "name": "gpu-a100",
            "labels": {"node-pool": "gpu-a100", "nvidia.com/gpu.product": "NVIDIA-A100-SXM4-80GB"},
            "taints": gpu_taint,
            "allocatable": {"cpu": "94", "memory": "1800Gi", "gpus": 8},
            "instanceTypes": ["p4de.24xlarge"],
            "capacityTypes": ["on-demand"],
            "maxNodes": 200,
        },
        {
            "name": "gpu-l4",
            "labels": {"node-pool": "gpu-l4", "nvidia.com/gpu.product": "NVIDIA-L4"},
            "taints": gpu_taint,
            "allocatable": {"cpu": "46", "memory": "180Gi", "gpus": 4},
            "instanceTypes": ["g6.12xlarge"],
            "capacityTypes": ["on-demand", "spot"],
            "maxNodes": 200,
        },
    ]


def team_volumes(team: str) -> list[Spec]:
    """Each team owns a dataset, checkpoints, a model store and an output claim."""
    rwx = {"storageClass": "fast-rwx", "accessModes": ["ReadWriteMany"]}
    rox = {"storageClass": "fast-rwx", "accessModes": ["ReadOnlyMany"]}
    return [
        {"name": f"{team}-datasets", "claim": {"size": "2Ti", **rwx}},
        {"name": f"{team}-checkpoints", "claim": {"size": "500Gi", **rwx}},
        {"name": f"{team}-models", "claim": {"size": "100Gi", **rox}},
        # Several of the team's CronJobs write here and may run at once on different nodes: ReadWriteMany.
        {"name": f"{team}-outputs", "claim": {"size": "200Gi", **rwx}},
    ]


def shared_volumes() -> list[Spec]:
    """Volumes every team may use: a pre-existing claim and node-local scratch for caches."""
    return [
        {"name": "shared-hf-cache", "existingClaim": "hf-cache"},
        {"name": "scratch", "scratch": {"sizeLimit": "50Gi"}},
    ]


def training(rng: random.Random, name: str, team: str) -> Spec:
    gpus = rng.choice([1, 2, 4, 8])
    spec: Spec = {
        "name": name,
        "kind": "training",
        "group": team,
        "image": f"ghcr.io/acme/{team}-train:1.{rng.randint(0, 9)}.{rng.randint(0, 20)}",
        "command": ["torchrun"],
        "args": [f"--nproc-per-node={gpus}", "train.py", f"--data=/data/{name}", "--checkpoints=/checkpoints"],
        "env": [
            {"name": "EPOCHS", "value": str(rng.choice([10, 30, 90]))},
            {"name": "WANDB_API_KEY", "secretKeyRef": {"name": "wandb", "key": "api-key"}},
        ],
        "resources": {"cpu": str(8 * gpus), "memory": f"{64 * gpus}Gi", "gpu": gpus},
        "nodePool": "gpu-a100",
        "shmSize": f"{8 * gpus}Gi",
        "mounts": [
            {"volume": f"{team}-datasets", "path": "/data", "role": "data", "readOnly": True},
            {"volume": f"{team}-checkpoints", "path": "/checkpoints", "role": "checkpoint", "subPath": name},
            {"volume": "scratch", "path": "/cache", "role": "cache"},
        ],
    }
    if rng.random() < 0.3:
        spec["activeDeadlineSeconds"] = 86400 * rng.randint(1, 3)
    return spec


def distributed_training(rng: random.Random, name: str, team: str) -> Spec:
    gpus = rng.choice([4, 8])
    return {
        "name": name,
        "kind": "distributed-training",
        "group": team,
        "image": f"ghcr.io/acme/{team}-train:2.{rng.randint(0, 9)}.0",
        "numNodes": rng.randint(2, 4),
        "nprocPerNode": gpus,
        "args": ["train.py", "--data=/data", f"--checkpoints=/checkpoints/{name}"],
        "resources": {"cpu": str(8 * gpus), "memory": f"{96 * gpus}Gi", "gpu": gpus},
        "nodePool": "gpu-a100",
        "shmSize": f"{16 * gpus}Gi",
        "mounts": [
            {"volume": f"{team}-datasets", "path": "/data", "role": "data", "readOnly": True},
            {"volume": f"{team}-checkpoints", "path": "/checkpoints", "role": "checkpoint"},
        ],
    }


def serving(rng: random.Random, name: str, team: str) -> Spec:
    on_gpu = rng.random() < 0.4
    spec: Spec = {
        "name": name,
        "kind": "serving",
        "group": team,
        "image": f"ghcr.io/acme/{team}-serve:3.{rng.randint(0, 9)}.{rng.randint(0, 9)}",
        "ports": [{"name": "http", "port": 8080}, {"name": "metrics", "port": 9090}],
        "resources": {"cpu": str(rng.choice([1, 2, 4])), "memory": f"{rng.choice([4, 8, 16])}Gi"},
        "nodePool": "gpu-l4" if on_gpu else rng.choice(["cpu-general", "cpu-highmem"]),
        "probes": {
            "readiness": {"httpGet": {"path": "/v2/health/ready", "port": "http"}, "periodSeconds": 5},
            "liveness": {"httpGet": {"path": "/v2/health/live", "port": "http"}, "initialDelaySeconds": 30},
        },
        "mounts": [{"volume": f"{team}-models", "path": "/models", "role": "model", "readOnly": True}],
    }
    if on_gpu:
        spec["resources"]["gpu"] = 1
    if rng.random() < 0.5:
        spec["metrics"] = {"port": "metrics", "labels": {"release": "prometheus"}}
    if rng.random() < 0.8:
        metrics: list[Spec] = [{"type": "cpu", "utilization": rng.choice([60, 70, 80])}]
        if rng.random() < 0.4:
            metrics.append({"type": "pods", "name": "inference_requests_per_second", "averageValue": "50"})
        spec["autoscaling"] = {"minReplicas": 2, "maxReplicas": rng.choice([6, 10, 20]), "metrics": metrics}
    else:
        spec["replicas"] = rng.choice([1, 2, 3])
    return spec


def batch(rng: random.Random, name: str, team: str) -> Spec:
    return {
        "name": name,
        "kind": "batch",
        "group": team,
        "image": f"ghcr.io/acme/{team}-batch:0.{rng.randint(1, 9)}.{rng.randint(0, 9)}",
        "schedule": f"{rng.randint(0, 59)} {rng.randint(0, 23)} * * *",
        "timeZone": "Etc/UTC",
        "args": ["--input=/data/val", f"--output=/out/{name}"],
        "resources": {"cpu": str(rng.choice([2, 4, 8])), "memory": f"{rng.choice([8, 16, 32])}Gi"},
        "nodePool": rng.choice(["cpu-general", "cpu-highmem"]),
        "mounts": [
            {"volume": f"{team}-datasets", "path": "/data", "role": "data", "readOnly": True},
            {"volume": f"{team}-outputs", "path": "/out", "role": "output"},
            {"volume": "shared-hf-cache", "path": "/hf-cache", "role": "cache", "readOnly": True},
        ],
    }


_BUILDERS = {"training": training, "distributed-training": distributed_training, "serving": serving, "batch": batch}
_NAME_PARTS = {"training": "train", "distributed-training": "ddp", "serving": "serve", "batch": "batch"}


def workloads(rng: random.Random, count: int, *, distributed: bool) -> list[Spec]:
    """`count` workloads drawn by KIND_WEIGHTS, in teams of WORKLOADS_PER_TEAM."""
    weights = {kind: weight for kind, weight in KIND_WEIGHTS.items() if distributed or kind != "distributed-training"}
    # Every kind first, so that even a tiny smoke-test fleet renders each kind of object.
    kinds = [*weights][:count] + rng.choices(list(weights), weights=list(weights.values()), k=max(0, count - len(weights)))
    result = []
    for index, kind in enumerate(kinds):
        team = f"team-{index // WORKLOADS_PER_TEAM:02d}"
        # DNS-1035 names (a letter first) are valid for every kind, including Services.
        name = f"{team.replace('team-', 't')}-{_NAME_PARTS[kind]}-{index:04d}"
        result.append(_BUILDERS[kind](rng, name, team))
    return result


def base_environment(rng: random.Random, count: int, *, distributed: bool) -> Spec:
    specs = workloads(rng, count, distributed=distributed)
    teams = sorted({spec["group"] for spec in specs})
    return {
        "abstract": True,
        "kubernetesVersion": KUBERNETES_VERSION,
        "partOf": "bench-platform",
        "labels": {"cost-center": "ml-research"},
        "gitops": {"repoUrl": "https://github.com/acme/ml-fleet.git", "revision": "main", "argocd": {"project": "ml"}},
        "kueue": {"defaultQueue": "gpu-training"},
        "priorities": {"training": "training-low", "serving": "serving-high", "batch": "training-low"},
        "networkPolicy": {
            "allowFrom": [
                {"namespaceLabels": {"kubernetes.io/metadata.name": "ingress-nginx"}},
                {"namespaceLabels": {"kubernetes.io/metadata.name": "monitoring"}},
            ]
        },
        "cluster": {"nodePools": node_pools()},
        # The W&B key every training job reads is created outside git (policy secret-reference).
        "existingSecrets": ["wandb"],
        "volumes": [volume for team in teams for volume in team_volumes(team)] + shared_volumes(),
        "workloads": specs,
    }


def overrides(rng: random.Random, base_workloads: list[Spec], environment: str) -> list[Spec]:
    """A tenth of the workloads differ per environment (smaller in dev, larger in prod); prod pins every image."""
    changed = []
    resized = {spec["name"] for spec in rng.sample(base_workloads, k=max(1, len(base_workloads) // 10))}
    for spec in base_workloads:
        if spec["name"] not in resized and environment != "prod":
            continue
        override: Spec = {"name": spec["name"]}
        if spec["name"] not in resized:
            pass
        elif spec["kind"] == "serving" and "autoscaling" in spec:
            bounds = {"dev": (1, 3), "staging": (2, 6), "prod": (3, 30)}[environment]
            override["autoscaling"] = {"minReplicas": bounds[0], "maxReplicas": bounds[1]}
        elif spec["kind"] == "training" and environment == "dev":
            override["resources"] = {"cpu": "8", "memory": "64Gi", "gpu": 1}
            override["shmSize"] = "8Gi"
        if environment == "prod":
            digest = f"{rng.getrandbits(256):064x}"
            override["image"] = f"{spec['image']}@sha256:{digest}"
        if len(override) > 1:
            changed.append(override)
    return changed


def environment_files(count: int, seed: int = DEFAULT_SEED, *, distributed: bool = True) -> dict[str, Spec]:
    """File name → content of every environment file, for `count` workloads per environment."""
    rng = random.Random(seed)
    base = base_environment(rng, count, distributed=distributed)
    files: dict[str, Spec] = {"base.yaml": base}
    for environment in ("dev", "staging", "prod"):
        spec: Spec = {"extends": "base.yaml", "namespace": f"bench-{environment}"}
        if environment == "staging":
            # Staging is deployed by Flux, so both GitOps renderers are exercised.
            spec["gitops"] = {"argocd": {"$patch": "delete"}, "flux": {"interval": "10m"}}
        if environment == "prod":
            spec["cluster"] = {"karpenter": {"nodeClassRef": {"name": "ml-nodes"}}}
            spec["priorities"] = {
                "classes": [
                    {"name": "serving-high", "value": 100000},
                    {"name": "training-low", "value": 1000, "preemptionPolicy": "Never"},
                ]
            }
        spec["workloads"] = overrides(rng, base["workloads"], environment)
        files[f"{environment}.yaml"] = spec
    return chained(files)


def chained(files: dict[str, Spec]) -> dict[str, Spec]:
    """Files whose `workloads` exceed WORKLOADS_PER_FILE split into abstract parts that extend each other.

    `name-part01.yaml` takes the first slice (and the original base), each later part extends the
    one before, and `name.yaml` keeps the last slice: lists of named items append new names in
    order, so the merged environment is the same as one file would give.
    """
    result: dict[str, Spec] = {}
    for name, spec in files.items():
        items = spec.get("workloads", [])
        if len(items) <= WORKLOADS_PER_FILE:
            result[name] = spec
            continue
        slices = [items[start : start + WORKLOADS_PER_FILE] for start in range(0, len(items), WORKLOADS_PER_FILE)]
        parent = spec.get("extends")
        for number, part in enumerate(slices[:-1], start=1):
            part_name = f"{name.removesuffix('.yaml')}-part{number:02d}.yaml"
            result[part_name] = {"abstract": True, **({"extends": parent} if parent else {}), "workloads": part}
            parent = part_name
        result[name] = {
            "extends": parent,
            **{key: value for key, value in spec.items() if key != "extends"},
            "workloads": slices[-1],
        }
    return result


class _PlainDumper(yaml.SafeDumper):
    """Writes shared sub-trees (the GPU taints every pool repeats) out in full: people do not write `&id001`."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def write_fleet(environments_dir: Path, count: int, seed: int = DEFAULT_SEED, *, distributed: bool = True) -> FleetSummary:
    """Write the environment files into `environments_dir` (created; existing files replaced)."""
    environments_dir.mkdir(parents=True, exist_ok=True)
    files = environment_files(count, seed, distributed=distributed)
    for name, spec in files.items():
        text = yaml.dump(spec, Dumper=_PlainDumper, sort_keys=False, width=120)
        (environments_dir / name).write_text(f"# Benchmark fleet: {count} workloads, seed {seed}.\n{text}", "utf-8")
    kinds: dict[str, int] = {}
    base_workloads = [spec for name, file in files.items() if name.startswith("base") for spec in file["workloads"]]
    for spec in base_workloads:
        kinds[spec["kind"]] = kinds.get(spec["kind"], 0) + 1
    teams = len({spec["group"] for spec in base_workloads})
    return FleetSummary(environments_dir, count, teams, dict(sorted(kinds.items())))


def mlgitops_command() -> list[str]:
    """`mlgitops` of the interpreter running this script (the project's venv)."""
    return [sys.executable, "-m", "mlgitops.cli"]


def validate_fleet(environments_dir: Path, output_dir: Path | None = None) -> str:
    """Render the fleet; raise RuntimeError with mlgitops's messages unless it renders cleanly."""
    with tempfile.TemporaryDirectory(prefix="fleet-validate-") as scratch:
        target = output_dir or Path(scratch) / "rendered"
        completed = subprocess.run(
            [*mlgitops_command(), "render", "--environments-dir", str(environments_dir), "--output", str(target)],
            capture_output=True,
            text=True,
            check=False,
        )
    if completed.returncode != 0:
        raise RuntimeError(f"the generated fleet does not render (exit {completed.returncode}):\n{completed.stderr}")
    return completed.stdout.strip()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=100, help="workloads per environment (default 100)")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--out", type=Path, required=True, help="folder that receives environments/")
    parser.add_argument("--no-distributed", action="store_true", help="leave PyTorchJob workloads out")
    parser.add_argument("--validate", action="store_true", help="render the fleet and fail unless it is clean")
    args = parser.parse_args(argv)
    summary = write_fleet(args.out / "environments", args.n, args.seed, distributed=not args.no_distributed)
    print(
        f"wrote {summary.environments_dir}: {summary.workloads_per_environment} workloads per environment, "
        f"{summary.teams} teams, {summary.kinds}"
    )
    if args.validate:
        print(validate_fleet(summary.environments_dir))
    return 0


if __name__ == "__main__":
    sys.exit(main())
