"""The policy step of `render`: the catalog over each environment's rendered objects, plus budgets."""

from __future__ import annotations

from pathlib import Path

from generator.budget import budget_findings
from generator.loading import LoadedEnvironment
from generator.manifest import Manifest
from generator.pipeline import EnvironmentOutput
from generator.policy import Finding, Policy, PolicyContext, evaluate, load_catalog, load_config
from generator.spec.placement import pool_facts


def rendered_findings(
    loaded: list[LoadedEnvironment], outputs: list[EnvironmentOutput], output_dir: Path, policy_dirs: list[Path]
) -> tuple[list[Finding], dict[str, Policy]]:
    """Findings of every environment; locations point into the files render would write."""
    from generator.kube.custom_resources import project_schemas

    start = loaded[0].tree.location.file if loaded else "."
    catalog = load_catalog(policy_dirs, load_config(Path(start).parent))
    if "schema" in catalog.policies:
        # build() has already validated every object strictly; validating twice doubles the cost.
        catalog.policies["schema"].enabled = False
    findings: list[Finding] = []
    for environment, output in zip(loaded, outputs, strict=True):
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
        findings += evaluate(manifests, catalog, context)
        findings += budget_findings(environment, output)
    return findings, catalog.policies
