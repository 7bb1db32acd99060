"""Plain helpers of the policy tests (fixtures live in conftest.py): evaluate text, write files."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from mlgitops.kube.manifest import Manifest, load_manifests
from mlgitops.policy import Catalog, Finding, PolicyContext, evaluate

REPO = Path(__file__).resolve().parents[2]
SEED_PITFALLS = REPO / "tests" / "manifests" / "seed_pitfalls"


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
