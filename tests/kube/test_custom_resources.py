"""Custom resources against their schemas (kube/custom_resources.py): what the fleet renders validates against the
upstream CRDs (vendored in tests/upstream), and the project's own schemas are as strict."""

from __future__ import annotations

import pytest

from mlgitops.fleet.build import EnvironmentOutput
from mlgitops.kube.custom_resources import load_crds, project_schemas, strict_schema
from tests.rendering import _one
from tests.support import upstream_crd

UPSTREAM_CRDS = {
    "TrainJob": "trainer.kubeflow.org_trainjobs.yaml",
    "RayJob": "ray.io_rayjobs.yaml",
    "RayService": "ray.io_rayservices.yaml",
    "ClusterQueue": "kueue.x-k8s.io_clusterqueues.yaml",
    "LocalQueue": "kueue.x-k8s.io_localqueues.yaml",
    "ResourceFlavor": "kueue.x-k8s.io_resourceflavors.yaml",
    "WorkloadPriorityClass": "kueue.x-k8s.io_workloadpriorityclasses.yaml",
    "Topology": "kueue.x-k8s.io_topologies.yaml",
    "HTTPRoute": "gateway.networking.k8s.io_httproutes.yaml",
    "ServiceMonitor": "monitoring.coreos.com_servicemonitors.yaml",
    "NodePool": "karpenter.sh_nodepools.yaml",
    "PodMonitor": "monitoring.coreos.com_podmonitors.yaml",
    "PrometheusRule": "monitoring.coreos.com_prometheusrules.yaml",
    "Experiment": "kubeflow.org_experiments.yaml",
}


@pytest.mark.parametrize("kind", sorted(UPSTREAM_CRDS))
def test_rendered_custom_resources_validate_against_the_upstream_crds(
    example_fleet: dict[str, EnvironmentOutput], kind: str
) -> None:
    crds = load_crds([upstream_crd(UPSTREAM_CRDS[kind])])
    checked = 0
    for output in example_fleet.values():
        for item in output.objects:
            if item.kind == kind:
                assert crds.knows(item.obj)
                assert crds.validate(item.obj, output.kubernetes_version) == [], item.path
                checked += 1
    assert checked >= 1


def test_every_custom_resource_the_fleet_renders_is_checked_against_its_upstream_crd(
    example_fleet: dict[str, EnvironmentOutput],
) -> None:
    from mlgitops.kube.schema import has_schema

    custom = {
        item.kind
        for output in example_fleet.values()
        for item in output.objects
        if not has_schema(item.obj, output.kubernetes_version)
    }
    # InferenceService and ExternalSecret: render/test_integrations.py; LeaderWorkerSet, ScaledObject: kinds/test_llm_serving.py;
    # InferencePool: kinds/test_llm_serving_gateway.py.
    others = {"InferenceService", "ExternalSecret", "LeaderWorkerSet", "ScaledObject", "InferencePool"}
    assert custom - others == set(UPSTREAM_CRDS)


def test_upstream_crd_validation_is_strict_about_unknown_fields(example_fleet: dict[str, EnvironmentOutput]) -> None:
    crds = load_crds([upstream_crd(UPSTREAM_CRDS["TrainJob"])])
    job = _one(example_fleet["prod"], "TrainJob")
    broken = {**job, "spec": {**job["spec"], "trainer": {**job["spec"]["trainer"], "numProcsPerNode": 8}}}
    problems = crds.validate(broken, "1.32")
    assert [(p.path, p.message) for p in problems] == [
        (("spec", "trainer", "numProcsPerNode"), "unknown field 'numProcsPerNode'")
    ]


@pytest.mark.parametrize("kind", sorted(set(UPSTREAM_CRDS) - {"ServiceMonitor", "NodePool"}))
def test_project_schemas_of_the_new_kinds_are_strict(example_fleet: dict[str, EnvironmentOutput], kind: str) -> None:
    # What render and lint validate without --crd: an unknown field anywhere in the object is refused.
    schemas = project_schemas()
    obj = next(item.obj for item in example_fleet["prod"].objects if item.kind == kind)
    assert schemas.knows(obj)
    assert schemas.validate(obj, "1.32") == []
    at: tuple[str, ...] = ("spec", "notAField") if "spec" in obj else ("notAField",)
    broken = {**obj, "spec": {**obj["spec"], "notAField": 1}} if "spec" in obj else {**obj, "notAField": 1}
    assert [(p.path, p.message) for p in schemas.validate(broken, "1.32")] == [(at, "unknown field 'notAField'")]


def test_project_schemas_catch_what_the_upstream_crd_would() -> None:
    schemas = project_schemas()
    assert sorted(kind for _, kind in schemas.schemas) == [
        "Application",
        "ApplicationSet",
        "ClusterQueue",
        "Experiment",
        "ExternalSecret",
        "GitRepository",
        "HTTPRoute",
        "InferencePool",
        "InferenceService",
        "Kustomization",
        "LeaderWorkerSet",
        "LocalQueue",
        "NodePool",
        "PodMonitor",
        "PrometheusRule",
        "PyTorchJob",
        "RayJob",
        "RayService",
        "ResourceFlavor",
        "ScaledObject",
        "ServiceMonitor",
        "Topology",
        "TrainJob",
        "WorkloadPriorityClass",
    ]
    bad = {
        "apiVersion": "kubeflow.org/v1",
        "kind": "PyTorchJob",
        "metadata": {"name": "x"},
        "spec": {"pytorchReplicaSpecs": {"Master": {"replicas": 1, "template": {"spec": {"containers": "x"}}}}},
    }
    problems = schemas.validate(bad, "1.32")
    assert [p.path for p in problems] == [("spec", "pytorchReplicaSpecs", "Master", "template", "spec", "containers")]


def test_int_or_string_and_preserved_fields_convert_to_json_schema() -> None:
    converted = strict_schema(
        {
            "type": "object",
            "properties": {
                "port": {"x-kubernetes-int-or-string": True},
                "free": {
                    "type": "object",
                    "properties": {"a": {"type": "string"}},
                    "x-kubernetes-preserve-unknown-fields": True,
                },
                "maybe": {"type": "string", "nullable": True},
            },
        }
    )
    assert converted["additionalProperties"] is False
    assert converted["properties"]["port"] == {"anyOf": [{"type": "integer"}, {"type": "string"}]}
    assert "additionalProperties" not in converted["properties"]["free"]
    assert converted["properties"]["maybe"]["type"] == ["string", "null"]
