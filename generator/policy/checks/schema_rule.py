"""The `schema` rule: strict structural validation (kubernetes-validate schemas, CRD schemas)."""

from __future__ import annotations

from collections.abc import Iterator

from generator.errors import UserError
from generator.kube import schema
from generator.kube.manifest import Manifest
from generator.policy.model import Policy, PolicyContext, Violation

Found = Iterator[tuple[Manifest, Violation]]


def schema_check(manifests: list[Manifest], policy: Policy, context: PolicyContext) -> Found:
    from generator.kube.custom_resources import project_schemas

    custom = context.custom_schemas or project_schemas()
    for manifest in manifests:
        obj = manifest.obj
        try:
            problems = schema.validate(obj, context.kubernetes_version)
        except schema.UnknownKind:
            if not custom.knows(obj):
                yield (
                    manifest,
                    Violation(
                        f"no schema for {obj.get('apiVersion')} {obj.get('kind')}: not validated (pass its CRD with --crd)",
                        ("kind",),
                        severity="info",
                    ),
                )
                continue
            problems = custom.validate(obj, context.kubernetes_version)
        except UserError as error:
            yield manifest, Violation(error.message, ("apiVersion",))
            continue
        for problem in problems:
            where = ".".join(str(p) for p in problem.path) or "(object)"
            yield (
                manifest,
                Violation(f"{where}: {problem.message}", problem.path, at_key=problem.message.startswith("unknown field")),
            )
