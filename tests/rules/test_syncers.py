"""The GitOps objects that deploy a folder, found through an index, are those a scan of every one finds.

Before issue 30 each object's folder was matched against every Kustomization and Application (a
fleet of many shards has about one per folder: their product grew with the square of the fleet).
"""

from __future__ import annotations

import itertools

from mlgitops.kube.manifest import Manifest
from mlgitops.policy.checks.syncers import Syncer, Syncers, folder


def _scan(syncers: list[Syncer], place: str) -> list[Syncer]:
    """The matching as it was: every syncer's depth, the deepest win (in their order)."""
    depths = [(syncer.depth(place), syncer) for syncer in syncers]
    best = max((depth for depth, _ in depths), default=-1)
    return [syncer for depth, syncer in depths if depth == best and best >= 0]


def _kustomization(name: str, path: str, file: str) -> Manifest:
    obj = {
        "apiVersion": "kustomize.toolkit.fluxcd.io/v1",
        "kind": "Kustomization",
        "metadata": {"name": name, "namespace": "flux-system"},
        "spec": {"path": path},
    }
    return Manifest(obj=obj, file=file)


def _application(name: str, paths: list[str], file: str) -> Manifest:
    obj = {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Application",
        "metadata": {"name": name, "namespace": "argocd"},
        "spec": {"sources": [{"path": path} for path in paths]},
    }
    return Manifest(obj=obj, file=file)


def test_the_index_finds_what_a_scan_finds() -> None:
    paths = ["./rendered/prod", "rendered/prod/team-1", "prod/team-1", "./", ".", "team-*", "rendered/*/team-2", "prod", "x/[ab]"]
    files = ["gitops/flux.yaml", "rendered/prod/flux.yaml", "rendered/prod/team-1/k.yaml", "k.yaml"]
    manifests = [
        _kustomization(f"k{index}", path, file) for index, (path, file) in enumerate(itertools.product(paths, files))
    ] + [_application(f"a{index}", [paths[index], paths[-1 - index]], files[index % 4]) for index in range(len(paths))]
    syncers = Syncers(manifests)
    places = [
        "",
        "gitops",
        "rendered",
        "rendered/prod",
        "rendered/prod/team-1",
        "rendered/prod/team-2",
        "rendered/dev/team-2",
        "other/prod/team-1",
        "prod",
        "team-9",
        "x/a",
        "x/c",
    ]
    matched = 0
    for place in places:
        probe = Manifest(obj={}, file=f"{place}/object.yaml" if place else "object.yaml")
        assert folder(probe.file) == place
        for found, everyone in ((syncers.flux_of(probe), syncers.flux), (syncers.argo_of(probe), syncers.argo)):
            expected = _scan(everyone, place)
            assert [s.manifest.ref.name for s in found] == [s.manifest.ref.name for s in expected], place
            matched += len(found)
        assert syncers.flux_of(probe) == syncers.flux_of(probe)  # the second lookup (remembered) is the same
    assert matched > 20
