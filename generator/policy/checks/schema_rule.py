"""The `schema` rule: strict structural validation (kubernetes-validate schemas, CRD schemas)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from mlgitops.errors import UserError
from mlgitops.kube import schema
from mlgitops.kube.defaults import has_null, without_nulls
from mlgitops.kube.manifest import Manifest
from mlgitops.policy.checks import check
from mlgitops.policy.model import Policy, PolicyContext, Violation
from mlgitops.policy.severity import Severity

Found = Iterator[tuple[Manifest, Violation]]


def _validated(obj: dict[str, Any], version: str, custom: Any) -> list[schema.SchemaProblem]:
    try:
        return schema.validate(obj, version)
    except schema.UnknownKind:
        return list(custom.validate(obj, version))


def _api_version_problem(obj: dict[str, Any], version: str) -> bool:
    from mlgitops.kube.api_versions import api_version_problem

    return api_version_problem(str(obj.get("apiVersion")), str(obj.get("kind")), version) is not None


@check("schema")
def schema_check(manifests: list[Manifest], policy: Policy, context: PolicyContext) -> Found:
    from mlgitops.kube.custom_resources import upstream_schemas

    custom = context.custom_schemas or upstream_schemas()
    for manifest in manifests:
        obj = manifest.obj
        version = context.version_for(manifest)
        try:
            problems = schema.validate(obj, version)
        except schema.UnknownKind:
            served_from = schema.first_serving_version(str(obj.get("apiVersion")), str(obj.get("kind")))
            if served_from is not None and not custom.knows(obj):
                # A built-in API of a newer Kubernetes (resource.k8s.io/v1 from 1.34): not a CRD to pass.
                yield (
                    manifest,
                    Violation(
                        f"{obj.get('apiVersion')} {obj.get('kind')} is served from Kubernetes {served_from} on, but this "
                        f"run validates for {version}: pass --kubernetes-version {served_from} (or the "
                        "cluster's, if newer) to validate it",
                        ("apiVersion",),
                        severity=Severity.INFO,
                    ),
                )
                continue
            if not custom.knows(obj) and _api_version_problem(obj, version):
                continue  # a built-in kind under a version the target does not serve: the api-version rule says so
            if not custom.knows(obj):
                yield (
                    manifest,
                    Violation(
                        f"no schema for {obj.get('apiVersion')} {obj.get('kind')}: not validated (pass its CRD with --crd)",
                        ("kind",),
                        severity=Severity.INFO,
                    ),
                )
                continue
            problems = custom.validate(obj, version)
        except UserError as error:
            yield manifest, Violation(error.message, ("apiVersion",))
            continue
        if problems and has_null(obj):
            problems = _validated(without_nulls(obj), version, custom)  # null is unset, as the API server takes it
        for problem in problems:
            where = ".".join(str(p) for p in problem.path) or "(object)"
            message = schema.worded(problem, manifest.written(problem.path))
            yield (
                manifest,
                Violation(f"{where}: {message}", problem.path, at_key=problem.message.startswith("unknown field")),
            )
