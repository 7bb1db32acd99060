"""Pure rendering: environment models in, Kubernetes objects (plain dicts) out."""

from __future__ import annotations

from generator.errors import Location, UserError, UserErrors
from generator.render.cluster import CLUSTER_FOLDER, render_node_pool, render_priority_classes
from generator.render.kustomize import kustomization
from generator.render.network import render_network_policies
from generator.render.rendered import Rendered, file_name
from generator.render.storage import render_claim
from generator.render.workloads import render_workload
from generator.source import SourceNode, locate
from generator.spec.checks import check_environment
from generator.spec.environment import Environment

KUSTOMIZATION = "kustomization.yaml"


def render_environment(environment: Environment, name: str, tree: SourceNode | None = None) -> list[Rendered]:
    """Every object of ``environment`` plus its kustomization.yaml, sorted by file name.

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

    rendered: list[Rendered] = []
    for index, volume in enumerate(environment.volumes):
        if volume.claim is not None:
            obj = render_claim(environment, name, volume)
            rendered.append(Rendered(obj, file_name(obj), source_of(("volumes", index))))
    for index, workload in enumerate(environment.workloads):
        source = source_of(("workloads", index))
        for obj in render_workload(environment, name, workload):
            rendered.append(Rendered(obj, file_name(obj), source))
    for obj in render_network_policies(environment, name):
        rendered.append(Rendered(obj, file_name(obj), source_of(("networkPolicy",))))
    cluster_scoped: list[Rendered] = []
    if environment.cluster.karpenter is not None:
        for index, pool in enumerate(environment.cluster.node_pools):
            obj = render_node_pool(environment, name, pool)
            cluster_scoped.append(
                Rendered(obj, f"{CLUSTER_FOLDER}/{file_name(obj)}", source_of(("cluster", "nodePools", index)))
            )
    for index, obj in enumerate(render_priority_classes(environment, name)):
        cluster_scoped.append(
            Rendered(obj, f"{CLUSTER_FOLDER}/{file_name(obj)}", source_of(("priorities", "classes", index)))
        )
    seen: dict[str, Rendered] = {}
    for item in [*rendered, *cluster_scoped]:
        if item.path in seen:
            first = seen[item.path].source
            also = f" (also from line {first.line})" if first is not None else ""
            raise UserError(f"two objects render to {item.kind} {item.name!r}{also}; rename one", item.source)
        seen[item.path] = item
    rendered.sort(key=lambda item: item.path)
    root = kustomization(environment, name, [item.path for item in rendered], environment.namespace)
    result = [*rendered, Rendered(root, KUSTOMIZATION, source_of(()))]
    if cluster_scoped:
        cluster_scoped.sort(key=lambda item: item.path)
        files = [item.path.removeprefix(f"{CLUSTER_FOLDER}/") for item in cluster_scoped]
        cluster_root = kustomization(environment, name, files, namespace=None)
        result += [
            *cluster_scoped,
            Rendered(cluster_root, f"{CLUSTER_FOLDER}/{KUSTOMIZATION}", source_of(("cluster",))),
        ]
    return result


def _shown(path: tuple[str | int, ...]) -> str:
    shown = ""
    for segment in path:
        shown += f"[{segment}]" if isinstance(segment, int) else (f".{segment}" if shown else segment)
    return shown


__all__ = ["KUSTOMIZATION", "Rendered", "render_environment"]
