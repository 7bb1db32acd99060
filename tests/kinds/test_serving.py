"""serving: a Deployment with its Service, PodDisruptionBudget, ServiceMonitor and NetworkPolicy; Recreate on a
read-write-once claim."""

from __future__ import annotations

from pathlib import Path

from mlgitops.fleet.build import EnvironmentOutput, build
from mlgitops.load.environments import load_environments
from tests.rendering import BASE, _one
from tests.support import write


def test_serving_gets_pdb_servicemonitor_and_network_policy(example_fleet: dict[str, EnvironmentOutput]) -> None:
    prod = example_fleet["prod"]
    pdb = _one(prod, "PodDisruptionBudget")
    assert pdb["spec"] == {"maxUnavailable": 1, "selector": {"matchLabels": {"app.kubernetes.io/name": "resnet-serve"}}}
    # dev runs a single replica at minimum: a PDB there would block node drains.
    assert not [item for item in example_fleet["dev"].objects if item.kind == "PodDisruptionBudget"]
    monitor = _one(prod, "ServiceMonitor", "resnet-serve")
    assert monitor["spec"]["endpoints"] == [{"port": "metrics", "path": "/metrics", "interval": "30s"}]
    assert monitor["metadata"]["labels"]["release"] == "prometheus"
    policies = {item.name: item.obj for item in prod.objects if item.kind == "NetworkPolicy"}
    assert policies["default-deny-ingress"]["spec"] == {"podSelector": {}, "policyTypes": ["Ingress"]}
    allow = policies["allow-resnet-serve"]["spec"]["ingress"][0]
    assert [p["port"] for p in allow["ports"]] == [8080, 9090]
    hpa = _one(prod, "HorizontalPodAutoscaler")
    assert hpa["spec"]["metrics"][1] == {
        "type": "Pods",
        "pods": {
            "metric": {"name": "inference_requests_per_second"},
            "target": {"type": "AverageValue", "averageValue": "50"},
        },
    }


def test_a_server_on_a_read_write_once_claim_is_recreated_not_rolled(tmp_path: Path) -> None:
    # A RollingUpdate starts the new pod before the old one stops: on another node it would hang on
    # Multi-Attach. Recreate stops the old pod first; lint (pvc-rwo-shared) agrees with what render emits.
    models = "  - name: models\n    claim: {size: 100Gi, accessModes: [ReadWriteOnce]}\n"
    mount = "    mounts: [{volume: models, path: /models, role: model, readOnly: true}]\n"
    write(tmp_path / "dev.yaml", BASE.replace("workloads:\n", models + "workloads:\n") + mount)
    [loaded] = load_environments(tmp_path)
    output = build(loaded)
    assert _one(output, "Deployment")["spec"]["strategy"] == {"type": "Recreate"}
    from mlgitops.fleet.run import environment_findings
    from mlgitops.policy import load_catalog

    findings = environment_findings(loaded, output, tmp_path / "rendered", load_catalog())
    assert [f for f in findings if f.rule == "pvc-rwo-shared"] == []
    # On a ReadWriteMany claim the default RollingUpdate stays.
    write(
        tmp_path / "dev.yaml",
        BASE.replace("workloads:\n", models.replace("ReadWriteOnce", "ReadWriteMany") + "workloads:\n") + mount,
    )
    [loaded] = load_environments(tmp_path)
    assert "strategy" not in _one(build(loaded), "Deployment")["spec"]
