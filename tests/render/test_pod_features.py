"""Pod-level fields of every workload kind: extra containers, placement, configuration, identity, traffic, guard rails."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from mlgitops.errors import UserError
from mlgitops.fleet.build import EnvironmentOutput, build
from mlgitops.fleet.run import render_fleet
from mlgitops.kube.custom_resources import load_crds
from mlgitops.load.environments import load_environments
from mlgitops.policy import Finding
from tests.rendering import SERVER, _obj, _render
from tests.support import upstream_crd, write

HEADER = 'namespace: ml\nkubernetesVersion: "1.32"\n'
SERVE = """\
  - name: serve
    kind: serving
    image: "registry.example/serve:1"
    ports: [{port: 8080}]
    resources: {cpu: "1", memory: 1Gi}
"""


def environment(tmp_path: Path, body: str, *, header: str = HEADER, name: str = "dev") -> Path:
    folder = tmp_path / "repo" / "environments"
    write(folder / f"{name}.yaml", header + body)
    return folder


def built(tmp_path: Path, body: str, **kwargs: Any) -> EnvironmentOutput:
    [loaded] = load_environments(environment(tmp_path, body, **kwargs))
    return build(loaded)


def findings(tmp_path: Path, body: str) -> list[Finding]:
    loaded = load_environments(environment(tmp_path, body))
    return render_fleet(loaded, tmp_path / "rendered", []).findings


def error_of(tmp_path: Path, body: str, **kwargs: Any) -> str:
    with pytest.raises(UserError) as raised:
        built(tmp_path, body, **kwargs)
    return raised.value.one_line()


def objects(output: EnvironmentOutput, kind: str) -> list[dict[str, Any]]:
    return [item.obj for item in output.objects if item.kind == kind]


def pod_of(obj: dict[str, Any]) -> dict[str, Any]:
    spec = obj["spec"]
    template = spec["jobTemplate"]["spec"]["template"] if obj["kind"] == "CronJob" else spec["template"]
    pod: dict[str, Any] = template["spec"]
    return pod


def test_sidecars_start_first_with_restart_policy_always_and_init_containers_follow(tmp_path: Path) -> None:
    output = built(
        tmp_path,
        """\
workloads:
  - name: nightly
    kind: batch
    schedule: "0 2 * * *"
    image: "registry.example/batch:1"
    resources: {cpu: "1", memory: 1Gi}
    initContainers:
      - {name: fetch, image: "registry.example/fetch:1", resources: {cpu: 500m, memory: 256Mi}}
    sidecars:
      - name: logs
        image: "registry.example/logs:1"
        resources: {cpu: 100m, memory: 64Mi}
        probes: {startup: {exec: {command: [ls]}}}
""",
    )
    pod = pod_of(objects(output, "CronJob")[0])
    assert [(c["name"], c.get("restartPolicy")) for c in pod["initContainers"]] == [("logs", "Always"), ("fetch", None)]
    assert pod["initContainers"][0]["startupProbe"] == {"exec": {"command": ["ls"]}}
    # The same security defaults as the main container.
    assert pod["initContainers"][1]["securityContext"] == pod["containers"][0]["securityContext"]
    assert pod["automountServiceAccountToken"] is False


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ("sidecars: [{name: logs, image: 'r.example/l:1', resources: {cpu: 1m, memory: 16Mi}}]", "need Kubernetes 1.29"),
        ("initContainers: [{name: f, image: 'r.example/f:1', resources: {cpu: 1m, memory: 16Mi, gpu: 1}}]", "GPUs belong"),
        (
            "initContainers: [{name: f, image: 'r.example/f:1', resources: {cpu: 1m, memory: 16Mi}, "
            "probes: {readiness: {tcpSocket: {port: 80}}}}]",
            "init containers run to completion and take no probes",
        ),
        ("initContainers: [{name: serve, image: 'r.example/f:1', resources: {cpu: 1m, memory: 16Mi}}]", "used twice"),
        (
            "initContainers: [{name: f, image: 'r.example/f:1', resources: {cpu: 1m, memory: 2Gi, limits: {memory: 1Gi}}}]",
            "below the request",
        ),
    ],
)
def test_extra_containers_get_the_main_containers_checks(tmp_path: Path, extra: str, expected: str) -> None:
    header = 'namespace: ml\nkubernetesVersion: "1.28"\n'
    message = error_of(tmp_path, f"workloads:\n{SERVE}    {extra}\n", header=header)
    assert expected in message
    assert "environments/dev.yaml:" in message.split(" ")[0]


def test_serving_with_two_replicas_spreads_over_zones_and_nodes_unless_told_otherwise(tmp_path: Path) -> None:
    spread = pod_of(objects(built(tmp_path, f"workloads:\n{SERVE}    replicas: 2\n"), "Deployment")[0])[
        "topologySpreadConstraints"
    ]
    assert [(c["topologyKey"], c["whenUnsatisfiable"]) for c in spread] == [
        ("topology.kubernetes.io/zone", "ScheduleAnyway"),
        ("kubernetes.io/hostname", "ScheduleAnyway"),
    ]
    single = pod_of(objects(built(tmp_path / "one", f"workloads:\n{SERVE}"), "Deployment")[0])
    assert "topologySpreadConstraints" not in single
    off = pod_of(objects(built(tmp_path / "off", f"workloads:\n{SERVE}    replicas: 3\n    spread: []\n"), "Deployment")[0])
    assert "topologySpreadConstraints" not in off


def test_node_affinity_tolerations_and_anti_affinity(tmp_path: Path) -> None:
    body = f"""\
cluster:
  nodePools:
    - name: cpu
      labels: {{pool: cpu}}
      taints: [{{key: dedicated, effect: NoSchedule}}]
      allocatable: {{cpu: "16", memory: 64Gi}}
workloads:
{SERVE}    nodePool: cpu
    tolerations: [{{key: spot, operator: Exists, effect: NoSchedule}}]
    antiAffinity: {{required: true}}
    nodeAffinity:
      required: [{{key: topology.kubernetes.io/zone, values: [a]}}]
"""
    pod = pod_of(objects(built(tmp_path, body), "Deployment")[0])
    assert pod["tolerations"] == [
        {"key": "dedicated", "operator": "Exists", "effect": "NoSchedule"},
        {"key": "spot", "operator": "Exists", "effect": "NoSchedule"},
    ]
    assert pod["affinity"]["podAntiAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"][0]["topologyKey"] == (
        "kubernetes.io/hostname"
    )
    contradicting = body.replace("topology.kubernetes.io/zone, values: [a]", "pool, operator: NotIn, values: [cpu]")
    assert "would never schedule" in error_of(tmp_path / "bad", contradicting)


CONFIG = """\
configMaps:
  - name: settings
    data: {LEVEL: info}
    files: [{path: files/app.yaml}]
volumes:
  - {name: cfg, configMap: settings}
workloads:
"""


def test_config_maps_from_files_are_named_by_content_and_used_as_env_and_volumes(tmp_path: Path) -> None:
    folder = environment(tmp_path, "")
    write(folder / "files" / "app.yaml", "batch: 8\n")
    body = (
        CONFIG
        + SERVE
        + """\
    envFrom: [{configMapRef: {name: settings}}]
    env: [{name: LVL, configMapKeyRef: {name: settings, key: LEVEL}}]
    mounts: [{volume: cfg, path: /etc/app, role: config}]
"""
    )
    first = built(tmp_path, body)
    [config_map] = objects(first, "ConfigMap")
    name = config_map["metadata"]["name"]
    assert name.startswith("settings-")
    assert config_map["data"] == {"LEVEL": "info", "app.yaml": "batch: 8\n"}
    container = pod_of(objects(first, "Deployment")[0])["containers"][0]
    assert container["envFrom"] == [{"configMapRef": {"name": name}}]
    assert container["env"][0]["valueFrom"]["configMapKeyRef"] == {"name": name, "key": "LEVEL"}
    assert pod_of(objects(first, "Deployment")[0])["volumes"] == [{"name": "cfg", "configMap": {"name": name}}]
    write(folder / "files" / "app.yaml", "batch: 16\n")
    assert objects(built(tmp_path, body), "ConfigMap")[0]["metadata"]["name"] != name


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ("files/app.yaml", "file 'files/nothere.yaml' not found next to "),
        ("../../../../etc/passwd", "leads outside the repository"),
    ],
)
def test_config_map_files_must_exist_inside_the_repository(tmp_path: Path, change: str, expected: str) -> None:
    body = CONFIG.replace("files/app.yaml", "files/nothere.yaml" if change == "files/app.yaml" else change) + SERVE
    message = error_of(tmp_path, body)
    assert expected in message
    assert message.split(" ")[0].endswith("environments/dev.yaml:6:20:")  # the path, where it was written


def test_a_missing_config_map_key_is_an_error_and_an_unknown_config_map_a_warning(tmp_path: Path) -> None:
    folder = environment(tmp_path, "")
    write(folder / "files" / "app.yaml", "x\n")
    missing_key = CONFIG + SERVE + "    env: [{name: X, configMapKeyRef: {name: settings, key: NOPE}}]\n"
    assert "has no key 'NOPE'" in error_of(tmp_path, missing_key)
    unknown = f"workloads:\n{SERVE}    envFrom: [{{configMapRef: {{name: elsewhere}}}}]\n    serviceAccountName: runner\n"
    found = {f.rule: f for f in findings(tmp_path / "w", unknown)}
    assert found["configmap-reference"].severity == "warning"
    assert found["configmap-reference"].location.line == 9  # the envFrom line of the environment file
    assert "existingConfigMaps" in found["configmap-reference"].fix
    assert found["serviceaccount-reference"].location.line == 10
    declared = unknown + "existingConfigMaps: [elsewhere]\nexistingServiceAccounts: [runner]\n"
    assert not {f.rule for f in findings(tmp_path / "d", declared)} & {"configmap-reference", "serviceaccount-reference"}


def test_service_accounts_carry_cloud_identity_and_no_token_by_default(tmp_path: Path) -> None:
    body = f"""\
serviceAccounts:
  - name: shared
    annotations: {{iam.gke.io/gcp-service-account: "ml@acme.iam.gserviceaccount.com"}}
imagePullSecrets: [regcred]
existingSecrets: [regcred]
workloads:
{SERVE}    serviceAccount:
      annotations: {{eks.amazonaws.com/role-arn: "arn:aws:iam::1:role/serve"}}
  - name: train
    kind: training
    image: "registry.example/t:1"
    resources: {{cpu: "1", memory: 1Gi}}
    serviceAccountName: shared
    imagePullSecrets: []
"""
    output = built(tmp_path, body)
    accounts = {obj["metadata"]["name"]: obj for obj in objects(output, "ServiceAccount")}
    assert sorted(accounts) == ["serve", "shared"]
    assert all(obj["automountServiceAccountToken"] is False for obj in accounts.values())
    assert accounts["serve"]["metadata"]["annotations"] == {"eks.amazonaws.com/role-arn": "arn:aws:iam::1:role/serve"}
    serve = pod_of(objects(output, "Deployment")[0])
    assert (serve["serviceAccountName"], serve["imagePullSecrets"]) == ("serve", [{"name": "regcred"}])
    train = pod_of(objects(output, "Job")[0])
    assert train["serviceAccountName"] == "shared"
    assert "imagePullSecrets" not in train


def test_a_pull_secret_that_exists_nowhere_is_a_secret_reference_error(tmp_path: Path) -> None:
    found = [f for f in findings(tmp_path, f"imagePullSecrets: [regcred]\nworkloads:\n{SERVE}") if f.rule == "secret-reference"]
    assert [(f.severity, f.location.line) for f in found] == [("error", 3)]
    assert "existingSecrets" in found[0].fix


TRAFFIC = """\
networkPolicy: {}
ingressController: {className: nginx, namespace: ingress-nginx}
workloads:
"""


def test_ingress_and_http_route_with_network_policy_rules_that_follow(tmp_path: Path) -> None:
    body = (
        TRAFFIC
        + SERVE
        + """\
    ingress: {host: serve.example.com, tlsSecret: serve-tls}
    httpRoute: {gateway: {name: gw, namespace: gateway-system, sectionName: https}, hostnames: [serve.example.com]}
"""
    )
    output = built(tmp_path, body)
    [ingress] = objects(output, "Ingress")
    assert ingress["spec"]["ingressClassName"] == "nginx"
    assert ingress["spec"]["tls"] == [{"hosts": ["serve.example.com"], "secretName": "serve-tls"}]
    [route] = objects(output, "HTTPRoute")
    assert route["spec"]["rules"][0]["backendRefs"] == [{"group": "", "kind": "Service", "name": "serve", "port": 8080}]
    crds = load_crds([upstream_crd("gateway.networking.k8s.io_httproutes.yaml")])
    assert crds.validate(route, "1.32") == []
    allow = next(obj for obj in objects(output, "NetworkPolicy") if obj["metadata"]["name"] == "allow-serve")
    sources = [rule["from"][0].get("namespaceSelector", {}).get("matchLabels") for rule in allow["spec"]["ingress"]]
    assert sources[1:] == [{"kubernetes.io/metadata.name": "ingress-nginx"}, {"kubernetes.io/metadata.name": "gateway-system"}]
    no_controller = body.replace("ingressController: {className: nginx, namespace: ingress-nginx}\n", "")
    assert "say where the ingress controller runs" in error_of(tmp_path / "x", no_controller)


def test_budget_becomes_a_resource_quota_and_counts_autoscalers_at_their_maximum(tmp_path: Path) -> None:
    body = f"""\
budget: {{cpu: "4", memory: 64Gi}}
limitRange: {{defaultRequest: {{cpu: 100m, memory: 128Mi}}, max: {{memory: 8Gi}}}}
workloads:
{SERVE}    autoscaling: {{minReplicas: 1, maxReplicas: 6, metrics: [{{type: cpu, utilization: 70}}]}}
"""
    output = built(tmp_path, body)
    assert objects(output, "ResourceQuota")[0]["spec"] == {"hard": {"requests.cpu": "4", "requests.memory": "64Gi"}}
    assert objects(output, "LimitRange")[0]["spec"]["limits"][0]["max"] == {"memory": "8Gi"}
    [finding] = [f for f in findings(tmp_path / "f", body) if f.rule == "env-budget"]
    # One replica fits; the six the HPA may run do not.
    assert "requests up to 6 CPU" in finding.message
    assert finding.location.line == 3
    assert "budget.cpu" in finding.fix
    too_big = body.replace("memory: 1Gi", "memory: 16Gi")
    assert "above the environment's limitRange.max.memory" in error_of(tmp_path / "g", too_big)


def test_host_ipc_needs_a_reason_which_waives_only_its_own_rule(tmp_path: Path) -> None:
    body = f"workloads:\n{SERVE}    hostIPC: {{reason: NVIDIA MPS clients reach the node's daemon, until: '2099-01-01'}}\n"
    pod = objects(built(tmp_path, body), "Deployment")[0]["spec"]["template"]
    assert pod["spec"]["hostIPC"] is True
    assert pod["metadata"]["annotations"]["mlgitops.io/waive.security-host-ipc"] == (
        "NVIDIA MPS clients reach the node's daemon until=2099-01-01"
    )
    [ipc] = [f for f in findings(tmp_path / "f", body) if f.rule == "security-host-ipc"]
    assert ipc.waiver == "NVIDIA MPS clients reach the node's daemon"
    assert "missing required field 'reason'" in error_of(tmp_path / "r", f"workloads:\n{SERVE}    hostIPC: {{}}\n")


def test_findings_on_an_init_container_point_at_its_own_line(tmp_path: Path) -> None:
    extra = "      - {name: fetch, image: 'r.example/f:latest', resources: {cpu: 1m, memory: 16Mi}}\n"
    body = f"workloads:\n{SERVE}    initContainers:\n{extra}"
    [tag] = [f for f in findings(tmp_path, body) if f.rule == "image-tag"]
    assert (tag.location.line, tag.location.column) == (10, 30)  # the init container's image
    assert tag.fix == "Give the image: a version tag or a digest (not :latest)."


SPREAD = SERVER + "    replicas: 3\n"


def test_deployment_pods_spread_per_rollout_revision(tmp_path: Path) -> None:
    spread = _obj(_render(tmp_path, SPREAD), "Deployment", "web")["spec"]["template"]["spec"]["topologySpreadConstraints"]
    assert [entry["matchLabelKeys"] for entry in spread] == [["pod-template-hash"], ["pod-template-hash"]]
    assert all("pod-template-hash" not in entry["labelSelector"]["matchLabels"] for entry in spread)
    own = SPREAD + "    spread: [{topologyKey: topology.kubernetes.io/zone, maxSkew: 1, whenUnsatisfiable: DoNotSchedule}]\n"
    [entry] = _obj(_render(tmp_path, own), "Deployment", "web")["spec"]["template"]["spec"]["topologySpreadConstraints"]
    assert entry["matchLabelKeys"] == ["pod-template-hash"]
    # Before 1.27 the field is off by default: not written.
    old = _obj(_render(tmp_path, SPREAD.replace('"1.32"', '"1.26"')), "Deployment", "web")
    assert all("matchLabelKeys" not in entry for entry in old["spec"]["template"]["spec"]["topologySpreadConstraints"])


ROUTED = SERVER + "    httpRoute: {gateway: {name: public, namespace: gateway-system}}\nnetworkPolicy: {}\n"


def _route_sources(tmp_path: Path, text: str) -> list[dict[str, Any]]:
    policy = _obj(_render(tmp_path, text), "NetworkPolicy", "allow-web")
    sources: list[dict[str, Any]] = policy["spec"]["ingress"][1]["from"]
    return sources


def test_the_gateways_proxies_are_admitted_where_they_run(tmp_path: Path) -> None:
    # Default: pods of the Gateway's namespace (GEP-1762 in-cluster deployments, Istio).
    assert _route_sources(tmp_path, ROUTED) == [
        {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "gateway-system"}}}
    ]
    # Envoy Gateway runs its proxies in its own namespace.
    assert _route_sources(tmp_path, ROUTED + "gateway: {implementation: envoy-gateway}\n") == [
        {
            "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "envoy-gateway-system"}},
            "podSelector": {
                "matchLabels": {
                    "app.kubernetes.io/component": "proxy",
                    "app.kubernetes.io/managed-by": "envoy-gateway",
                    "gateway.envoyproxy.io/owning-gateway-name": "public",
                    "gateway.envoyproxy.io/owning-gateway-namespace": "gateway-system",
                }
            },
        }
    ]
    assert _route_sources(tmp_path, ROUTED + "gateway: {implementation: istio}\n") == [
        {
            "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "gateway-system"}},
            "podSelector": {"matchLabels": {"gateway.networking.k8s.io/gateway-name": "public"}},
        }
    ]
    # A managed gateway has no pods: its load balancers' address ranges.
    assert _route_sources(tmp_path, ROUTED + "gateway: {implementation: gke}\n") == [
        {"ipBlock": {"cidr": "35.191.0.0/16"}},
        {"ipBlock": {"cidr": "130.211.0.0/22"}},
    ]
    subnet = ROUTED + "gateway: {implementation: gke, cidrs: [10.129.0.0/23]}\n"
    assert _route_sources(tmp_path, subnet) == [{"ipBlock": {"cidr": "10.129.0.0/23"}}]
    custom = ROUTED + "gateway: {namespace: edge, podLabels: {app: proxy}}\n"
    assert _route_sources(tmp_path, custom) == [
        {
            "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "edge"}},
            "podSelector": {"matchLabels": {"app": "proxy"}},
        }
    ]
