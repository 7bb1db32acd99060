"""The policy engine: a catalog of rules (data in policies/), evaluated over Kubernetes manifests."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from mlgitops.errors import UserError
from mlgitops.policy.catalog import Catalog, load_folders, shipped_catalog
from mlgitops.policy.config import PolicyConfig, load_config, param_problem
from mlgitops.policy.engine import evaluate
from mlgitops.policy.model import Finding, Policy, PolicyContext
from mlgitops.policy.severity import Severity


def load_catalog(extra_dirs: Sequence[Path] = (), config: PolicyConfig | None = None) -> Catalog:
    """The shipped catalog, then the config's and the command line's folders, with the config applied."""
    config = config or PolicyConfig()
    catalog = load_folders([shipped_catalog(), *config.policy_folders, *extra_dirs])
    for rule, settings in config.rules.items():
        if rule not in catalog.policies:
            where = config.locate(("rules", rule), key=True)
            raise UserError(f"rules.{rule}: no such policy (see `mlgitops policy list`)", where)
        policy = catalog.policies[rule]
        if settings.enabled is not None:
            policy.enabled = settings.enabled
        if settings.severity is not None:
            policy.severity = settings.severity
        if settings.environments is not None:
            policy.environments = tuple(settings.environments)
        if settings.params:
            for name, value in settings.params.items():
                where = config.locate(("rules", rule, "params", name))
                if name not in policy.params:
                    known = ", ".join(sorted(policy.params)) or "none"
                    raise UserError(f"rules.{rule}.params.{name}: {rule} has no parameter {name!r} (has: {known})", where)
                problem = param_problem(name, policy.params[name], value)
                if problem is not None:
                    raise UserError(f"rules.{rule}.{problem}", where)
            policy.params = {**policy.params, **settings.params}
    catalog.config_file = config.file
    catalog.gitops = config.gitops
    return catalog


def fails(findings: Sequence[Finding], threshold: Severity = Severity.ERROR) -> bool:
    """Whether any unwaived finding is at least as severe as ``threshold``."""
    return any(f.waiver is None and f.severity.at_least(threshold) for f in findings)


__all__ = [
    "Catalog",
    "Finding",
    "Policy",
    "PolicyConfig",
    "PolicyContext",
    "Severity",
    "evaluate",
    "fails",
    "load_catalog",
    "load_config",
    "replace",
]
