"""Kueue's queueing objects and queued workloads, read from Kubernetes objects for the admission model.

``Queues.of(objects)`` indexes ResourceFlavors, ClusterQueues, LocalQueues and Topologies
(kueue.x-k8s.io/v1beta2, the same fields in v1beta1); ``pod_sets(obj)`` turns a queued workload
into the PodSets Kueue builds from it. ``kube/kueue_admission.py`` decides admission on them; render
(its self-check and the quotas it derives) and lint (rules kueue-quota and kueue-budget) both call it.

Facts, read in kubernetes-sigs/kueue v0.19.2 (same logic at main ``ff69552e``):

- The queue is named only by the label ``kueue.x-k8s.io/queue-name`` (``QueueNameForObject``,
  pkg/controller/jobframework/utils.go; the annotation fallback was removed in v0.15.0).
- A PodSet's topology request comes from its **pod template's** annotations
  ``kueue.x-k8s.io/podset-{required,preferred,unconstrained}-topology``
  (``podSetTopologyRequestBuilder.Build``, pkg/controller/jobframework/tas.go), for Jobs, Kubeflow jobs,
  JobSets (a TrainJob's child JobSet, built with its runtime patches: ``getChildJobSet`` in
  pkg/controller/jobs/trainjob/trainjob_controller.go), and a Ray cluster's head and worker templates
  (``BuildPodSets``, pkg/controller/jobs/raycluster/common.go).
- A RayJob in ``K8sJobMode`` (KubeRay's default) has one more PodSet, the submitter, with KubeRay's default
  requests of 500m CPU and 200Mi unless ``submitterPodTemplate`` is written (``defaultSubmitterResources``,
  pkg/controller/jobs/rayjob/rayjob_controller.go).
- DRA devices count against the quota of the name Kueue's ``deviceClassMappings`` give their DeviceClass;
  mlgitops names it after the class (docs site/content/en/docs/concepts/dynamic_resource_allocation.md).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from mlgitops.kube.footprint import claim_templates, claimed_devices, effective_requests
from mlgitops.kube.pods import FieldPath, mapping, pod_templates, value_at, whole
from mlgitops.kube.quantity import QuantityError, parse_quantity

KUEUE_GROUP = "kueue.x-k8s.io"
QUEUE_LABEL = "kueue.x-k8s.io/queue-name"
REQUIRED_TOPOLOGY = "kueue.x-k8s.io/podset-required-topology"
PREFERRED_TOPOLOGY = "kueue.x-k8s.io/podset-preferred-topology"
UNCONSTRAINED_TOPOLOGY = "kueue.x-k8s.io/podset-unconstrained-topology"
TOPOLOGY_ANNOTATIONS = {"required": REQUIRED_TOPOLOGY, "preferred": PREFERRED_TOPOLOGY, "unconstrained": UNCONSTRAINED_TOPOLOGY}
"""The annotation of each topology-request mode (Kueue ≥ 0.9 for required/preferred, ≥ 0.11 for unconstrained)."""
SUBMITTER_REQUESTS = {"cpu": Decimal("0.5"), "memory": Decimal(200 * 1024 * 1024)}
"""KubeRay's default submitter pod requests, which Kueue counts for a RayJob in K8sJobMode."""


def amount(value: Any) -> Decimal | None:
    """A quantity as written in a quota (None when malformed or absent)."""
    if value is None or isinstance(value, bool):
        return None
    try:
        return parse_quantity(str(value))
    except QuantityError:
        return None


@dataclass(frozen=True)
class Flavor:
    """A ResourceFlavor: the node labels Kueue matches and injects, the taints it checks, and its topology (TAS)."""

    name: str
    node_labels: Mapping[str, str] = field(default_factory=dict)
    node_taints: tuple[Mapping[str, Any], ...] = ()
    tolerations: tuple[Mapping[str, Any], ...] = ()
    topology: str | None = None
    """spec.topologyName: the flavor is a topology-aware (TAS) flavor."""


@dataclass(frozen=True)
class Quota:
    """One (flavor, resource) of a ClusterQueue: nominalQuota, and borrowingLimit/lendingLimit when set."""

    nominal: Decimal
    borrowing_limit: Decimal | None = None
    lending_limit: Decimal | None = None
    path: FieldPath = ()
    """Where the resource's entry is written in the ClusterQueue."""


@dataclass(frozen=True)
class ResourceGroup:
    """Resources Kueue assigns together: each PodSet gets one flavor for all of them, the first that fits."""

    covered: tuple[str, ...]
    flavors: tuple[tuple[str, Mapping[str, Quota]], ...]
    """(flavor name, quota per resource) in the order Kueue tries them."""


@dataclass(frozen=True)
class ClusterQueue:
    """A ClusterQueue's resource groups and cohort (``cohortName`` in v1beta2, ``cohort`` in v1beta1)."""

    name: str
    groups: tuple[ResourceGroup, ...]
    cohort: str | None = None

    def group_of(self, resource: str) -> int | None:
        """Index of the resource group covering ``resource`` (None: the queue does not cover it)."""
        return next((index for index, group in enumerate(self.groups) if resource in group.covered), None)

    def quotas(self) -> Iterable[tuple[str, str, Quota]]:
        """Every (flavor, resource, quota) of the queue."""
        for group in self.groups:
            for flavor, quotas in group.flavors:
                for resource, quota in quotas.items():
                    yield flavor, resource, quota


@dataclass(frozen=True)
class TopologyRequest:
    """A PodSet's explicit topology request: ``mode`` (required, preferred, unconstrained) and its level (a node label)."""

    mode: str
    level: str | None


@dataclass(frozen=True)
class PodSet:
    """What Kueue admits together: ``count`` pods of one template, each requesting ``requests``."""

    name: str
    count: int
    requests: Mapping[str, Decimal]
    node_selector: Mapping[str, str] = field(default_factory=dict)
    affinity_terms: tuple[tuple[Mapping[str, Any], ...], ...] | None = None
    """Required node affinity: ORed terms of ANDed matchExpressions (None: none written)."""
    tolerations: tuple[Mapping[str, Any], ...] = ()
    topology: TopologyRequest | None = None
    path: FieldPath = ()
    """The pod spec's path in the workload object."""
    metadata_path: FieldPath | None = None
    """The pod template's metadata (where topology annotations go)."""


@dataclass
class Queues:
    """The Kueue objects among a set of manifests; a name defined twice differently maps to None (not judged)."""

    cluster_queues: dict[str, ClusterQueue | None] = field(default_factory=dict)
    local_queues: dict[tuple[str, str], str | None] = field(default_factory=dict)
    """(namespace, LocalQueue) → its ClusterQueue."""
    flavors: dict[str, Flavor | None] = field(default_factory=dict)
    topologies: dict[str, tuple[str, ...] | None] = field(default_factory=dict)
    """Topology name → its levels' node labels, broadest first."""
    derived: dict[Any, Any] = field(default_factory=dict, compare=False, repr=False)
    """What is worked out from the queues once and asked for per workload (each cohort's members, each queue's
    capacity, the namespaces feeding each queue): a Queues is not changed once made (``of``), so thousands of
    workloads of one cohort do not each scan its queues again."""

    @classmethod
    def of(cls, objects: Iterable[tuple[dict[str, Any], str]]) -> Queues:
        """Index ``(object, namespace)`` pairs; objects of other API groups are skipped."""
        found = cls()
        for obj, namespace in objects:
            if str(obj.get("apiVersion", "")).rpartition("/")[0] != KUEUE_GROUP:
                continue
            kind, name, spec = str(obj.get("kind")), str(value_at(obj, ("metadata", "name"))), mapping(obj.get("spec"))
            if kind == "ClusterQueue":
                _put(found.cluster_queues, name, cluster_queue(name, spec))
            elif kind == "ResourceFlavor":
                _put(found.flavors, name, flavor(name, spec))
            elif kind == "Topology":
                levels = spec.get("levels")
                listed = levels if isinstance(levels, list) else []
                _put(found.topologies, name, tuple(str(mapping(level).get("nodeLabel")) for level in listed))
            elif kind == "LocalQueue" and isinstance(spec.get("clusterQueue"), str):
                _put(found.local_queues, (namespace, name), str(spec["clusterQueue"]))
        return found

    def cluster_queue_of(self, namespace: str, queue: str) -> ClusterQueue | None:
        """The ClusterQueue behind LocalQueue ``queue`` of ``namespace`` (None: unknown here, or defined twice)."""
        name = self.local_queues.get((namespace, queue))
        return self.cluster_queues.get(name) if name is not None else None

    def cohort(self, name: str) -> list[ClusterQueue]:
        """The ClusterQueues of cohort ``name`` known here (read-only)."""
        cohorts: dict[str, list[ClusterQueue]] | None = self.derived.get("cohorts")
        if cohorts is None:
            cohorts = self.derived["cohorts"] = {}
            for known in self.cluster_queues.values():
                if known is not None and known.cohort is not None:
                    cohorts.setdefault(known.cohort, []).append(known)
        return cohorts.get(name, [])

    def feeding(self, cluster_queue: str) -> list[str]:
        """The namespaces whose LocalQueues point at ClusterQueue ``cluster_queue``, sorted."""
        fed: dict[str, set[str]] | None = self.derived.get("feeding")
        if fed is None:
            fed = self.derived["feeding"] = {}
            for (namespace, _), name in self.local_queues.items():
                if name is not None:
                    fed.setdefault(name, set()).add(namespace)
        return sorted(fed.get(cluster_queue, set()))


def _put(index: dict[Any, Any], key: Any, value: Any) -> None:
    index[key] = value if index.get(key, value) == value else None


def flavor(name: str, spec: Mapping[str, Any]) -> Flavor:
    """A ResourceFlavor from its spec."""
    labels = mapping(spec.get("nodeLabels"))
    taints = spec.get("nodeTaints")
    tolerations = spec.get("tolerations")
    topology = spec.get("topologyName")
    return Flavor(
        name,
        {str(k): str(v) for k, v in labels.items()},
        tuple(t for t in taints if isinstance(t, dict)) if isinstance(taints, list) else (),
        tuple(t for t in tolerations if isinstance(t, dict)) if isinstance(tolerations, list) else (),
        str(topology) if isinstance(topology, str) and topology else None,
    )


def cluster_queue(name: str, spec: Mapping[str, Any]) -> ClusterQueue:
    """A ClusterQueue from its spec (malformed entries are skipped: the schema rule reports them)."""
    groups = []
    written = spec.get("resourceGroups")
    for g, group in enumerate(written if isinstance(written, list) else []):
        covered = mapping(group).get("coveredResources")
        flavors = []
        listed = mapping(group).get("flavors")
        for f, entry in enumerate(listed if isinstance(listed, list) else []):
            quotas: dict[str, Quota] = {}
            resources = mapping(entry).get("resources")
            for r, resource in enumerate(resources if isinstance(resources, list) else []):
                resource = mapping(resource)
                if isinstance(resource.get("name"), str):
                    path: FieldPath = ("spec", "resourceGroups", g, "flavors", f, "resources", r)
                    quotas[resource["name"]] = Quota(
                        amount(resource.get("nominalQuota")) or Decimal(0),
                        amount(resource.get("borrowingLimit")),
                        amount(resource.get("lendingLimit")),
                        path,
                    )
            flavors.append((str(mapping(entry).get("name")), quotas))
        groups.append(ResourceGroup(tuple(str(c) for c in covered) if isinstance(covered, list) else (), tuple(flavors)))
    cohort = spec.get("cohortName", spec.get("cohort"))
    return ClusterQueue(name, tuple(groups), str(cohort) if isinstance(cohort, str) and cohort else None)


def queue_name(obj: Mapping[str, Any]) -> str | None:
    """The LocalQueue a workload object is submitted to (its queue-name label), or None."""
    queue = mapping(value_at(obj, ("metadata", "labels"))).get(QUEUE_LABEL)
    return queue if isinstance(queue, str) and queue else None


def topology_request(annotations: Mapping[str, Any]) -> TopologyRequest | None:
    """The explicit topology request a pod template's annotations make (Kueue reads required, then preferred, then
    unconstrained)."""
    for mode, key in TOPOLOGY_ANNOTATIONS.items():
        if key in annotations:
            value = str(annotations[key])
            if mode == "unconstrained":
                return TopologyRequest(mode, None) if value.lower() == "true" else None
            return TopologyRequest(mode, value)
    return None


def pod_requests(pod_spec: Mapping[str, Any], templates: Mapping[str, Mapping[str, int]]) -> dict[str, Decimal]:
    """What one pod asks the quota for: its effective requests, and DRA devices under their DeviceClass's name."""
    requests = {name: value for name, value in effective_requests(dict(pod_spec)).items() if value > 0}
    for device_class, devices in claimed_devices(
        dict(pod_spec), {name: dict(found) for name, found in templates.items()}
    ).items():
        requests[device_class] = requests.get(device_class, Decimal(0)) + devices
    return requests


def pod_sets(obj: dict[str, Any], templates: Mapping[str, Mapping[str, int]] | None = None) -> list[PodSet]:
    """The PodSets Kueue builds from a workload object, one per pod template (a TrainJob's runtime patches of jobs
    other than the trainer are left out: the runtime defines those pods). ``templates``: ResourceClaimTemplates by
    name (``kube.footprint.claim_templates``)."""
    claims = templates if templates is not None else claim_templates([obj])
    found = []
    kind = str(obj.get("kind"))
    # Kueue's pod integrations admit a Deployment pod by pod, and a LeaderWorkerSet group by group
    # (site/content/en/docs/tasks/run/deployment.md, leaderworkerset.md): one Workload is one pod, or one group.
    per_workload = {"Deployment": 1, "LeaderWorkerSet": max(1, whole(value_at(obj, ("spec", "replicas"))))}
    for template in pod_templates(obj):
        if template.job and str(obj.get("kind")) == "TrainJob":
            continue  # a runtime patch of an initializer or launcher: the runtime holds those pods
        pod = template.spec
        metadata = mapping(value_at(obj, template.metadata_path)) if template.metadata_path is not None else {}
        found.append(
            PodSet(
                _pod_set_name(obj, template.path),
                _count(kind, template.pods, per_workload),
                pod_requests(pod, claims),
                {str(k): str(v) for k, v in mapping(pod.get("nodeSelector")).items()},
                _affinity_terms(pod),
                tuple(t for t in pod.get("tolerations") or [] if isinstance(t, dict)),
                topology_request(mapping(metadata.get("annotations"))),
                template.path,
                template.metadata_path,
            )
        )
    spec = mapping(obj.get("spec"))
    k8s_job_mode = spec.get("submissionMode", "K8sJobMode") == "K8sJobMode"
    if str(obj.get("kind")) == "RayJob" and k8s_job_mode and "submitterPodTemplate" not in spec:
        found.append(PodSet("submitter", 1, dict(SUBMITTER_REQUESTS), path=("spec", "submitterPodTemplate")))
    return found


def _count(kind: str, pods: int | None, per_workload: Mapping[str, int]) -> int:
    if pods is None:
        return 1
    if kind == "Deployment":
        return min(pods, 1)
    if kind == "LeaderWorkerSet":
        return pods // per_workload[kind]
    return pods


def _pod_set_name(obj: dict[str, Any], path: FieldPath) -> str:
    """The PodSet's name as Kueue gives it: a Ray group's name ('head'), a replicated job's, a replica type's
    (lower-cased), an LWS 'leader'/'worker', else 'main'."""
    for index, segment in enumerate(path):
        if segment == "headGroupSpec":
            return "head"
        if segment in ("workerGroupSpecs", "replicatedJobs") and index + 1 < len(path):
            entry = mapping(value_at(obj, path[: index + 2]))
            return str(entry.get("groupName", entry.get("name", path[index + 1])))
        if isinstance(segment, str) and segment.endswith("ReplicaSpecs") and index + 1 < len(path):
            return str(path[index + 1]).lower()
        if segment in ("leaderTemplate", "workerTemplate"):
            return segment.removesuffix("Template")
    return "node" if path[:2] == ("spec", "trainer") else "main"


def _affinity_terms(pod: Mapping[str, Any]) -> tuple[tuple[Mapping[str, Any], ...], ...] | None:
    terms = value_at(pod, ("affinity", "nodeAffinity", "requiredDuringSchedulingIgnoredDuringExecution", "nodeSelectorTerms"))
    if not isinstance(terms, list):
        return None
    return tuple(
        tuple(e for e in mapping(term).get("matchExpressions") or [] if isinstance(e, dict))
        for term in terms
        if isinstance(term, dict)
    )
