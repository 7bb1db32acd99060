"""Every environment through build and the policy step of `render`, spread over two cores when it pays."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlgitops.errors import UserError
from mlgitops.fleet.build import EnvironmentOutput, build
from mlgitops.fleet.cost import budget_warning
from mlgitops.fleet.provenance import environment_fix, field_source
from mlgitops.fleet.shared_findings import once_per_file
from mlgitops.kube.manifest import Manifest
from mlgitops.load.environments import LoadedEnvironment, shared_errors
from mlgitops.policy import Catalog, Finding, Policy, PolicyContext, evaluate, load_catalog, load_config, replace
from mlgitops.processes.staged import map_staged_in_two
from mlgitops.render.extras import as_manifest
from mlgitops.render.rendered import Rendered
from mlgitops.spec.gitops import GitOps
from mlgitops.spec.placement import pool_facts

# Workloads (over all environments) from which the environments are split over two processes:
# one workload renders, validates and is checked in about 3 ms; a fork and a pickle cost ~10 ms.
RENDER_IN_TWO_FROM = 30
# The share of an environment's time spent building it (render, validate, write the texts); the
# rest is the policy step. Measured at N=1000: ~1.3 s of build and ~1.4 s of policies for 3 environments.
BUILD_SHARE = 0.5


@dataclass
class RenderedFleet:
    """Each environment's output and the findings on it; locations point into the files render writes."""

    outputs: list[EnvironmentOutput]
    findings_by_environment: dict[str, list[Finding]]
    policies: dict[str, Policy]
    config_file: str | None = None
    """The .mlgitops.yaml the policy step applied, if any."""
    warnings: list[str] = field(default_factory=list)
    """Located one-line warnings that do not block writing (an environment's cost above budget.costPerHour)."""

    @property
    def findings(self) -> list[Finding]:
        """Every environment's findings; those in an extra manifest several environments share reported once, naming
        the environments (fleet/shared_findings.py)."""
        shared = {output.name: {item.file for item in output.objects if item.is_extra and item.file} for output in self.outputs}
        ordered = {output.name: self.findings_by_environment[output.name] for output in self.outputs}
        return once_per_file(ordered, shared)


def render_catalog(loaded: list[LoadedEnvironment], policy_dirs: list[Path]) -> Catalog:
    """The catalog render checks with: the repository's config, strict schema validation left to build()."""
    start = loaded[0].tree.location.file if loaded else "."
    catalog = load_catalog(policy_dirs, load_config(Path(start).parent))
    if "schema" in catalog.policies:
        # build() has already validated every object strictly; validating twice doubles the cost.
        catalog.policies["schema"].enabled = False
    return catalog


def render_fleet(
    loaded: list[LoadedEnvironment],
    output_dir: Path,
    policy_dirs: list[Path],
    advance: Callable[[int], None] | None = None,
) -> RenderedFleet:
    """Build and check every environment; every environment's errors are raised together.

    ``advance(workloads)`` reports progress as each environment is done (for a progress line).
    """
    catalog = render_catalog(loaded, policy_dirs)

    def checked(
        environment: LoadedEnvironment, output: EnvironmentOutput | UserError
    ) -> tuple[EnvironmentOutput, list[Finding]] | UserError:
        if isinstance(output, UserError):
            return output
        return output, environment_findings(environment, output, output_dir, catalog)

    weights = [max(1, len(environment.spec.workloads)) for environment in loaded]
    results = map_staged_in_two(
        _built, checked, loaded, weights, first_share=BUILD_SHARE, min_weight=RENDER_IN_TWO_FROM, advance=advance
    )
    errors: list[tuple[str, str, UserError]] = []
    fleet = RenderedFleet([], {}, catalog.policies, catalog.config_file)
    for environment, result in zip(loaded, results, strict=True):
        if isinstance(result, UserError):
            errors.append((environment.name, environment.file, result))
        else:
            fleet.outputs.append(result[0])
            fleet.findings_by_environment[result[0].name] = result[1]
    if errors:
        raise shared_errors(errors)
    for environment, output in zip(loaded, fleet.outputs, strict=True):
        warning = budget_warning(environment, [item.obj for item in output.objects])
        if warning is not None:
            fleet.warnings.append(warning)
    return fleet


def _built(environment: LoadedEnvironment) -> EnvironmentOutput | UserError:
    try:
        return build(environment)
    except UserError as error:  # returned: it may come back from the other process
        return error


def wanted_files(outputs: list[EnvironmentOutput], *, gitops: bool) -> dict[str, dict[str, str]]:
    """Folder of rendered/ → file → text; ``gitops`` adds the ArgoCD/Flux folders, which hold every environment's file."""
    wanted: dict[str, dict[str, str]] = {output.name: output.files for output in outputs}
    if gitops:
        for output in outputs:
            for path, content in output.gitops_files.items():
                folder, _, name = path.partition("/")
                wanted.setdefault(folder, {})[name] = content
    return wanted


def environment_findings(
    environment: LoadedEnvironment, output: EnvironmentOutput, output_dir: Path, catalog: Catalog
) -> list[Finding]:
    """The catalog over one environment's objects, each finding pointing at the environment-file line to change.

    Nothing has been written yet (and an error finding means nothing will be), so findings on
    rendered objects point at the spec field that produced the offending field, with the fix in
    environment-file terms; findings on extra manifests point into the user's own files.
    """
    from mlgitops.kube.custom_resources import upstream_schemas

    manifests: list[Manifest] = []
    items: dict[tuple[str, str], Rendered] = {}
    for item in output.objects:
        if item.is_extra:
            manifests.append(as_manifest(item, output.name, environment.spec.namespace))
            continue
        items[(item.kind, item.name)] = item
        manifests.append(
            Manifest(
                obj=item.obj,
                file=f"{output_dir.as_posix().rstrip('/')}/{output.name}/{item.path}",
                text=output.files[item.path],
                source=item.source,
                environment=output.name,
            )
        )
    for virtual in _checked_not_rendered(environment, [item.obj for item in output.objects]):
        items[(virtual.kind, virtual.name)] = virtual
        manifests.append(Manifest(obj=virtual.obj, file=environment.file, source=virtual.source, environment=output.name))
    context = PolicyContext(
        environment=output.name,
        node_pools=tuple(pool_facts(pool) for pool in environment.spec.cluster.node_pools),
        kubernetes_version=output.kubernetes_version,
        custom_schemas=upstream_schemas(),  # lint's judgement; render proved its own objects in validate_objects
        gitops=_engines(environment.spec.gitops),
    )
    findings = evaluate(manifests, catalog, context)
    # A PyTorchJob's Master and Worker, a LeaderWorkerSet's leader and worker come from one spec line:
    # findings that say the same about the same object at the same line are one, whichever template
    # (field path) of the rendered object they were found in.
    unique: dict[tuple[object, ...], Finding] = {}
    for finding in findings:
        located = _in_spec_terms(finding, items, environment, catalog)
        key = (located.rule, located.location, located.message, located.object_ref, located.waiver, located.source)
        unique.setdefault(key, located)
    return sorted(unique.values(), key=lambda f: f.sort_key)


def _checked_not_rendered(environment: LoadedEnvironment, objects: list[dict[str, Any]]) -> list[Rendered]:
    """What the spec declares without rendering it, as objects the catalog can judge (``objects``: those rendered).

    A budget with `enforce: false` is still checked as a quota; node pools without Karpenter are
    still checked as node pools (rule gpu-pool-taint).
    """
    from mlgitops.render.budget_split import split_budget
    from mlgitops.render.quota import render_resource_quota

    spec = environment.spec
    virtual: list[Rendered] = []
    if spec.budget is not None and not spec.budget.enforce:
        enforced = spec.model_copy(update={"budget": spec.budget.model_copy(update={"enforce": True})})
        quota = render_resource_quota(enforced, environment.name, split_budget(enforced, objects).accelerators)
        if quota is not None:
            virtual.append(Rendered(quota, "", environment.locate(("budget",)), ("budget",)))
    if spec.cluster.karpenter is None:
        for index, pool in enumerate(spec.cluster.node_pools):
            node: dict[str, Any] = {"taints": [{"key": t.key, "effect": t.effect} for t in pool.taints]}
            obj = {
                "apiVersion": "karpenter.sh/v1",
                "kind": "NodePool",
                "metadata": {"name": pool.name},
                "spec": {"template": {"spec": node}, "limits": {pool.gpu_resource: str(pool.allocatable.gpus)}},
            }
            if pool.allocatable.gpus:
                origin = ("cluster", "nodePools", index)
                virtual.append(Rendered(obj, "", environment.locate(origin), origin))
    return virtual


def _in_spec_terms(
    finding: Finding, items: dict[tuple[str, str], Rendered], environment: LoadedEnvironment, catalog: Catalog
) -> Finding:
    item = items.get((finding.object_ref.kind, finding.object_ref.name))
    if item is None:
        return finding
    location = field_source(item, finding.path, environment) or finding.location
    return replace(finding, location=location, source=None, fix=environment_fix(finding, catalog.policies.get(finding.rule)))


def _engines(gitops: GitOps | None) -> tuple[str, ...] | None:
    """The GitOps engines the environment deploys with (None: the environment names none, .mlgitops.yaml may)."""
    if gitops is None:
        return None
    found = tuple(name for name, engine in (("argocd", gitops.argocd), ("flux", gitops.flux)) if engine is not None)
    return found or None
