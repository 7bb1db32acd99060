"""ArgoCD and Flux objects, sync waves, and sharding of large environments into several kustomize roots."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from mlgitops.errors import UserError
from mlgitops.fleet.build import EnvironmentOutput, build
from mlgitops.kube.custom_resources import load_crds
from mlgitops.load.environments import load_environments
from tests.support import kubectl, upstream_crd, write


def test_argocd_application_per_environment_with_a_separate_cluster_app(example_fleet: dict[str, EnvironmentOutput]) -> None:
    apps = [yaml.safe_load(doc) for doc in example_fleet["prod"].gitops_files["argocd/prod.yaml"].split("---\n")]
    assert [(a["kind"], a["metadata"]["name"], a["spec"]["source"]["path"]) for a in apps] == [
        ("Application", "prod", "rendered/prod"),
        ("Application", "prod-cluster", "rendered/prod/cluster"),
    ]
    assert apps[0]["spec"]["syncPolicy"]["automated"] == {"prune": True, "selfHeal": True}
    # Kueue unsuspends admitted jobs; ArgoCD must not suspend them again.
    assert {"group": "batch", "kind": "Job", "jsonPointers": ["/spec/suspend"]} in apps[0]["spec"]["ignoreDifferences"]


def test_flux_environment_gets_a_gitrepository_and_a_kustomization_with_health_checks(
    example_fleet: dict[str, EnvironmentOutput],
) -> None:
    assert "argocd/staging.yaml" not in example_fleet["staging"].gitops_files
    source, kustomization, cluster = yaml.safe_load_all(example_fleet["staging"].gitops_files["flux/staging.yaml"])
    assert source["kind"] == "GitRepository"
    assert kustomization["spec"]["path"] == "./rendered/staging"
    # Staging's Kueue queues (ClusterQueue, ResourceFlavors) are cluster-scoped: their own root and Kustomization.
    assert cluster["spec"]["path"] == "./rendered/staging/cluster"
    assert kustomization["spec"]["sourceRef"] == {"kind": "GitRepository", "name": source["metadata"]["name"]}
    assert kustomization["spec"]["healthChecks"] == [
        {"apiVersion": "apps/v1", "kind": "Deployment", "name": name, "namespace": "ml-staging"}
        for name in ("chat-llm", "resnet-classifier", "resnet-serve")
    ]


UPSTREAM = {
    "Application": "argoproj.io_applications.yaml",
    "ApplicationSet": "argoproj.io_applicationsets.yaml",
    "GitRepository": "source.toolkit.fluxcd.io_gitrepositories.yaml",
    "Kustomization": "kustomize.toolkit.fluxcd.io_kustomizations.yaml",
}


def _gitops_objects(example_fleet: dict[str, EnvironmentOutput]) -> list[tuple[dict[str, Any], str]]:
    return [(item.obj, output.kubernetes_version) for output in example_fleet.values() for item in output.gitops]


def test_argocd_and_flux_objects_validate_against_the_upstream_crds(
    example_fleet: dict[str, EnvironmentOutput], tmp_path: Path
) -> None:
    crds = load_crds([upstream_crd(name) for name in UPSTREAM.values()])
    objects = _gitops_objects(example_fleet) + _gitops_objects({"big": _sharded(tmp_path, application_set=True)})
    kinds = set()
    for obj, version in objects:
        assert crds.knows(obj), obj["kind"]
        assert crds.validate(obj, version) == [], obj["metadata"]["name"]
        kinds.add(obj["kind"])
    assert kinds == set(UPSTREAM)


def test_sync_waves_put_network_policies_first_autoscalers_last_and_pvcs_with_their_pods(
    example_fleet: dict[str, EnvironmentOutput],
) -> None:
    waves = {
        item.kind: item.obj["metadata"].get("annotations", {}).get("argocd.argoproj.io/sync-wave", "0")
        for item in example_fleet["prod"].objects
    }
    assert waves["NetworkPolicy"] == "-1"
    assert waves["HorizontalPodAutoscaler"] == waves["ServiceMonitor"] == waves["PodDisruptionBudget"] == "1"
    # An earlier wave for PVCs deadlocks the sync with WaitForFirstConsumer storage classes.
    assert waves["PersistentVolumeClaim"] == waves["Deployment"] == waves["Job"] == "0"


def test_environment_names_that_are_rendered_folders_are_reserved(tmp_path: Path) -> None:
    write(tmp_path / "argocd.yaml", 'namespace: x\nkubernetesVersion: "1.32"\n')
    with pytest.raises(UserError) as raised:
        load_environments(tmp_path)
    assert raised.value.one_line() == (
        f"{tmp_path}/argocd.yaml:1:1: the file name is the environment name: 'argocd' is reserved for the "
        "rendered argocd/ folder; rename the file"
    )


def _big_environment(max_objects: int, application_set: bool = False) -> str:
    workloads = []
    for team in ("vision", "speech", "ranking"):
        for index in range(2):
            workloads.append(
                f"""  - name: {team}-serve-{index}
    kind: serving
    group: {team}
    image: registry.example/{team}:1
    ports: [{{port: 8080}}]
    resources: {{cpu: "1", memory: 1Gi}}
    autoscaling: {{minReplicas: 2, maxReplicas: 4, metrics: [{{type: cpu, utilization: 70}}]}}
"""
            )
    return f"""\
namespace: ml-big
kubernetesVersion: "1.32"
gitops:
  repoUrl: https://example.com/fleet.git
  maxObjectsPerRoot: {max_objects}
  argocd: {{applicationSet: {str(application_set).lower()}}}
  flux: {{}}
volumes:
  - name: shared-data
    claim: {{size: 10Gi, accessModes: [ReadWriteMany]}}
workloads:
{"".join(workloads)}"""


def _sharded(tmp_path: Path, application_set: bool = False) -> EnvironmentOutput:
    folder = tmp_path / "sharded"
    write(folder / "big.yaml", _big_environment(5, application_set))
    [loaded] = load_environments(folder)
    return build(loaded)


def test_a_large_environment_is_sharded_into_one_root_per_group(tmp_path: Path) -> None:
    output = _sharded(tmp_path)
    roots = sorted(path for path in output.files if path.endswith("kustomization.yaml"))
    assert roots == [
        "ranking/kustomization.yaml",
        "shared/kustomization.yaml",
        "speech/kustomization.yaml",
        "vision/kustomization.yaml",
    ]
    [appset] = yaml.safe_load_all(output.gitops_files["argocd/big.yaml"])
    assert appset["kind"] == "ApplicationSet"
    assert appset["spec"]["generators"][0]["git"]["directories"] == [{"path": "rendered/big/*"}]
    flux = list(yaml.safe_load_all(output.gitops_files["flux/big.yaml"]))
    assert [obj["spec"]["path"] for obj in flux[1:]] == [
        "./rendered/big/ranking",
        "./rendered/big/shared",
        "./rendered/big/speech",
        "./rendered/big/vision",
    ]


@pytest.mark.kubectl
def test_the_sharded_layout_builds_exactly_the_objects_of_the_unsharded_one(tmp_path: Path) -> None:
    kubectl_path = kubectl()

    def build_all(max_objects: int) -> dict[tuple[str, str], Any]:
        folder = tmp_path / f"env-{max_objects}"
        write(folder / "environments" / "big.yaml", _big_environment(max_objects))
        [loaded] = load_environments(folder / "environments")
        output = build(loaded)
        for path, text in output.files.items():
            write(folder / "rendered" / "big" / path, text)
        built: dict[tuple[str, str], Any] = {}
        roots = [path.removesuffix("kustomization.yaml") for path in output.files if path.endswith("kustomization.yaml")]
        for root in roots:
            result = subprocess.run(
                [kubectl_path, "kustomize", str(folder / "rendered" / "big" / root)],
                capture_output=True,
                text=True,
                check=True,
                timeout=120,
            )
            for obj in yaml.safe_load_all(result.stdout):
                key = (obj["kind"], obj["metadata"]["name"])
                assert key not in built
                built[key] = obj
        return built

    unsharded = build_all(1000)
    sharded = build_all(5)
    assert len(unsharded) == 1 + 6 * 4  # a PVC; per server a Deployment, Service, HPA and PDB
    assert sharded == unsharded
