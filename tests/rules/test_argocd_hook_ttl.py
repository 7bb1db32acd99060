"""The argocd-hook-ttl rule (issue 28): examples from real manifests and our own cases."""

from __future__ import annotations

from mlgitops.policy import Catalog
from tests.policy.linting import located

HOOK = """\
apiVersion: batch/v1
kind: Job
metadata:
  name: migrate
  annotations: {argocd.argoproj.io/hook: PreSync}
spec:
  ttlSecondsAfterFinished: 0
  template:
    spec:
      restartPolicy: Never
      containers: [{name: migrate, image: "migrate/migrate:v4.17.0"}]
"""


def test_an_argocd_hook_deleted_before_argocd_reads_it(catalog: Catalog) -> None:
    assert [(line, column) for line, column, _ in located(HOOK, catalog, "argocd-hook-ttl")] == [(7, 28)]
    assert located(HOOK.replace("ttlSecondsAfterFinished: 0", "ttlSecondsAfterFinished: 600"), catalog, "argocd-hook-ttl") == []
    # The same TTL on a Helm hook Argo CD does not wait for is not this rule's.
    helm = HOOK.replace("argocd.argoproj.io/hook: PreSync", "helm.sh/hook: pre-install")
    assert located(helm, catalog, "argocd-hook-ttl") == []
