"""The `api-version` rule: built-in kinds under a group or version the target Kubernetes does not serve (issue 28)."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlgitops.kube.api_versions import LIFECYCLE, api_version_problem, release_of, served_api_versions
from mlgitops.kube.schema import supported_versions
from tests.support import lint_findings, run_cli, upstream_crd, write

DEPLOYMENT_IN_CORE = """\
apiVersion: v1
kind: Deployment
metadata:
  name: serve
spec:
  replicas: 1
"""
CRONJOB_V1BETA1 = """\
apiVersion: batch/v1beta1
kind: CronJob
metadata:
  name: nightly
spec:
  schedule: "0 3 * * *"
"""
HPA_V2BETA2 = """\
apiVersion: autoscaling/v2beta2
kind: HorizontalPodAutoscaler
metadata:
  name: serve
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: serve}
  maxReplicas: 4
"""


def _lint(tmp_path: Path, text: str, *extra: str) -> tuple[int, list[dict[str, object]]]:
    write(tmp_path / "manifest.yaml", text)
    result = run_cli("lint", "manifest.yaml", "--format", "json", *extra, cwd=tmp_path)
    assert result.exit_code in (0, 1), result.stderr
    return result.exit_code, lint_findings(result.stdout)


def _of(findings: list[dict[str, object]], rule: str) -> list[tuple[str, str, int]]:
    return [
        (str(f["severity"]), str(f["message"]), int(f["location"]["line"]))  # type: ignore[index]
        for f in findings
        if f["rule"] == rule
    ]


def test_a_core_kind_under_the_wrong_group_is_an_error_not_an_unknown_custom_resource(tmp_path: Path) -> None:
    code, findings = _lint(tmp_path, DEPLOYMENT_IN_CORE)
    assert code == 1
    assert _of(findings, "api-version") == [
        (
            "error",
            "Deployment is not served as v1 (the core group): Kubernetes 1.32 serves it as apps/v1: write apiVersion: apps/v1",
            1,
        )
    ]
    assert _of(findings, "schema") == []  # no "no schema ... pass its CRD" note beside it


def test_a_removed_api_version_is_an_error_naming_its_successor(tmp_path: Path) -> None:
    code, findings = _lint(tmp_path, CRONJOB_V1BETA1, "--kubernetes-version", "1.32")
    assert code == 1
    [(severity, message, line)] = _of(findings, "api-version")
    assert (severity, line) == ("error", 1)
    assert message.startswith("batch/v1beta1 CronJob is not served from Kubernetes 1.25 on (deprecated since 1.21)")
    assert "write apiVersion: batch/v1" in message
    assert _of(findings, "schema") == []


def test_a_deprecated_version_still_served_is_a_warning_until_its_removal(tmp_path: Path) -> None:
    _, findings = _lint(tmp_path, HPA_V2BETA2, "--kubernetes-version", "1.25")
    [(severity, message, _)] = _of(findings, "api-version")
    assert severity == "warning"
    assert message.startswith("autoscaling/v2beta2 HorizontalPodAutoscaler is deprecated since Kubernetes 1.23")
    assert "write apiVersion: autoscaling/v2 before upgrading" in message
    _, findings = _lint(tmp_path, HPA_V2BETA2, "--kubernetes-version", "1.26")
    assert [severity for severity, _, _ in _of(findings, "api-version")] == ["error"]


@pytest.mark.parametrize(
    ("api_version", "kind", "version", "words"),
    [
        ("policy/v1beta1", "PodDisruptionBudget", "1.32", "write apiVersion: policy/v1"),
        ("flowcontrol.apiserver.k8s.io/v1beta3", "FlowSchema", "1.32", "write apiVersion: flowcontrol.apiserver.k8s.io/v1"),
        ("extensions/v1beta1", "Ingress", "1.32", "write apiVersion: networking.k8s.io/v1"),
        ("events.k8s.io/v1beta1", "Event", "1.30", "write apiVersion: events.k8s.io/v1"),  # its own group first
        ("policy/v1beta1", "PodSecurityPolicy", "1.32", "serves no version of PodSecurityPolicy, so remove it"),
        ("apps/v1", "CronJob", "1.32", "serves it as batch/v1: write apiVersion: batch/v1"),
        ("apps/v1", "deployment", "1.32", "kinds are case-sensitive): write kind: Deployment"),
        ("v1", "Widget", "1.32", "has no kind Widget"),
    ],
)
def test_what_the_api_server_refuses(api_version: str, kind: str, version: str, words: str) -> None:
    problem = api_version_problem(api_version, kind, version)
    assert problem is not None
    assert problem.removed
    assert words in problem.message


@pytest.mark.parametrize(
    ("api_version", "kind", "version"),
    [
        ("apps/v1", "Deployment", "1.32"),
        ("autoscaling/v2", "HorizontalPodAutoscaler", "1.25"),
        ("batch/v1", "CronJob", "1.25"),
        ("v1", "List", "1.32"),  # kubectl unpacks it
        ("serving.knative.dev/v1", "Service", "1.32"),  # a custom resource named like a built-in kind
        ("batch.volcano.sh/v1alpha1", "Job", "1.32"),
        ("resource.k8s.io/v1", "ResourceClaimTemplate", "1.32"),  # newer Kubernetes serves it: the schema rule says so
    ],
)
def test_what_it_leaves_alone(api_version: str, kind: str, version: str) -> None:
    assert api_version_problem(api_version, kind, version) is None


def test_a_crd_in_its_own_group_is_never_judged_here(tmp_path: Path) -> None:
    _, findings = _lint(
        tmp_path, "apiVersion: kueue.x-k8s.io/v1beta2\nkind: LocalQueue\nmetadata: {name: q}\nspec: {clusterQueue: c}\n"
    )
    assert _of(findings, "api-version") == []
    crd = upstream_crd("kueue.x-k8s.io_localqueues.yaml")
    _, findings = _lint(tmp_path, DEPLOYMENT_IN_CORE, "--crd", str(crd))
    assert len(_of(findings, "api-version")) == 1


def test_the_table_agrees_with_the_openapi_documents_of_each_kubernetes_version() -> None:
    """Every removal the table dates is one the shipped OpenAPI documents show: served before, gone from then on."""
    versions = supported_versions()
    checked = 0
    for (api_version, kind), lifecycle in LIFECYCLE.items():
        for version in versions:
            served = api_version in served_api_versions(version).get(kind, ())
            if release_of(version) >= lifecycle.removed:
                assert not served, (api_version, kind, version)
                checked += 1
            elif release_of(version) >= lifecycle.deprecated and "alpha" not in api_version:
                assert served, (api_version, kind, version)  # deprecated, still served
                checked += 1
    assert checked > 300
