"""`mlgitops policy test`: every policy against its own pass and fail examples."""

from __future__ import annotations

from dataclasses import dataclass, replace

from mlgitops.errors import UserError
from mlgitops.kube.cluster import NodePoolFacts, Taint
from mlgitops.kube.manifest import load_manifests
from mlgitops.kube.quantity import parse_quantity
from mlgitops.policy.catalog import Catalog
from mlgitops.policy.engine import evaluate
from mlgitops.policy.model import Policy, PolicyContext
from mlgitops.policy.policy_file import Example, ExampleNodePool
from mlgitops.policy.waivers import WAIVER_RULE


@dataclass(frozen=True)
class ExampleResult:
    policy: str
    kind: str  # "pass" or "fail"
    index: int
    ok: bool
    detail: str


def _pools(pools: list[ExampleNodePool]) -> tuple[NodePoolFacts, ...]:
    return tuple(
        NodePoolFacts(
            pool.name,
            dict(pool.labels),
            tuple(Taint(key=taint.key, effect=taint.effect, value=taint.value) for taint in pool.taints),
            {resource: parse_quantity(str(amount)) for resource, amount in pool.allocatable.items()},
            max_nodes=pool.max_nodes,
        )
        for pool in pools
    )


def run_example(catalog: Catalog, policy: Policy, example: Example, kind: str, index: int) -> ExampleResult:
    shown = f"{policy.file}#{kind}[{index}]"
    try:
        manifests = load_manifests(example.manifest, shown)
    except UserError as error:
        return ExampleResult(policy.id, kind, index, False, f"example does not parse: {error.one_line()}")
    context = PolicyContext(environment=example.environment, node_pools=_pools(example.node_pools))
    # Only this policy (and waivers) run, so an example shows this rule's behaviour alone.
    own = Catalog(
        {
            pid: p if pid == policy.id or p.check == WAIVER_RULE else replace(p, enabled=False)
            for pid, p in catalog.policies.items()
        }
    )
    findings = [f for f in evaluate(manifests, own, context) if f.rule == policy.id and f.waiver is None]
    if kind == "pass":
        if findings:
            first = findings[0]
            return ExampleResult(
                policy.id,
                kind,
                index,
                False,
                f"expected no finding, got {first.location.line}:{first.location.column}: {first.message}",
            )
        return ExampleResult(policy.id, kind, index, True, "no finding")
    if not findings:
        return ExampleResult(policy.id, kind, index, False, "expected a finding, got none")
    if example.expect is not None:
        positions = [(f.location.line, f.location.column) for f in findings]
        if example.expect not in positions:
            return ExampleResult(
                policy.id,
                kind,
                index,
                False,
                f"expected a finding at {example.expect[0]}:{example.expect[1]}, got "
                + ", ".join(f"{line}:{column}" for line, column in positions),
            )
    first = findings[0]
    return ExampleResult(policy.id, kind, index, True, f"{first.location.line}:{first.location.column}: {first.message}")


def run_catalog_examples(catalog: Catalog, only: set[str] | None = None) -> list[ExampleResult]:
    results = []
    for policy_id, policy in sorted(catalog.policies.items()):
        if only is not None and policy_id not in only:
            continue
        for index, example in enumerate(policy.examples_pass):
            results.append(run_example(catalog, policy, example, "pass", index))
        for index, example in enumerate(policy.examples_fail):
            results.append(run_example(catalog, policy, example, "fail", index))
    return results
