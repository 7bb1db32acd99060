"""The policy engine: a catalog of rules (data in policies/), evaluated over Kubernetes manifests."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from generator.policy.catalog import Catalog, load_folders, shipped_catalog
from generator.policy.config import PolicyConfig, load_config
from generator.policy.engine import evaluate
from generator.policy.model import SEVERITY_RANK, Finding, Policy, PolicyContext


def load_catalog(extra_dirs: Sequence[Path] = (), config: PolicyConfig | None = None) -> Catalog:
    """The shipped catalog, then the config's and the command line's folders, with the config applied."""
    config = config or PolicyConfig()
    catalog = load_folders([shipped_catalog(), *config.policy_folders, *extra_dirs])
    for rule, settings in config.rules.items():
        if rule not in catalog.policies:
            from generator.errors import Location, UserError

            where = settings.location or (Location(config.file, 1, 1) if config.file else None)
            raise UserError(f"rules.{rule}: no such policy (see `mlgitops policy list`)", where)
        policy = catalog.policies[rule]
        if settings.enabled is not None:
            policy.enabled = settings.enabled
        if settings.severity is not None:
            policy.severity = settings.severity
        if settings.environments is not None:
            policy.environments = settings.environments
        if settings.params:
            policy.params = {**policy.params, **settings.params}
    return catalog


def fails(findings: Sequence[Finding], threshold: str = "error") -> bool:
    """Whether any unwaived finding is at least as severe as ``threshold``."""
    return any(f.waiver is None and SEVERITY_RANK[f.severity] >= SEVERITY_RANK[threshold] for f in findings)


__all__ = [
    "Catalog",
    "Finding",
    "Policy",
    "PolicyConfig",
    "PolicyContext",
    "evaluate",
    "fails",
    "load_catalog",
    "load_config",
    "replace",
]
