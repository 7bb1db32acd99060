"""Environment budgets (rule env-budget): the environment's total requests against its declared maximum."""

from __future__ import annotations

from decimal import Decimal

from generator.fleet.build import EnvironmentOutput
from generator.kube.footprint import Footprint, footprint, footprint_by_app
from generator.kube.manifest import ObjectRef
from generator.kube.quantity import format_bytes, format_cpu, parse_quantity
from generator.load.environments import LoadedEnvironment
from generator.policy.model import Finding

RULE = "env-budget"
FIX = "Lower the requests of the workloads named, or raise the environment's budget in its environment file."


def _top(by_app: dict[str, Footprint], measure: str) -> str:
    def amount(item: Footprint) -> Decimal:
        return Decimal(item.gpu_total) if measure == "gpus" else getattr(item, measure)

    shown = {"gpus": lambda v: str(int(v)), "cpu": format_cpu, "memory": format_bytes}[measure]
    ranked = sorted(((amount(v), k) for k, v in by_app.items() if amount(v) > 0), reverse=True)
    return ", ".join(f"{name} {shown(value)}" for value, name in ranked)


def budget_findings(loaded: LoadedEnvironment, output: EnvironmentOutput) -> list[Finding]:
    budget = loaded.spec.budget
    if budget is None:
        return []
    objects = [item.obj for item in output.objects]
    total = footprint(objects)
    by_app = footprint_by_app(objects)
    ref = ObjectRef("", "Environment", loaded.spec.namespace, loaded.name)
    findings = []
    checks = (
        ("gpus", Decimal(budget.gpus) if budget.gpus is not None else None, Decimal(total.gpu_total), lambda v: str(int(v))),
        ("cpu", parse_quantity(budget.cpu) if budget.cpu is not None else None, total.cpu, format_cpu),
        ("memory", parse_quantity(budget.memory) if budget.memory is not None else None, total.memory, format_bytes),
    )
    for measure, limit, used, shown in checks:
        if limit is None or used <= limit:
            continue
        findings.append(
            Finding(
                rule=RULE,
                severity="error",
                message=(
                    f"environment {loaded.name!r} requests {shown(used)} {measure} in total, over its budget of "
                    f"{shown(limit)}: {_top(by_app, measure)}"
                ),
                object_ref=ref,
                location=loaded.locate(("budget", measure)),
                source=loaded.locate(("budget", measure)),
                fix=FIX,
            )
        )
    return findings
