"""The environment's NetworkPolicy: deny all ingress, then allow each serving port from its sources, and the
traffic multi-pod workloads need among their own pods (distributed training's rendezvous, a Ray cluster)."""

from __future__ import annotations

from typing import Any

from mlgitops.render.kinds import renderer_of
from mlgitops.render.metadata import ObjectMeta, object_meta, selector_labels
from mlgitops.render.monitoring import metrics_port
from mlgitops.render.traffic import gateway_proxies, traffic_sources
from mlgitops.spec.container import WorkloadBase
from mlgitops.spec.environment import Environment
from mlgitops.spec.inference_pool import PICKER_SUFFIX
from mlgitops.spec.llm import LlmServing
from mlgitops.spec.monitoring import PodMetrics
from mlgitops.spec.ray import RayWorkloadBase
from mlgitops.spec.serving import IngressPeer, ServerBase
from mlgitops.spec.training import DistributedTraining

DEFAULT_DENY_NAME = "default-deny-ingress"


def _peer(peer: IngressPeer) -> dict[str, Any]:
    if peer.cidr is not None:
        return {"ipBlock": {"cidr": peer.cidr}}
    rendered: dict[str, Any] = {}
    if peer.namespace_labels is not None:
        rendered["namespaceSelector"] = {"matchLabels": dict(sorted(peer.namespace_labels.items()))}
    if peer.pod_labels is not None:
        rendered["podSelector"] = {"matchLabels": dict(sorted(peer.pod_labels.items()))}
    return rendered


def _server_rule(workload: ServerBase, default_peers: list[IngressPeer]) -> dict[str, Any]:
    peers = workload.allow_from if workload.allow_from is not None else default_peers
    # Without configured sources, only pods of the same namespace may call the server.
    rule: dict[str, Any] = {"from": [_peer(peer) for peer in peers] or [{"podSelector": {}}]}
    # A KServe predictor's ports are chosen by its runtime: without declared ports the rule covers all.
    ports = workload.service_ports()
    if ports:
        rule["ports"] = [{"protocol": port.protocol, "port": port.port} for port in ports]
    return rule


def _own_pods(name: str) -> dict[str, Any]:
    return {"from": [{"podSelector": {"matchLabels": selector_labels(name)}}]}


def _traffic_rules(environment: Environment, workload: ServerBase) -> list[dict[str, Any]]:
    """Allow rules that follow the workload's Ingress or HTTPRoute: its forwarders may reach the exposed port."""
    rules = []
    numbers = {port.name: port for port in workload.service_ports()}
    for peers, port_name in traffic_sources(environment, workload):
        port = numbers[port_name]
        rules.append({"from": [_peer(peer) for peer in peers], "ports": [{"protocol": port.protocol, "port": port.port}]})
    return rules


def server_ingress(environment: Environment, workload: ServerBase, default_peers: list[IngressPeer]) -> list[dict[str, Any]]:
    """A server's ports from its sources (allowFrom, else the environment's), and from what its Ingress or HTTPRoute
    forwards."""
    return [_server_rule(workload, default_peers), *_traffic_rules(environment, workload)]


def llm_ingress(environment: Environment, workload: LlmServing, default_peers: list[IngressPeer]) -> list[dict[str, Any]]:
    """A server's rules; the pods of a LeaderWorkerSet group also talk to each other on ports of their own (Ray, NCCL,
    torch.distributed); the endpoint picker of its InferencePool scrapes the server's metrics on its port."""
    own = [_own_pods(workload.name)] if workload.multi_node else []
    picker = []
    if workload.inference_pool is not None:
        peer = {"podSelector": {"matchLabels": selector_labels(f"{workload.name}{PICKER_SUFFIX}")}}
        picker = [{"from": [peer], "ports": [{"protocol": "TCP", "port": workload.port}]}]
    return [_server_rule(workload, default_peers), *own, *picker, *_traffic_rules(environment, workload)]


def picker_ingress(environment: Environment, workload: LlmServing, ports: tuple[int, int]) -> list[dict[str, Any]]:
    """Who reaches an InferencePool's endpoint picker: the gateway's proxies (ext-proc, ``ports[0]``), and the
    environment's allowed sources (Prometheus; metrics, ``ports[1]``)."""
    route = workload.http_route
    policy = environment.network_policy
    defaults = policy.allow_from if policy is not None else []
    if route is not None:
        gateway = gateway_proxies(environment, route.gateway.name, route.gateway.namespace or environment.namespace)
        callers = route.allow_from if route.allow_from is not None else gateway
    else:
        callers = defaults
    return [
        {"from": [_peer(peer) for peer in callers] or [{"podSelector": {}}], "ports": [{"protocol": "TCP", "port": ports[0]}]},
        {"from": [_peer(peer) for peer in defaults] or [{"podSelector": {}}], "ports": [{"protocol": "TCP", "port": ports[1]}]},
    ]


def network_policy(environment: Environment, meta: ObjectMeta, app: str, rules: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The allow policy of pods labelled ``app`` (a server's canary, an endpoint picker), metadata after ``meta``'s;
    None when the environment renders no network policy."""
    policy = environment.network_policy
    if policy is None or not policy.enabled or not rules:
        return None
    name = f"allow-{app}"[:63].rstrip("-")
    labels = {**meta.labels, "app.kubernetes.io/name": app, "app.kubernetes.io/component": "network"}
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": ObjectMeta(name, dict(sorted(labels.items())), meta.annotations).render(environment.namespace),
        "spec": {"podSelector": {"matchLabels": selector_labels(app)}, "policyTypes": ["Ingress"], "ingress": rules},
    }


def ray_ingress(environment: Environment, workload: RayWorkloadBase, default_peers: list[IngressPeer]) -> list[dict[str, Any]]:
    """Ray pods talk to each other on many ports; the job submitter runs in the namespace, and the KubeRay operator
    (and any ingress to Ray Serve) reach the head from the sources allowed to the workload."""
    peers = workload.allow_from if workload.allow_from is not None else default_peers
    return [{"from": [{"podSelector": {}}, *(_peer(peer) for peer in peers)]}]


def distributed_ingress(
    environment: Environment, workload: DistributedTraining, default_peers: list[IngressPeer]
) -> list[dict[str, Any]]:
    """torchrun's rendezvous and collectives: the training pods reach each other, nobody else reaches them."""
    return [_own_pods(workload.name)] if workload.pods > 1 else []


def _scrape_rules(workload: WorkloadBase, default_peers: list[IngressPeer]) -> list[dict[str, Any]]:
    """Prometheus (among the environment's sources) may reach a run's metrics port (a PodMonitor's target)."""
    metrics = getattr(workload, "metrics", None)
    if not isinstance(metrics, PodMetrics) or not default_peers:
        return []
    port = metrics_port(workload, metrics)
    return [{"from": [_peer(peer) for peer in default_peers], "ports": [{"protocol": "TCP", "port": port}]}]


def render_network_policies(environment: Environment, environment_name: str) -> list[tuple[dict[str, Any], int | None]]:
    """The policies, each with the index of the serving workload it opens (None for default-deny)."""
    policy = environment.network_policy
    if policy is None or not policy.enabled:
        return []
    deny_meta = object_meta(environment, environment_name, name=DEFAULT_DENY_NAME, app=DEFAULT_DENY_NAME, component="network")
    deny: list[dict[str, Any]] = [
        {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": deny_meta.render(environment.namespace),
            "spec": {"podSelector": {}, "policyTypes": ["Ingress"]},
        }
    ]
    objects: list[tuple[dict[str, Any], int | None]] = [(deny[0], None)]
    for index, workload in enumerate(environment.workloads):
        # Who may reach the workload's pods beyond the default deny is its kind's (render/kinds.py); none by default.
        ingress = renderer_of(workload).ingress
        rules = ingress(environment, workload, policy.allow_from) if ingress is not None else []
        rules += _scrape_rules(workload, policy.allow_from)
        if not rules:
            continue
        name = f"allow-{workload.name}"[:63].rstrip("-")
        meta = object_meta(environment, environment_name, name=name, app=workload.name, component="network")
        objects.append(
            (
                {
                    "apiVersion": "networking.k8s.io/v1",
                    "kind": "NetworkPolicy",
                    "metadata": meta.render(environment.namespace),
                    "spec": {
                        "podSelector": {"matchLabels": selector_labels(workload.name)},
                        "policyTypes": ["Ingress"],
                        "ingress": rules,
                    },
                },
                index,
            )
        )
    return objects
