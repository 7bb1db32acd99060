"""The `api-version` rule: built-in kinds under an apiVersion the target Kubernetes does not serve, or deprecates."""

from __future__ import annotations

from collections.abc import Iterator

from mlgitops.errors import UserError
from mlgitops.kube.api_versions import api_version_problem
from mlgitops.kube.manifest import Manifest
from mlgitops.policy.checks import check
from mlgitops.policy.model import Policy, PolicyContext, Violation
from mlgitops.policy.severity import Severity

Found = Iterator[tuple[Manifest, Violation]]


@check("api-version")
def api_version_check(manifests: list[Manifest], policy: Policy, context: PolicyContext) -> Found:
    """One finding per object whose apiVersion and kind the API server refuses (error) or deprecates (warning).

    A custom resource whose CRD is bundled or given with --crd is never judged here, whatever its kind's name.
    """
    from mlgitops.kube.custom_resources import upstream_schemas

    custom = context.custom_schemas or upstream_schemas()
    for manifest in manifests:
        obj = manifest.obj
        if custom.knows(obj):
            continue
        try:
            problem = api_version_problem(str(obj.get("apiVersion")), str(obj.get("kind")), context.version_for(manifest))
        except UserError:
            continue  # an unsupported --kubernetes-version: the schema rule says so
        if problem is not None:
            severity = None if problem.removed else Severity.WARNING
            yield manifest, Violation(problem.message, ("apiVersion",), severity=severity)
