"""Traffic into a serving workload: a networking.k8s.io/v1 Ingress or a Gateway API HTTPRoute."""

from __future__ import annotations

from typing import Any

from mlgitops.render.metadata import ObjectMeta
from mlgitops.spec.environment import Environment
from mlgitops.spec.inference_pool import POOL_GROUP
from mlgitops.spec.namespace import GKE_FRONT_END_RANGES, GatewaySpec
from mlgitops.spec.serving import IngressPeer, RouteBackend, ServerBase

GATEWAY_API = "gateway.networking.k8s.io/v1"
NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name"
ENVOY_GATEWAY_NAMESPACE = "envoy-gateway-system"


def exposed_port(workload: ServerBase, name: str | None) -> tuple[str, int]:
    """The (name, number) of the port ingress traffic goes to: the one named, or the first."""
    ports = workload.service_ports()
    port = next((p for p in ports if p.name == name), None) if name is not None else None
    chosen = port or ports[0]
    return chosen.name, chosen.port


def render_ingress(environment: Environment, workload: ServerBase, meta: ObjectMeta) -> dict[str, Any] | None:
    spec = workload.ingress
    if spec is None:
        return None
    port_name, _ = exposed_port(workload, spec.port)
    class_name = spec.class_name or (environment.ingress_controller.class_name if environment.ingress_controller else None)
    body: dict[str, Any] = {}
    if class_name is not None:
        body["ingressClassName"] = class_name
    if spec.tls_secret is not None:
        body["tls"] = [{"hosts": [spec.host], "secretName": spec.tls_secret}]
    body["rules"] = [
        {
            "host": spec.host,
            "http": {
                "paths": [
                    {
                        "path": spec.path,
                        "pathType": spec.path_type,
                        "backend": {"service": {"name": meta.name, "port": {"name": port_name}}},
                    }
                ]
            },
        }
    ]
    annotations = {**meta.annotations, **spec.annotations}
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": ObjectMeta(meta.name, meta.labels, annotations).render(environment.namespace),
        "spec": body,
    }


def render_http_route(environment: Environment, workload: ServerBase, meta: ObjectMeta) -> dict[str, Any] | None:
    spec = workload.http_route
    if spec is None:
        return None
    _, port_number = exposed_port(workload, spec.port)
    parent: dict[str, Any] = {"group": "gateway.networking.k8s.io", "kind": "Gateway", "name": spec.gateway.name}
    if spec.gateway.namespace is not None:
        parent["namespace"] = spec.gateway.namespace
    if spec.gateway.section_name is not None:
        parent["sectionName"] = spec.gateway.section_name
    body: dict[str, Any] = {"parentRefs": [parent]}
    if spec.hostnames:
        body["hostnames"] = list(spec.hostnames)
    body["rules"] = [
        {
            "matches": [{"path": {"type": spec.path_type, "value": spec.path}}],
            "backendRefs": [_backend(backend, port_number) for backend in workload.route_backends()],
        }
    ]
    return {"apiVersion": GATEWAY_API, "kind": "HTTPRoute", "metadata": meta.render(environment.namespace), "spec": body}


def _backend(backend: RouteBackend, port_number: int) -> dict[str, Any]:
    """A backendRef: a Service by port number (Gateway API has no named service ports), an InferencePool by name
    (its targetPorts say where), with a weight when the route splits traffic."""
    if backend.kind == "InferencePool":
        rendered: dict[str, Any] = {"group": POOL_GROUP, "kind": "InferencePool", "name": backend.name}
    else:
        rendered = {"group": "", "kind": "Service", "name": backend.name, "port": port_number}
    if backend.weight is not None:
        rendered["weight"] = backend.weight
    return rendered


def traffic_sources(environment: Environment, workload: ServerBase) -> list[tuple[list[IngressPeer], str]]:
    """Who forwards ingress traffic to the server, and to which port name: for the network policy's allow rules.

    An Ingress is forwarded by the ingress controller (its namespace), an HTTPRoute by the Gateway's
    proxies (where the environment's `gateway` says they run), unless the spec names the sources with `allowFrom`.
    """
    sources: list[tuple[list[IngressPeer], str]] = []
    ingress = workload.ingress
    if ingress is not None:
        peers = ingress.allow_from
        controller = environment.ingress_controller
        if peers is None and controller is not None and controller.namespace is not None:
            peers = [IngressPeer(namespace_labels={NAMESPACE_NAME_LABEL: controller.namespace})]
        if peers:
            sources.append((peers, exposed_port(workload, ingress.port)[0]))
    route = workload.http_route
    if route is not None:
        peers = route.allow_from
        if peers is None:
            peers = gateway_proxies(environment, route.gateway.name, route.gateway.namespace or environment.namespace)
        sources.append((peers, exposed_port(workload, route.port)[0]))
    return sources


def gateway_proxies(environment: Environment, gateway: str, namespace: str) -> list[IngressPeer]:
    """Where the proxies of Gateway ``gateway`` (in ``namespace``) run, by the environment's `gateway.implementation`
    (the facts and their sources: ``spec/namespace.py`` GatewaySpec)."""
    spec = environment.gateway or GatewaySpec()
    labels: dict[str, str]
    if spec.implementation == "envoy-gateway":
        home, labels = (
            ENVOY_GATEWAY_NAMESPACE,
            {
                "app.kubernetes.io/component": "proxy",
                "app.kubernetes.io/managed-by": "envoy-gateway",
                "gateway.envoyproxy.io/owning-gateway-name": gateway,
                "gateway.envoyproxy.io/owning-gateway-namespace": namespace,
            },
        )
    elif spec.implementation == "istio":
        home, labels = namespace, {"gateway.networking.k8s.io/gateway-name": gateway}
    else:
        home, labels = namespace, {}
    cidrs = list(spec.cidrs) or (list(GKE_FRONT_END_RANGES) if spec.implementation == "gke" else [])
    peers = [IngressPeer(cidr=cidr) for cidr in cidrs]
    if spec.implementation != "gke":
        pod_labels = spec.pod_labels if spec.pod_labels is not None else labels
        peer = IngressPeer(namespace_labels={NAMESPACE_NAME_LABEL: spec.namespace or home}, pod_labels=pod_labels or None)
        peers.insert(0, peer)
    return peers
