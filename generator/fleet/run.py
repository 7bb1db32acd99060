"""Every environment through build and the policy step of `render`, spread over two cores when it pays."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from generator.errors import UserError, UserErrors
from generator.fleet.budget import budget_findings
from generator.fleet.build import EnvironmentOutput, build
from generator.fleet.parallel import map_in_two
from generator.kube.manifest import Manifest
from generator.load.environments import LoadedEnvironment
from generator.policy import Catalog, Finding, Policy, PolicyContext, evaluate, load_catalog, load_config
from generator.spec.placement import pool_facts

# Workloads (over all environments) from which the environments are split over two processes:
# one workload renders, validates and is checked in about 3 ms; a fork and a pickle cost ~10 ms.
RENDER_IN_TWO_FROM = 30


@dataclass
class RenderedFleet:
    """Each environment's output and the findings on it; locations point into the files render writes."""

    outputs: list[EnvironmentOutput]
    findings_by_environment: dict[str, list[Finding]]
    policies: dict[str, Policy]
    config_file: str | None = None
    """The .mlgitops.yaml the policy step applied, if any."""

    @property
    def findings(self) -> list[Finding]:
        return [finding for output in self.outputs for finding in self.findings_by_environment[output.name]]


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

    def one(environment: LoadedEnvironment) -> tuple[EnvironmentOutput, list[Finding]] | UserError:
        try:
            output = build(environment)
        except UserError as error:  # returned: it may come back from the other process
            return error
        return output, environment_findings(environment, output, output_dir, catalog)

    weights = [max(1, len(environment.spec.workloads)) for environment in loaded]
    results = map_in_two(one, loaded, weights, min_weight=RENDER_IN_TWO_FROM, advance=advance)
    errors: list[UserError] = []
    fleet = RenderedFleet([], {}, catalog.policies, catalog.config_file)
    for result in results:
        if isinstance(result, UserErrors):
            errors += result.errors
        elif isinstance(result, UserError):
            errors.append(result)
        else:
            fleet.outputs.append(result[0])
            fleet.findings_by_environment[result[0].name] = result[1]
    if errors:
        raise UserErrors(errors)
    return fleet


def environment_findings(
    environment: LoadedEnvironment, output: EnvironmentOutput, output_dir: Path, catalog: Catalog
) -> list[Finding]:
    """The catalog and the budget over one environment's rendered objects."""
    from generator.kube.custom_resources import project_schemas

    manifests = [
        Manifest(
            obj=item.obj,
            file=f"{output_dir.as_posix().rstrip('/')}/{output.name}/{item.path}",
            text=output.files[item.path],
            source=item.source,
            environment=output.name,
        )
        for item in output.objects
    ]
    context = PolicyContext(
        environment=output.name,
        node_pools=tuple(pool_facts(pool) for pool in environment.spec.cluster.node_pools),
        kubernetes_version=output.kubernetes_version,
        custom_schemas=project_schemas(),
    )
    return evaluate(manifests, catalog, context) + budget_findings(environment, output)
