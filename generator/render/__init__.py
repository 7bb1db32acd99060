"""Pure rendering: environment models in, Kubernetes objects (plain dicts) out."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field, replace
from typing import Any

from mlgitops.errors import Location, UserError, UserErrors
from mlgitops.kube.readiness import startup_window
from mlgitops.paths import same_file_key
from mlgitops.render.alert_objects import render_prometheus_rule
from mlgitops.render.alert_rules import derive_alerts
from mlgitops.render.budget_split import split_budget
from mlgitops.render.cluster import CLUSTER_FOLDER, render_node_pool, render_priority_classes
from mlgitops.render.config_maps import MissingFile, render_config_maps
from mlgitops.render.extras import extra_file_name, extra_objects
from mlgitops.render.gitops import add_sync_wave, argocd_objects, flux_objects, ignored_differences
from mlgitops.render.identity import render_shared_service_accounts
from mlgitops.render.kueue_objects import render_cluster_queueing, render_local_queues
from mlgitops.render.kustomize import built, kustomization
from mlgitops.render.network import render_network_policies
from mlgitops.render.patches import PatchError, apply_patches
from mlgitops.render.quota import render_limit_range, render_resource_quota
from mlgitops.render.rendered import FieldPath, Rendered, file_name
from mlgitops.render.secrets import render_external_secrets
from mlgitops.render.storage import render_claim
from mlgitops.render.workloads import render_workload
from mlgitops.spec.checks import check_environment
from mlgitops.spec.environment import Environment
from mlgitops.spec.queues import QuotaError
from mlgitops.yaml.source import SourceNode, locate

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

    extras = _extra_manifests(environment, tree)
    try:
        namespaced, cluster_scoped = _objects(environment, name, [extra.obj for _, extra in extras])
    except (PatchError, QuotaError) as error:
        raise _located(tree, error.path, error.message) from None
    except MissingFile as error:
        raise UserError(
            f"file {error} was not read: load the environment with load_environments(), or call with_files()"
        ) from None

    gitops = environment.gitops
    if gitops is not None and gitops.argocd is not None:
        for obj in [entry.obj for entry in namespaced] + [entry.obj for entry in cluster_scoped]:
            add_sync_wave(obj)
    sharded = gitops is not None and len(namespaced) + len(extras) > gitops.max_objects_per_root

    roots: dict[str, list[Rendered]] = defaultdict(list)
    for entry in namespaced:
        root = entry.group if sharded else ""
        item = Rendered(entry.obj, _join(root, file_name(entry.obj)), source_of(entry.origin), entry.origin, entry.patched)
        roots[root].append(item)
    for entry in cluster_scoped:
        item = Rendered(entry.obj, _join(CLUSTER_FOLDER, file_name(entry.obj)), source_of(entry.origin), entry.origin)
        roots[CLUSTER_FOLDER].append(item)
    for group, extra in extras:
        root = group if sharded else ""
        roots[root].append(replace(extra, path=_join(root, extra.path)))

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
        files = sorted({item.path.removeprefix(f"{root}/") if root else item.path for item in items})
        root_file = kustomization(environment, name, files, namespace)
        source = source_of(("cluster",)) if root == CLUSTER_FOLDER else source_of(())
        result += [*items, Rendered(root_file, _join(root, KUSTOMIZATION), source)]
    return result


@dataclass
class _Made:
    """An object on its way to a file: its kustomize group, the spec field it came from, fields patches wrote."""

    obj: dict[str, Any]
    group: str
    origin: FieldPath
    patched: dict[FieldPath, FieldPath] = field(default_factory=dict)


def _objects(environment: Environment, name: str, extras: list[dict[str, Any]]) -> tuple[list[_Made], list[_Made]]:
    """Every namespaced and cluster-scoped object the spec renders, with patches applied; ``extras`` are the extra
    manifests' objects, which the budget split counts too."""
    namespaced: list[_Made] = []
    for index, volume in enumerate(environment.volumes):
        if volume.claim is not None:
            namespaced.append(_Made(render_claim(environment, name, volume), SHARED_GROUP, ("volumes", index)))
    namespaced += [_Made(obj, SHARED_GROUP, ("configMaps", i)) for i, obj in enumerate(render_config_maps(environment, name))]
    namespaced += [
        _Made(obj, SHARED_GROUP, ("serviceAccounts", i))
        for i, obj in enumerate(render_shared_service_accounts(environment, name))
    ]
    for index, workload in enumerate(environment.workloads):
        objects = render_workload(environment, name, workload)
        at = ("workloads", index)
        patched = apply_patches(
            objects, workload.patches, environment.kubernetes_version, at=(*at, "patches"), workload=workload.name
        )
        namespaced += [_Made(item.obj, workload.group, at, item.origins) for item in patched]
    for obj, workload_index in render_network_policies(environment, name):
        if workload_index is None:
            namespaced.append(_Made(obj, SHARED_GROUP, ("networkPolicy",)))
        else:
            # An allow rule belongs with the server it opens (same shard, same source line).
            opened = environment.workloads[workload_index]
            namespaced.append(_Made(obj, opened.group, ("workloads", workload_index)))
    namespaced += [
        _Made(obj, SHARED_GROUP, ("externalSecrets", index))
        for index, obj in enumerate(render_external_secrets(environment, name))
    ]
    namespaced += [_Made(obj, SHARED_GROUP, ("kueue",)) for obj in render_local_queues(environment, name)]
    rule = render_prometheus_rule(environment, name, derive_alerts(environment, name))
    if rule is not None:
        namespaced.append(_Made(rule, SHARED_GROUP, ("monitoring",)))
    # The budget split counts the workloads as rendered and patched (and the extra manifests): what serving keeps at
    # its maximum, and what Kueue's flavors get, so that the quotas below add up to the budget.
    split = split_budget(environment, [made.obj for made in namespaced] + extras)
    quota = render_resource_quota(environment, name, split.accelerators)
    if quota is not None:
        namespaced.append(_Made(quota, SHARED_GROUP, ("budget",)))
    limits = render_limit_range(environment, name)
    if limits is not None:
        namespaced.append(_Made(limits, SHARED_GROUP, ("limitRange",) if environment.limit_range else ("budget",)))
    if environment.patches:
        patched = apply_patches([m.obj for m in namespaced], environment.patches, environment.kubernetes_version, at=("patches",))
        for made, item in zip(namespaced, patched, strict=True):
            made.obj = item.obj
            made.patched = {**made.patched, **item.origins}
    cluster_scoped: list[_Made] = []
    if environment.cluster.karpenter is not None:
        for index, pool in enumerate(environment.cluster.node_pools):
            cluster_scoped.append(
                _Made(render_node_pool(environment, name, pool), CLUSTER_FOLDER, ("cluster", "nodePools", index))
            )
    for index, obj in enumerate(render_priority_classes(environment, name)):
        cluster_scoped.append(_Made(obj, CLUSTER_FOLDER, ("priorities", "classes", index)))
    queueing = render_cluster_queueing(environment, name, split.flavors)
    cluster_scoped += [_Made(obj, CLUSTER_FOLDER, path) for obj, path in queueing]
    return namespaced, cluster_scoped


def _extra_manifests(environment: Environment, tree: SourceNode | None) -> list[tuple[str, Rendered]]:
    """(group, object) of every extra manifest the environment and its workloads name."""
    named: list[tuple[str, FieldPath]] = [(SHARED_GROUP, ("manifests", i)) for i in range(len(environment.manifests))]
    for index, workload in enumerate(environment.workloads):
        named += [(workload.group, ("workloads", index, "manifests", i)) for i in range(len(workload.manifests))]
    found: list[tuple[str, Rendered]] = []
    first: dict[str, str] = {}
    for group, at in named:
        read = environment.repository_file(at)
        if read is None:
            raise UserError(
                f"{_shown(at)}: the file was not read: load the environment with load_environments(), or call with_files()"
            )
        target = extra_file_name(read.shown)
        # One file on macOS and Windows checkouts too: names that differ only in letter case collide.
        if first.setdefault(same_file_key(target), read.shown) != read.shown:
            earlier = first[same_file_key(target)]
            if extra_file_name(earlier) == target:
                raise _located(tree, at, f"{read.shown} and {earlier} would both be copied to {target}; rename one")
            raise _located(
                tree,
                at,
                f"{read.shown} and {earlier} would be copied to {target} and {extra_file_name(earlier)}, which differ "
                "only in letter case: one file on macOS and Windows checkouts; rename one",
            )
        found += [(group, item) for item in extra_objects(read, at, environment.namespace)]
    return found


def _located(tree: SourceNode | None, path: FieldPath, message: str) -> UserError:
    if tree is None:
        return UserError(f"{_shown(path)}: {message}")
    where, shown = locate(tree, path)
    return UserError(f"{shown}: {message}", where)


def kustomize_roots(rendered: list[Rendered]) -> list[str]:
    """Folders (relative to rendered/<env>/) that hold a kustomization.yaml, '' for the folder itself."""
    return sorted(item.path.removesuffix(KUSTOMIZATION).rstrip("/") for item in rendered if item.path.endswith(KUSTOMIZATION))


def built_objects(rendered: list[Rendered]) -> list[dict[str, Any]]:
    """Every object of an environment (kustomizations left out) as `kustomize build` of its root emits it.

    What `template` and `render --stdout` print: the rendered objects as they are, extra manifests
    with the namespace and labels of the root that lists them.
    """
    roots = {
        item.path.removesuffix(KUSTOMIZATION).rstrip("/"): item.obj for item in rendered if item.path.endswith(KUSTOMIZATION)
    }
    objects = []
    for item in rendered:
        if item.path.endswith(KUSTOMIZATION):
            continue
        folder = item.path.rpartition("/")[0]
        while folder not in roots and folder:
            folder = folder.rpartition("/")[0]
        objects.append(built(item.obj, roots[folder]) if item.is_extra else item.obj)
    return objects


def render_gitops(environment: Environment, name: str, rendered: list[Rendered]) -> dict[str, list[dict[str, Any]]]:
    """ArgoCD and Flux objects for the environment, by file path relative to the rendered folder; raises GitOpsError
    (render/gitops.py) at the spec field that asks for what the controllers cannot do."""
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
        windows: dict[str, tuple[int, str]] = {}
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
                window = startup_window(item.obj["spec"]["template"]["spec"])
                windows[root] = max(windows.get(root, (0, "")), (window, item.name))
        files[f"flux/{name}.yaml"] = flux_objects(environment, name, roots, health, windows)
    return files


def _join(root: str, name: str) -> str:
    return f"{root}/{name}" if root else name


def _shown(path: tuple[str | int, ...]) -> str:
    shown = ""
    for segment in path:
        shown += f"[{segment}]" if isinstance(segment, int) else (f".{segment}" if shown else segment)
    return shown


__all__ = ["KUSTOMIZATION", "Rendered", "built_objects", "kustomize_roots", "render_environment", "render_gitops"]
