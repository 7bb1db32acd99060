"""What Kueue adds to a queued workload's pods when it admits it: its flavors' node labels and tolerations.

Read in kubernetes-sigs/kueue v0.19.2: at admission each PodSet gets, for every resource group, the
flavor Kueue chose; ``podset.FromAssignment`` (pkg/podset/podset.go) copies each chosen flavor's
``spec.nodeLabels`` into the pod template's ``nodeSelector`` and appends its ``spec.tolerations``
(``Merge``: tolerations already there are not repeated; a node label that conflicts with the template's own
selector makes the merge fail, and nothing is injected). A flavor's ``nodeTaints`` are only checked, never
tolerated for the pod. The flavor chosen is the one ``kube.kueue_admission.admit`` gives (the first that
fits, as Kueue tries them): render and lint share that model. A workload Kueue cannot admit, or whose
queue is not among the objects of the run, is left as written.
"""

from __future__ import annotations

from typing import Any

from mlgitops.kube.kueue_admission import admit
from mlgitops.kube.kueue_queues import QUEUE_LABEL, Queues, pod_sets, queue_name
from mlgitops.kube.pod_shapes import FieldPath, mapping, value_at

Origins = dict[FieldPath, FieldPath]


def admitted_pods(obj: dict[str, Any], queues: Queues) -> Origins:
    """Inject, into ``obj`` (a private copy), what Kueue adds to its pods at admission; the origins of what it added."""
    origins: Origins = {}
    queue = queue_name(obj)
    if queue is None or not queues.cluster_queues:
        return origins
    namespace = str(value_at(obj, ("metadata", "namespace")) or "default")
    cluster_queue = queues.cluster_queue_of(namespace, queue)
    if cluster_queue is None:
        return origins
    sets = pod_sets(obj)
    admission = admit(sets, cluster_queue, queues)
    if not admission.admitted:
        return origins
    label: FieldPath = ("metadata", "labels", QUEUE_LABEL)
    for pod_set, given in zip(sets, admission.flavors, strict=False):
        pod = value_at(obj, pod_set.path)
        if not isinstance(pod, dict):
            continue
        for name in dict.fromkeys(given.values()):
            found = queues.flavors.get(name)
            if found is None:
                continue
            selector = mapping(pod.get("nodeSelector"))
            if any(str(selector.get(key, value)) != value for key, value in found.node_labels.items()):
                continue  # Kueue refuses the merge: the template selects other nodes
            if found.node_labels:
                merged = pod.setdefault("nodeSelector", {}) if isinstance(pod.get("nodeSelector"), dict) else {}
                pod["nodeSelector"] = merged
                for key, value in found.node_labels.items():
                    if key not in merged:
                        merged[key] = value
                        origins[tuple([*pod_set.path, "nodeSelector", key])] = label
            if found.tolerations and pod.get("tolerations") is None:
                pod["tolerations"] = []
            tolerations = pod.get("tolerations")
            if not isinstance(tolerations, list):
                continue
            for toleration in found.tolerations:
                if dict(toleration) not in tolerations:
                    origins[tuple([*pod_set.path, "tolerations", len(tolerations)])] = label
                    tolerations.append(dict(toleration))
    return origins
