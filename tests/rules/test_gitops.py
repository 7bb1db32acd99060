"""GitOps rules (policy/checks/gitops.py, and the policies pvc-prune-protection and job-gitops-ttl).

Issue 26's faults: Argo CD re-suspending running queued jobs, and Flux health checks that give up before the
servers load; render keeps both out of git. Claims protected from a prune; no TTL on a Job a sync would recreate."""

from __future__ import annotations

from pathlib import Path

from mlgitops.fleet.build import build
from mlgitops.load.environments import load_environments
from mlgitops.policy import Catalog
from tests.policy.linting import GPU_JOB, NIGHTLY, SERVE_WITH_HPA, _found
from tests.rules.controller_faults import ENV, HAND_WRITTEN_JOB, _error, _lint, _objects, _output
from tests.support import REPO, write


def test_render_keeps_suspend_out_of_git_and_refuses_a_queued_job_that_asks_for_it(tmp_path: Path) -> None:
    output = _output(tmp_path, ENV)
    [job] = _objects(output, "TrainJob")
    assert "suspend" not in job["spec"]
    asked = ENV.replace("    numNodes: 2\n", "    numNodes: 2\n    runPolicy: {suspend: true}\n")
    assert _error(tmp_path, asked).startswith(
        "27:26: workloads[finetune].runPolicy.suspend: a job queued in Kueue (queue 'training') must not ask for suspend"
    )


def test_the_applications_keep_the_fields_they_ignore(tmp_path: Path) -> None:
    write(tmp_path / "env" / "dev.yaml", ENV)
    [loaded] = load_environments(tmp_path / "env")
    [application, cluster] = [item.obj for item in build(loaded).gitops]
    assert application["spec"]["syncPolicy"]["syncOptions"] == ["CreateNamespace=true", "RespectIgnoreDifferences=true"]
    assert cluster["metadata"]["name"] == "dev-cluster"
    old = ENV.replace("kubernetesVersion", 'operators: {argocd: "2.2"}\nkubernetesVersion')
    write(tmp_path / "env" / "dev.yaml", old)
    [loaded] = load_environments(tmp_path / "env")
    application = build(loaded).gitops[0].obj
    assert application["spec"]["syncPolicy"]["syncOptions"] == ["CreateNamespace=true"]  # Argo CD 2.2 lacks it


def test_lint_finds_a_queued_job_an_application_re_suspends() -> None:
    application = """\
---
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata: {name: research, namespace: argocd}
spec:
  project: ml
  source: {repoURL: https://git.example/ml.git, path: .}
  destination: {server: https://kubernetes.default.svc, namespace: research}
  ignoreDifferences: [{group: batch, kind: Job, jsonPointers: [/spec/suspend]}]
"""
    suspended = HAND_WRITTEN_JOB.replace("spec:\n  template:", "spec:\n  suspend: true\n  template:")
    [finding] = _lint(suspended + application, "queued-suspend")
    assert (finding.location.line, finding.location.column, finding.severity) == (9, 12, "error")
    assert "Argo CD Application 'research' syncs it without RespectIgnoreDifferences=true" in finding.message
    kept = application.replace(
        "  ignoreDifferences:", "  syncPolicy: {syncOptions: [RespectIgnoreDifferences=true]}\n  ignoreDifferences:"
    )
    assert _lint(suspended + kept, "queued-suspend") == []


FLUX = ENV.replace("  argocd: {project: ml}\n", "  flux: {interval: 10m}\n").replace(
    "    replicas: 2\n",
    "    replicas: 2\n    probes:\n      startup: {httpGet: {path: /health, port: 8080}, failureThreshold: 120}\n",
)


def test_flux_waits_out_the_startup_window_and_the_namespaced_root_depends_on_the_cluster_root(tmp_path: Path) -> None:
    write(tmp_path / "env" / "dev.yaml", FLUX)
    [loaded] = load_environments(tmp_path / "env")
    output = build(loaded)
    kustomizations = {item.name: item.obj["spec"] for item in output.gitops if item.kind == "Kustomization"}
    # 120 x 10 s of startup probe, plus 5 minutes for pulls and downloads.
    assert kustomizations["dev"]["timeout"] == "25m"
    assert kustomizations["dev"]["dependsOn"] == [{"name": "dev-cluster", "namespace": "flux-system"}]
    assert kustomizations["dev-cluster"]["wait"] is True
    [deployment] = _objects(output, "Deployment")
    assert deployment["spec"]["progressDeadlineSeconds"] == 1500


def test_a_flux_timeout_shorter_than_a_servers_startup_is_refused_at_its_line(tmp_path: Path) -> None:
    text = FLUX.replace("  flux: {interval: 10m}\n", "  flux: {interval: 10m, timeout: 5m}\n")
    assert _error(tmp_path, text) == (
        "5:34: gitops.flux.timeout: Flux waits 5m for the health checks, but 'chat' may take 20m to become ready (its "
        "startup probe): the Kustomization would fail while it loads; raise the timeout to at least 25m, or leave it "
        "out (mlgitops derives it)"
    )


def test_lint_finds_a_kustomization_that_gives_up_before_its_server_loads() -> None:
    text = (REPO / "policies" / "flux-health-timeout.yaml").read_text()
    fail = text.split("  fail:\n    - manifest: |\n", 1)[1].split("      at:", 1)[0]
    manifest = "\n".join(line.removeprefix("        ") for line in fail.splitlines())
    [finding] = _lint(manifest, "flux-health-timeout")
    assert (finding.location.line, finding.location.column) == (13, 12)
    assert "Deployment 'llm' may take 30m to become ready" in finding.message


def test_pvcs_are_protected_from_a_gitops_prune(catalog: Catalog) -> None:
    assert _found(catalog, SERVE_WITH_HPA, "pvc-prune-protection") == []
    flux_only = SERVE_WITH_HPA.replace("    argocd.argoproj.io/sync-options: Prune=false,Delete=false\n", "")
    both = _found(catalog, flux_only, "pvc-prune-protection", gitops=("argocd", "flux"))  # gitops: [argocd, flux]
    assert [(line, column) for line, column, _ in both] == [(35, 5)]


def test_a_cronjobs_job_template_may_set_a_ttl_but_a_gitops_job_may_not(catalog: Catalog) -> None:
    # The CronJob's Jobs are not in git, so cleaning them up is right; a Job in git would be recreated and rerun.
    assert _found(catalog, NIGHTLY, "job-gitops-ttl") == []
    with_ttl = GPU_JOB.replace("  backoffLimit: 2\n", "  backoffLimit: 2\n  ttlSecondsAfterFinished: 600\n")
    synced = _found(catalog, with_ttl, "job-gitops-ttl", gitops=("argocd",))
    assert [(line, column) for line, column, _ in synced] == [(6, 28)]
    hook = with_ttl.replace(
        "metadata: {name: train-1a2b3c4d, namespace: ml}",
        "metadata:\n  name: train-1a2b3c4d\n  namespace: ml\n  annotations: {argocd.argoproj.io/hook: PostSync}",
    )
    assert _found(catalog, hook, "job-gitops-ttl") == []
