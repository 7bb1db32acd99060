"""Rules about GitOps syncs judge only what GitOps syncs (issue 28, item 6), and one engine's prune protection is
enough unless .mlgitops.yaml names both engines."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from mlgitops.policy import Catalog, PolicyContext
from tests.policy.linting import findings_in, write
from tests.support import CliResult

JOB = """\
apiVersion: batch/v1
kind: Job
metadata:
  name: pi
spec:
  ttlSecondsAfterFinished: 100
  template:
    spec:
      restartPolicy: Never
      containers:
        - name: pi
          image: perl:5.34.0
"""
APPLICATION = """\
---
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata: {name: training, namespace: argocd}
spec:
  project: default
  source: {repoURL: "https://github.com/acme/ml.git", path: rendered/prod, targetRevision: main}
  destination: {server: "https://kubernetes.default.svc", namespace: ml}
"""


def lines(text: str, catalog: Catalog, rule: str, context: PolicyContext | None = None) -> list[int]:
    return [f.location.line for f in findings_in(text, catalog, context=context, rule=rule)]


def test_a_job_ttl_is_judged_only_with_a_sign_of_gitops(catalog: Catalog) -> None:
    # kueue/jobs/sample-job.yaml and the like: applied with kubectl, nothing recreates them.
    assert lines(JOB, catalog, "job-gitops-ttl") == []
    # An Application in the same set, an engine's own label, or the configuration: recreated after the TTL.
    assert lines(JOB + APPLICATION, catalog, "job-gitops-ttl") == [6]
    labelled = JOB.replace("  name: pi\n", "  name: pi\n  labels: {kustomize.toolkit.fluxcd.io/name: jobs}\n")
    found = findings_in(labelled, catalog, rule="job-gitops-ttl")
    assert [(f.location.line, "Flux will recreate it" in f.message) for f in found] == [(7, True)]
    assert lines(JOB, catalog, "job-gitops-ttl", PolicyContext(gitops=("argocd",))) == [6]
    # `gitops: []` says nothing syncs the manifests, whatever they carry.
    assert lines(JOB + APPLICATION, catalog, "job-gitops-ttl", PolicyContext(gitops=())) == []


SERVE = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: serve}
spec:
  replicas: 2
  selector: {matchLabels: {app: serve}}
  template:
    metadata: {labels: {app: serve}}
    spec:
      containers: [{name: server, image: "ml-serve:1.0"}]
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: serve}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: serve}
  minReplicas: 2
  maxReplicas: 6
  metrics: [{type: Resource, resource: {name: cpu, target: {type: Utilization, averageUtilization: 70}}}]
"""


def test_replicas_under_an_autoscaler_are_judged_only_with_a_sign_of_gitops(catalog: Catalog) -> None:
    # kserve/.../autoscale samples applied by hand: kubectl apply once, the HPA owns replicas after.
    assert lines(SERVE, catalog, "hpa-replicas") == []
    argo = SERVE.replace(
        "metadata: {name: serve}\nspec:\n  replicas",
        "metadata:\n  name: serve\n  annotations: {argocd.argoproj.io/sync-wave: '1'}\nspec:\n  replicas",
        1,
    )
    assert lines(argo, catalog, "hpa-replicas") == [7]
    # min above max is refused at apply whoever applies it.
    inverted = SERVE.replace("minReplicas: 2", "minReplicas: 9")
    assert lines(inverted, catalog, "hpa-replicas") == [17]


CLAIM = """\
apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: checkpoints
  annotations:
    argocd.argoproj.io/sync-options: Prune=false,Delete=false
spec:
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: 100Gi}}
"""


def test_one_engines_prune_protection_is_enough_unless_the_configuration_names_both(catalog: Catalog) -> None:
    assert lines(CLAIM, catalog, "pvc-prune-protection") == []
    flux = CLAIM.replace(
        "argocd.argoproj.io/sync-options: Prune=false,Delete=false", "kustomize.toolkit.fluxcd.io/prune: disabled"
    )
    assert lines(flux, catalog, "pvc-prune-protection") == []
    both = findings_in(CLAIM, catalog, context=PolicyContext(gitops=("argocd", "flux")), rule="pvc-prune-protection")
    assert [(f.location.line, "kustomize.toolkit.fluxcd.io/prune: disabled" in f.message) for f in both] == [(6, True)]
    # Only Flux syncs it: Argo CD's annotation does not stop Flux's prune.
    assert lines(CLAIM, catalog, "pvc-prune-protection", PolicyContext(gitops=("flux",))) == [6]
    # No protection at all is still reported, with either annotation as the fix.
    bare = CLAIM.replace("  annotations:\n    argocd.argoproj.io/sync-options: Prune=false,Delete=false\n", "")
    found = findings_in(bare, catalog, rule="pvc-prune-protection")
    assert [(f.location.line, " or " in f.message) for f in found] == [(4, True)]


def test_the_configuration_names_the_engines(tmp_path: Path, mlgitops: Callable[..., CliResult]) -> None:
    write(tmp_path / ".git" / "HEAD", "ref: refs/heads/main\n")
    write(tmp_path / "claim.yaml", CLAIM)
    assert mlgitops("lint", "claim.yaml").exit_code == 0
    write(tmp_path / ".mlgitops.yaml", "gitops: [argocd, flux]\n")
    both = mlgitops("lint", "claim.yaml")
    assert both.exit_code == 1
    assert "claim.yaml:6:5: error pvc-prune-protection" in both.stdout
    write(tmp_path / ".mlgitops.yaml", "gitops: [argo]\n")
    wrong = mlgitops("lint", "claim.yaml")
    assert wrong.exit_code == 2
    assert ".mlgitops.yaml:1:" in wrong.stderr
