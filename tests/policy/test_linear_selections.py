"""More checks relating objects cost work linear in the objects: counted, not timed (issue 30, fifth pass).

A new-user probe of shapes the fourth pass did not try found each of these taking time in the square of the objects
(before, measured: 2,000 PodDisruptionBudgets over 2,000 Deployments whose selectors share a first label 13.4 s
against 0.8 s for 500; 4,000 Services likewise 13.8 s; 4,000 namespaces with an accelerator quota each 17.8 s; 4,000
Deployments mounting one ReadWriteOnce claim 15.7 s, each finding naming all 4,000; a JobSet of 8,000 replicated Jobs
21 s; a kustomize root of one file of 4,000 Deployments 8.2 s besides kubectl; 4,000 ApplicationSets deploying
`teams/tN/*` over a Job in each team's folder 26 s; 2,000 Karpenter NodePools, one per team, under a Job pinned to
each 29.5 s). ``tests.support.lines_run`` counts
the lines lint executes for N, 2N and 4N of them; the extra work must double, not quadruple.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from mlgitops.processes.parallel import SERIAL_SWITCH
from tests.support import growth, kubectl, lint_growth, linted_lines, run_in_process, write


def _deployment(name: str, namespace: str = "ns", labels: str = "", pod: str = "", container: str = "") -> str:
    labels = labels or f"{{app: {name}}}"
    return (
        f"apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: {name}, namespace: {namespace}}}\nspec:\n"
        f"  replicas: 1\n  selector:\n    matchLabels: {labels}\n  template:\n    metadata:\n      labels: {labels}\n"
        f"    spec:\n{pod}      containers:\n      - name: c\n        image: ghcr.io/acme/app:1.0\n{container}"
    )


def _sharing_a_first_label(selecting: Callable[[int, str], str]) -> Callable[[int], str]:
    """Deployments, and for each an object ``selecting(index, labels)`` its pods, all selectors starting with one team
    label."""

    def shape(count: int) -> str:
        documents = []
        for index in range(count):
            labels = f"{{team: ml, app: a{index}}}"
            documents += [_deployment(f"a{index}", labels=labels), selecting(index, labels)]
        return "---\n".join(documents)

    return shape


def _budget(index: int, labels: str) -> str:
    """A PodDisruptionBudget (rule pdb-blocks-drain)."""
    return (
        f"apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {{name: a{index}, namespace: ns}}\n"
        f"spec:\n  minAvailable: 2\n  selector:\n    matchLabels: {labels}\n"
    )


def _service(index: int, labels: str) -> str:
    """A Service (rule serving-probes)."""
    metadata = f"metadata: {{name: a{index}, namespace: ns}}\n"
    return f"apiVersion: v1\nkind: Service\n{metadata}spec:\n  selector: {labels}\n  ports: [{{port: 80}}]\n"


def _accelerator_quotas(count: int) -> str:
    """A namespace each with a quota on NVIDIA GPUs and a Deployment asking for AMD ones (quota-accelerators)."""
    asks = "        resources:\n          requests: {cpu: '1', amd.com/gpu: '1'}\n          limits: {amd.com/gpu: '1'}\n"
    documents = []
    for index in range(count):
        documents.append(
            f"apiVersion: v1\nkind: ResourceQuota\nmetadata: {{name: q, namespace: t{index}}}\n"
            "spec:\n  hard: {requests.nvidia.com/gpu: '8'}\n"
        )
        documents.append(_deployment(f"a{index}", namespace=f"t{index}", container=asks))
    return "---\n".join(documents)


def _one_claim_for_all(count: int) -> str:
    """Deployments all mounting one ReadWriteOnce claim (pvc-rwo-shared)."""
    claim = (
        "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {name: shared, namespace: ns}\n"
        "spec:\n  accessModes: [ReadWriteOnce]\n  resources: {requests: {storage: 1Gi}}\n"
    )
    pod = "      volumes: [{name: v, persistentVolumeClaim: {claimName: shared}}]\n"  # one pod each, one at a time
    mount = "        volumeMounts: [{name: v, mountPath: /x}]\n"
    workloads = [_deployment(f"a{index}", pod=pod, container=mount) for index in range(count)]
    return "---\n".join(
        [claim, *(text.replace("  replicas: 1\n", "  replicas: 1\n  strategy: {type: Recreate}\n") for text in workloads)]
    )


def _job_set(count: int) -> str:
    """One JobSet of ``count`` replicated Jobs, each pod mounting a Secret (checks that look templates up by path)."""
    jobs = "".join(
        f"  - name: r{index}\n    template:\n      spec:\n        template:\n          spec:\n"
        "            restartPolicy: Never\n"
        f"            volumes: [{{name: s, secret: {{secretName: s{index}}}}}, {{name: e, emptyDir: {{}}}}]\n"
        "            containers:\n            - name: c\n              image: ghcr.io/acme/app:1.0\n"
        "              volumeMounts: [{name: s, mountPath: /s}, {name: e, mountPath: /data}]\n"
        for index in range(count)
    )
    header = "apiVersion: jobset.x-k8s.io/v1alpha2\nkind: JobSet\nmetadata: {name: js, namespace: ns}\n"
    return f"{header}spec:\n  replicatedJobs:\n{jobs}"


def _team_pools(count: int) -> str:
    """Consolidating Karpenter NodePools, each labelled and tainted for one team, and a Job pinned to each team's pool
    (rule training-disruption)."""
    documents = []
    for index in range(count):
        documents.append(
            f"apiVersion: karpenter.sh/v1\nkind: NodePool\nmetadata: {{name: p{index}}}\nspec:\n  template:\n"
            f"    metadata: {{labels: {{team: t{index}}}}}\n    spec:\n"
            "      nodeClassRef: {group: karpenter.k8s.aws, kind: EC2NodeClass, name: default}\n      requirements: []\n"
            f"      taints: [{{key: team, value: t{index}, effect: NoSchedule}}]\n"
            "  disruption: {consolidationPolicy: WhenEmptyOrUnderutilized}\n"
        )
        documents.append(
            f"apiVersion: batch/v1\nkind: Job\nmetadata: {{name: j{index}, namespace: ns}}\nspec:\n  template:\n    spec:\n"
            f"      restartPolicy: Never\n      nodeSelector: {{team: t{index}}}\n"
            f"      tolerations: [{{key: team, operator: Equal, value: t{index}, effect: NoSchedule}}]\n"
            "      containers: [{name: c, image: 'ghcr.io/acme/app:1.0'}]\n"
        )
    return "---\n".join(documents)


@pytest.mark.parametrize(
    "shape",
    [
        pytest.param(_sharing_a_first_label(_budget), id="PodDisruptionBudgets sharing a first label"),
        pytest.param(_sharing_a_first_label(_service), id="Services sharing a first label"),
        pytest.param(_accelerator_quotas, id="an accelerator quota per namespace"),
        pytest.param(_one_claim_for_all, id="one ReadWriteOnce claim for every Deployment"),
        pytest.param(_job_set, id="a JobSet of many replicated Jobs"),
        pytest.param(_team_pools, id="a Karpenter NodePool per team under a Job each"),
    ],
)
def test_checks_across_objects_cost_linear_work(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, shape: Callable[[int], str]
) -> None:
    monkeypatch.setenv(SERIAL_SWITCH, "1")
    assert lint_growth(tmp_path, shape, 100, exit_codes=(1,)) < 2.6  # 1: the check ran and found something


def test_a_kustomize_root_of_one_file_finds_each_object_s_origin_in_linear_work(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    kubectl()
    monkeypatch.setenv(SERIAL_SWITCH, "1")

    def work(count: int) -> int:
        root = tmp_path / f"root-{count}"
        write(root / "all.yaml", "---\n".join(_deployment(f"a{index}") for index in range(count)))
        write(root / "kustomization.yaml", "namePrefix: p-\nresources:\n- all.yaml\n")
        used, result = linted_lines(root.name, cwd=tmp_path)
        # Each built object is found where it is written: its own document of all.yaml.
        written = {f["location"]["line"] for f in json.loads(result.stdout)["findings"] if f["rule"] == "security-non-root"}
        assert len(written) == count, result.stderr
        return used

    work(4)
    assert growth(work, 100) < 2.6


def _application_sets(folder: Path, count: int, directory: str, place: str) -> None:
    """ApplicationSets each deploying one team's folders (git ``directory`` with N for the team's number), and a queued
    Job left suspended in each team's folder ``place`` (rule queued-suspend asks which Argo CD object deploys each Job's
    folder)."""
    sets = [
        f"apiVersion: argoproj.io/v1alpha1\nkind: ApplicationSet\nmetadata: {{name: t{index}, namespace: argocd}}\nspec:\n"
        "  generators: [{git: {repoURL: 'https://x', revision: HEAD, directories: [{path: '"
        + directory.replace("N", str(index))
        + "'}]}}]\n"
        "  template:\n    metadata: {name: '{{path.basename}}'}\n    spec:\n      project: default\n"
        "      source: {repoURL: 'https://x', path: '{{path}}'}\n      destination: {server: 'https://kubernetes.default.svc'}\n"
        for index in range(count)
    ]
    write(folder / "argo" / "sets.yaml", "---\n".join(sets))
    for index in range(count):
        write(
            folder / place.replace("N", str(index)) / "job.yaml",
            "apiVersion: batch/v1\nkind: Job\n"
            f"metadata: {{name: j, namespace: t{index}, labels: {{kueue.x-k8s.io/queue-name: q}}}}\n"
            "spec:\n  suspend: true\n  template:\n    spec:\n      restartPolicy: Never\n"
            "      containers: [{name: c, image: 'ghcr.io/acme/app:1.0'}]\n",
        )


@pytest.mark.parametrize(
    ("directory", "place"),
    [
        pytest.param("teams/tN/*", "teams/tN/app", id="teams/tN/*: a literal segment of its own"),
        # Every pattern's only literal segment is prod, which every folder has: filed by its rarest key, team-N-.
        pytest.param("team-N-*/prod", "team-N-x/prod", id="team-N-*/prod: a literal segment shared by all"),
        pytest.param("team-N-*", "team-N-x", id="team-N-*: no literal segment, a literal prefix"),
        pytest.param("*-N", "team-N", id="*-N: no literal segment, a literal suffix"),
        pytest.param("team-[0-9]N/*", "team-5N/app", id="team-[0-9]N/*: a set, a literal suffix after it"),
    ],
)
def test_folders_find_their_wildcard_syncers_in_linear_work(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, directory: str, place: str
) -> None:
    monkeypatch.setenv(SERIAL_SWITCH, "1")

    def work(count: int) -> int:
        folder = tmp_path / f"repo-{count}"
        _application_sets(folder, count, directory, place)
        used, result = linted_lines(str(folder))
        suspended = [f for f in json.loads(result.stdout)["findings"] if f["rule"] == "queued-suspend"]
        deployers = sorted(f["message"].split("ApplicationSet '")[1].split("'")[0] for f in suspended)
        assert deployers == sorted(f"t{index}" for index in range(count)), result.stderr  # each by its own team's set
        return used

    work(4)
    assert growth(work, 100) < 2.6


def test_a_claim_shared_by_many_names_five_owners_and_counts_the_rest(tmp_path: Path) -> None:
    manifest = write(tmp_path / "claim.yaml", _one_claim_for_all(8))
    result = run_in_process("lint", "-o", "json", str(manifest))
    shared = [f["message"] for f in json.loads(result.stdout)["findings"] if f["rule"] == "pvc-rwo-shared"]
    assert len(shared) == 7
    assert shared[0] == (
        "ReadWriteOnce claim 'shared' is mounted by several workloads (Deployment a0, Deployment a1, Deployment a2, "
        "Deployment a3, Deployment a4 and 3 more); only one node can attach it"
    )


BAD_POOL = """\
apiVersion: karpenter.sh/v1
kind: NodePool
metadata: {name: bad, labels: {mlgitops.io/environment: dev}}
spec:
  disruption: {consolidationPolicy: WhenEmptyOrUnderutilized}
  template:
    metadata: {labels: {}}
    spec:
      nodeClassRef: {group: karpenter.k8s.aws, kind: EC2NodeClass, name: default}
      taints: 5
---
apiVersion: karpenter.sh/v1
kind: NodePool
metadata: {name: good, labels: {mlgitops.io/environment: prod}}
spec:
  disruption: {consolidationPolicy: WhenEmptyOrUnderutilized}
  template:
    metadata: {labels: {pool: a}}
    spec:
      nodeClassRef: {group: karpenter.k8s.aws, kind: EC2NodeClass, name: default}
---
apiVersion: batch/v1
kind: Job
metadata: {name: train, namespace: ml, labels: {mlgitops.io/environment: prod}}
spec:
  template:
    spec:
      restartPolicy: Never
      nodeSelector: {pool: a}
      containers: [{name: c, image: "busybox:1.36"}]
"""


def test_a_pool_of_another_environment_that_cannot_be_read_blames_nothing_here(tmp_path: Path) -> None:
    # Found by a new-user test of the first version, which read every pool's taints up front: the malformed dev pool
    # made the rule give up on every object, the prod Job's finding among them.
    result = run_in_process("lint", "-o", "json", str(write(tmp_path / "pools.yaml", BAD_POOL)))
    found = [
        (f["object"]["name"], f["message"]) for f in json.loads(result.stdout)["findings"] if f["rule"] == "training-disruption"
    ]
    assert found == [("train", found[0][1])]
    assert found[0][1].startswith("its pods run to completion on Karpenter NodePool 'good'")


@pytest.mark.parametrize("selector", ["{a: null, b: x}", "{a: 1, b: x}", "{1: x, b: x}"])
def test_a_budget_s_first_label_that_is_not_text_picks_what_it_picked(tmp_path: Path, selector: str) -> None:
    # Found by a new-user test of the first version, which looked the workloads up by the rarest label written as text
    # and so found ones the first label (looked up as text) never reached: the rule's reach is unchanged.
    labels = "{a: 1.0, b: x}" if "a: 1" in selector else "{true: x, b: x}" if "1: x" in selector else "{b: x}"
    budget = (
        "apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {name: p, namespace: ns}\n"
        f"spec:\n  minAvailable: 2\n  selector:\n    matchLabels: {selector}\n"
    )
    manifest = write(
        tmp_path / "budget.yaml", "---\n".join([budget, _deployment("web", labels=labels).replace("replicas: 1", "replicas: 2")])
    )
    result = run_in_process("lint", "-o", "json", str(manifest))
    assert [f for f in json.loads(result.stdout)["findings"] if f["rule"] == "pdb-blocks-drain"] == []
