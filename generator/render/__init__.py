"""Pure rendering: environment models in, Kubernetes objects (plain dicts) out."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from generator.errors import Location, UserError, UserErrors
from generator.load.source import SourceNode, locate
from generator.render.cluster import CLUSTER_FOLDER, render_node_pool, render_priority_classes
from generator.render.gitops import add_sync_wave, argocd_objects, flux_objects, ignored_differences
from generator.render.kueue_objects import render_cluster_queueing, render_local_queues
from generator.render.kustomize import kustomization
from generator.render.network import render_network_policies
from generator.render.rendered import Rendered, file_name
from generator.render.secrets import render_external_secrets
from generator.render.storage import render_claim
from generator.render.workloads import render_workload
from generator.spec.checks import check_environment
from generator.spec.environment import Environment

KUSTOMIZATION = "kustomization.yaml"
SHARED_GROUP = "shared"
"""Kustomize root of environment-wide objects (PVCs, NetworkPolicies) in a sharded environment."""


def render_environment(environment: Environment, name: str, tree: SourceNode | None = None) -> list[Rendered]:
    """Every object of ``environment`` with its kustomization.yaml files, sorted by path.

    ``tree`` is the environment file the model was read from (positions of every field), so
    errors and objects can name the line that produced them; the Python API may leave it out.
    Raises UserError on a semantic problem (limits below requests, pods that cannot fit, ...).
    """
    problems = check_environment(environment)
    if problems:
        errors = []
        for problem in problems:
            if tree is None:
                errors.append(UserError(f"{_shown(problem.path)}: {problem.message}"))
            else:
                where, shown = locate(tree, problem.path, key=problem.at_key)
                errors.append(UserError(f"{shown}: {problem.message}", where))
        raise UserErrors(errors)

    def source_of(path: tuple[str | int, ...]) -> Location | None:
        return locate(tree, path)[0] if tree is not None else None

    # (object, group, source): the group is the kustomize root a sharded environment puts it in.
    namespaced: list[tuple[dict[str, Any], str, Location | None]] = []
    for index, volume in enumerate(environment.volumes):
        if volume.claim is not None:
            namespaced.append((render_claim(environment, name, volume), SHARED_GROUP, source_of(("volumes", index))))
    for index, workload in enumerate(environment.workloads):
        source = source_of(("workloads", index))
        namespaced += [(obj, workload.group, source) for obj in render_workload(environment, name, workload)]
    for obj, workload_index in render_network_policies(environment, name):
        if workload_index is None:
            namespaced.append((obj, SHARED_GROUP, source_of(("networkPolicy",))))
        else:
            # An allow rule belongs with the server it opens (same shard, same source line).
            opened = environment.workloads[workload_index]
            namespaced.append((obj, opened.group, source_of(("workloads", workload_index))))
    namespaced += [
        (obj, SHARED_GROUP, source_of(("externalSecrets", index)))
        for index, obj in enumerate(render_external_secrets(environment, name))
    ]
    namespaced += [(obj, SHARED_GROUP, source_of(("kueue",))) for obj in render_local_queues(environment, name)]
    cluster_scoped: list[tuple[dict[str, Any], Location | None]] = []
    if environment.cluster.karpenter is not None:
        for index, pool in enumerate(environment.cluster.node_pools):
            cluster_scoped.append((render_node_pool(environment, name, pool), source_of(("cluster", "nodePools", index))))
    for index, obj in enumerate(render_priority_classes(environment, name)):
        cluster_scoped.append((obj, source_of(("priorities", "classes", index))))
    cluster_scoped += [(obj, source_of(path)) for obj, path in render_cluster_queueing(environment, name)]

    gitops = environment.gitops
    if gitops is not None and gitops.argocd is not None:
        for obj in [entry[0] for entry in namespaced] + [entry[0] for entry in cluster_scoped]:
            add_sync_wave(obj)
    sharded = gitops is not None and len(namespaced) > gitops.max_objects_per_root

    roots: dict[str, list[Rendered]] = defaultdict(list)
    for obj, group, source in namespaced:
        root = group if sharded else ""
        roots[root].append(Rendered(obj, _join(root, file_name(obj)), source))
    for obj, source in cluster_scoped:
        roots[CLUSTER_FOLDER].append(Rendered(obj, _join(CLUSTER_FOLDER, file_name(obj)), source))

    result: list[Rendered] = []
    seen: dict[tuple[str, str], Rendered] = {}
    for root in sorted(roots):
        items = sorted(roots[root], key=lambda item: item.path)
        for item in items:
            key = (item.kind, item.name)
            if key in seen:
                first = seen[key].source
                also = f" (also from line {first.line})" if first is not None else ""
                raise UserError(f"two objects render to {item.kind} {item.name!r}{also}; rename one", item.source)
            seen[key] = item
        namespace = None if root == CLUSTER_FOLDER else environment.namespace
        files = [item.path.removeprefix(f"{root}/") if root else item.path for item in items]
        root_file = kustomization(environment, name, files, namespace)
        source = source_of(("cluster",)) if root == CLUSTER_FOLDER else source_of(())
        result += [*items, Rendered(root_file, _join(root, KUSTOMIZATION), source)]
    return result


def kustomize_roots(rendered: list[Rendered]) -> list[str]:
    """Folders (relative to rendered/<env>/) that hold a kustomization.yaml, '' for the folder itself."""
    return sorted(item.path.removesuffix(KUSTOMIZATION).rstrip("/") for item in rendered if item.path.endswith(KUSTOMIZATION))


def render_gitops(environment: Environment, name: str, rendered: list[Rendered]) -> dict[str, list[dict[str, Any]]]:
    """ArgoCD and Flux objects for the environment, by file path relative to the rendered folder."""
    gitops = environment.gitops
    if gitops is None:
        return {}
    roots = kustomize_roots(rendered)
    sharded = "" not in roots
    files: dict[str, list[dict[str, Any]]] = {}
    if gitops.argocd is not None:
        ignored = ignored_differences([item.obj for item in rendered])
        files[f"argocd/{name}.yaml"] = argocd_objects(environment, name, roots, sharded=sharded, ignored=ignored)
    if gitops.flux is not None:
        health: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for item in rendered:
            if item.kind == "Deployment":
                root = item.path.rpartition("/")[0]
                health[root].append(
                    {
                        "apiVersion": "apps/v1",
                        "kind": "Deployment",
                        "name": item.name,
                        "namespace": environment.namespace,
                    }
                )
        files[f"flux/{name}.yaml"] = flux_objects(environment, name, roots, health)
    return files


def _join(root: str, name: str) -> str:
    return f"{root}/{name}" if root else name


def _shown(path: tuple[str | int, ...]) -> str:
    shown = ""
    for segment in path:
        shown += f"[{segment}]" if isinstance(segment, int) else (f".{segment}" if shown else segment)
    return shown


__all__ = ["KUSTOMIZATION", "Rendered", "kustomize_roots", "render_environment", "render_gitops"]
