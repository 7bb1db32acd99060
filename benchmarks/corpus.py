"""One fleet size on disk: the generated environments, the reference render, and a copy seeded with known faults."""

from __future__ import annotations

import pickle
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from fleet import write_fleet
from measure import mlgitops
from paths import ENVIRONMENTS, KUSTOMIZATION


@dataclass
class Workspace:
    """Every path of one fleet size under the output folder."""

    root: Path

    @property
    def environments(self) -> Path:
        return self.root / "environments"

    @property
    def rendered(self) -> Path:
        """The reference render: input of `render --check`."""
        return self.root / "rendered"

    @property
    def tree(self) -> Path:
        """A copy of the render with seeded faults: input of lint, the peers and the floors."""
        return self.root / "tree"

    @property
    def render_target(self) -> Path:
        return self.root / "render-run"

    @property
    def dump_target(self) -> Path:
        return self.root / "dump-floor"

    @property
    def logs(self) -> Path:
        return self.root / "logs"


@dataclass
class SeededFault:
    path: str
    fault: str
    found: bool | None = None


def _read_documents(path: Path) -> list[Any]:
    with path.open("rb") as stream:
        return [doc for doc in yaml.load_all(stream, Loader=yaml.CSafeLoader) if doc is not None]


def _write_documents(path: Path, documents: list[Any]) -> None:
    path.write_text(yaml.safe_dump_all(documents, sort_keys=False), encoding="utf-8")


def _files_of_kind(tree: Path, kind: str) -> list[Path]:
    prefix = kind.lower() + "-"
    return sorted(p for p in tree.glob("prod/**/*.yaml") if p.name.startswith(prefix))


def _containers(obj: dict[str, Any]) -> list[dict[str, Any]]:
    spec = obj["spec"]
    if obj["kind"] == "CronJob":
        spec = spec["jobTemplate"]["spec"]
    containers: list[dict[str, Any]] = spec["template"]["spec"]["containers"]
    return containers


def seed_faults(tree: Path) -> list[SeededFault]:
    """Break a handful of prod objects in ways DESIGN.md says a reviewer must hear about.

    Each fault goes into a different file, so "lint found it" can be judged by the file lint
    names, whatever rule ids it uses.
    """
    faults: list[SeededFault] = []

    def apply(kind: str, skip: int, fault: str, change: Callable[[dict[str, Any]], bool]) -> None:
        taken = {f.path for f in faults}
        candidates = [p for p in _files_of_kind(tree, kind) if p.relative_to(tree).as_posix() not in taken]
        for path in candidates[skip:]:
            documents = _read_documents(path)
            if change(documents[0]):
                _write_documents(path, documents)
                faults.append(SeededFault(path.relative_to(tree).as_posix(), fault))
                return

    hpa_targets = set()
    for path in _files_of_kind(tree, "HorizontalPodAutoscaler"):
        hpa_targets.add(_read_documents(path)[0]["spec"]["scaleTargetRef"]["name"])

    def replicas_under_hpa(obj: dict[str, Any]) -> bool:
        if obj["metadata"]["name"] not in hpa_targets:
            return False
        obj["spec"]["replicas"] = 3
        return True

    def no_requests_under_hpa(obj: dict[str, Any]) -> bool:
        if obj["metadata"]["name"] not in hpa_targets:
            return False
        for container in _containers(obj):
            container.get("resources", {}).pop("requests", None)
        return True

    def gpu_request_without_limit(obj: dict[str, Any]) -> bool:
        limits = _containers(obj)[0].get("resources", {}).get("limits", {})
        return limits.pop("nvidia.com/gpu", None) is not None

    def no_resources(obj: dict[str, Any]) -> bool:
        return _containers(obj)[0].pop("resources", None) is not None

    def prunable_claim(obj: dict[str, Any]) -> bool:
        # Either engine's annotation protects the claim from the engine that syncs it (rule pvc-prune-protection):
        # unprotected is without both.
        annotations = obj["metadata"].get("annotations", {})
        removed = [annotations.pop(key, None) for key in ("argocd.argoproj.io/sync-options", "kustomize.toolkit.fluxcd.io/prune")]
        return any(value is not None for value in removed)

    def hpa_without_metrics(obj: dict[str, Any]) -> bool:
        obj["spec"]["metrics"] = []
        return True

    def job_ttl(obj: dict[str, Any]) -> bool:
        obj["spec"]["ttlSecondsAfterFinished"] = 3600
        return True

    apply("Deployment", 0, "Deployment under an HPA sets spec.replicas", replicas_under_hpa)
    apply("Deployment", 0, "HPA target without resource requests", no_requests_under_hpa)
    apply("Job", 0, "GPU requested but not limited", gpu_request_without_limit)
    apply("Job", 0, "GitOps-managed Job with ttlSecondsAfterFinished", job_ttl)
    apply("CronJob", 0, "container without resources", no_resources)
    apply("PersistentVolumeClaim", 0, "PVC without prune protection", prunable_claim)
    apply("HorizontalPodAutoscaler", 0, "HPA without metrics", hpa_without_metrics)
    return faults


def kustomize_roots(tree: Path) -> list[Path]:
    """Every folder of an environment that holds a kustomization.yaml (sharded environments have many)."""
    return sorted(p.parent for env in ENVIRONMENTS for p in (tree / env).rglob(KUSTOMIZATION))


def manifest_files(tree: Path) -> list[Path]:
    return sorted(p for p in tree.rglob("*.yaml") if p.name != KUSTOMIZATION)


@dataclass
class FleetFacts:
    workloads_per_environment: int
    kinds: dict[str, int]
    teams: int
    files: int
    objects: int
    megabytes: float
    kustomize_roots: int


def prepare(workspace: Workspace, count: int) -> tuple[FleetFacts, list[SeededFault]]:
    """Write the fleet, render it (failing loudly if it does not render), seed the lint tree."""
    if workspace.root.exists():
        shutil.rmtree(workspace.root)
    workspace.logs.mkdir(parents=True)
    summary = write_fleet(workspace.environments, count)
    completed = subprocess.run(
        [*mlgitops(), "render", "--environments-dir", str(workspace.environments), "--output", str(workspace.rendered)],
        capture_output=True,
        text=True,
        check=False,
    )
    if completed.returncode != 0:
        raise SystemExit(f"the N={count} fleet does not render (exit {completed.returncode}):\n{completed.stderr}")
    shutil.copytree(workspace.rendered, workspace.tree)
    faults = seed_faults(workspace.tree)

    every_file = sorted(workspace.tree.rglob("*.yaml"))
    (workspace.root / "files.txt").write_text("\n".join(str(p) for p in every_file), encoding="utf-8")
    objects = 0
    contents = []
    for path in every_file:
        documents = _read_documents(path)
        contents.append((path.relative_to(workspace.tree).as_posix(), documents))
        if path.name != KUSTOMIZATION:
            objects += len(documents)
    with (workspace.root / "objects.pickle").open("wb") as stream:
        pickle.dump(contents, stream, protocol=pickle.HIGHEST_PROTOCOL)
    size = sum(p.stat().st_size for p in every_file)
    facts = FleetFacts(
        count, summary.kinds, summary.teams, len(every_file), objects, size / 1e6, len(kustomize_roots(workspace.tree))
    )
    return facts, faults
