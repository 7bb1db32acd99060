"""Plain helpers of the policy and rule tests (fixtures live in conftest.py): evaluate text, write files, shared manifests."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from mlgitops.kube.cluster import NodePoolFacts
from mlgitops.kube.manifest import Manifest, load_manifests
from mlgitops.policy import Catalog, Finding, PolicyContext, evaluate

REPO = Path(__file__).resolve().parents[2]
MANIFESTS = REPO / "tests" / "manifests"
SEED_PITFALLS = MANIFESTS / "seed_pitfalls"


def manifest(name: str) -> str:
    """The text of a manifest the rule tests share (tests/manifests/NAME)."""
    return (MANIFESTS / name).read_text(encoding="utf-8")


PYTORCHJOB = manifest("pytorchjob.yaml")
"""A PyTorchJob of one GPU per pod: a Master without a cpu request, and a Worker."""
GPU_JOB = manifest("gpu-job.yaml")
"""A GPU Job on the a100 pool, tolerating its taint: the GPU rules' starting point."""
SERVE_WITH_HPA = manifest("serve-with-hpa.yaml")
"""A Deployment under a HorizontalPodAutoscaler, with its own claim and an external one."""
NIGHTLY = manifest("nightly-cronjob.yaml")
"""A nightly CronJob with an init container."""


def findings_in(
    text: str,
    catalog: Catalog,
    *,
    file: str = "manifest.yaml",
    context: PolicyContext | None = None,
    rule: str | None = None,
) -> list[Finding]:
    """Every finding of the catalog (or of one rule) on the manifests of one YAML text."""
    found = evaluate(load_manifests(text, file), catalog, context or PolicyContext())
    return [f for f in found if rule is None or f.rule == rule]


def positions(findings: Sequence[Finding]) -> list[tuple[str, int, int]]:
    return [(f.rule, f.location.line, f.location.column) for f in findings]


def manifests_of(text: str, file: str = "manifest.yaml", **fields: object) -> list[Manifest]:
    """Manifests as the renderer hands them over: with a source line and an environment when given."""
    found = load_manifests(text, file)
    for manifest in found:
        for name, value in fields.items():
            setattr(manifest, name, value)
    return found


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def _found(
    catalog: Catalog, text: str, rule: str, pools: tuple[NodePoolFacts, ...] = (), gitops: tuple[str, ...] | None = None
) -> list[tuple[int, int, str]]:
    found = findings_in(text, catalog, context=PolicyContext(node_pools=pools, gitops=gitops), rule=rule)
    return [(f.location.line, f.location.column, f.message) for f in found]


def located(text: str, catalog: Catalog, rule: str) -> list[tuple[int, int, str]]:
    """(line, column, message) of each finding of ``rule`` in ``text``."""
    return [(f.location.line, f.location.column, f.message) for f in findings_in(text, catalog, rule=rule)]
