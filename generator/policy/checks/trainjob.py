"""Rule trainingruntime-reference: a TrainJob's runtime is in the set, installed with Kubeflow Trainer, or declared.

Kubeflow Trainer's TrainJob webhook refuses a TrainJob whose (Cluster)TrainingRuntime does not exist
("specified trainingRuntime must be created before the TrainJob is created": kubeflow/trainer
`pkg/runtime/core/trainingruntime.go` ValidateObjects; `pkg/webhooks/trainjob_webhook.go` "unsupported runtime"),
so GitOps never creates it. The runtime exists when the run renders it (a TrainingRuntime in the TrainJob's
namespace, a ClusterTrainingRuntime), or when the TrainJob's `mlgitops.io/external-trainingruntimes` annotation
names it (render writes it for the runtimes the declared Trainer release installs and for the environment's
existingTrainingRuntimes). A TrainJob without that annotation (written by hand) may name any runtime some release
installs (kube/trainjob.py SHIPPED_RUNTIMES).
"""

from __future__ import annotations

from collections.abc import Iterator

from mlgitops.kube.manifest import Manifest
from mlgitops.kube.trainjob import ANY_SHIPPED_RUNTIME
from mlgitops.policy.checks import check
from mlgitops.policy.checks.storage import context_all
from mlgitops.policy.model import Policy, PolicyContext, Violation

Found = Iterator[tuple[Manifest, Violation]]
EXTERNAL_RUNTIMES = "mlgitops.io/external-trainingruntimes"
_RUNTIME_KINDS = ("TrainingRuntime", "ClusterTrainingRuntime")


@check("trainingruntime-reference")
def trainingruntime_reference(manifests: list[Manifest], policy: Policy, context: PolicyContext) -> Found:
    everything = context_all(manifests, context)
    produced = {
        (m.ref.kind, m.namespace if m.ref.kind == "TrainingRuntime" else "", m.ref.name)
        for m in everything
        if m.ref.kind in _RUNTIME_KINDS and m.ref.api_version.startswith("trainer.kubeflow.org/")
    }
    for manifest in manifests:
        if manifest.ref.kind != "TrainJob" or not manifest.ref.api_version.startswith("trainer.kubeflow.org/"):
            continue
        spec = manifest.obj.get("spec")
        reference = spec.get("runtimeRef") if isinstance(spec, dict) else None
        if not isinstance(reference, dict) or not isinstance(reference.get("name"), str):
            continue
        name = reference["name"]
        kind = str(reference.get("kind", "ClusterTrainingRuntime"))
        if (kind, manifest.namespace if kind == "TrainingRuntime" else "", name) in produced:
            continue
        metadata = manifest.obj.get("metadata")
        annotations = metadata.get("annotations") if isinstance(metadata, dict) else None
        declared = annotations.get(EXTERNAL_RUNTIMES) if isinstance(annotations, dict) else None
        if declared is None:
            if kind == "ClusterTrainingRuntime" and name in ANY_SHIPPED_RUNTIME:
                continue
        elif name in {part.strip() for part in str(declared).split(",")}:
            continue
        yield (
            manifest,
            Violation(
                f"TrainJob runs on {kind} {name!r}, which is neither in the set nor declared as existing: Kubeflow "
                "Trainer's webhook refuses the TrainJob until the runtime exists",
                ("spec", "runtimeRef", "name"),
            ),
        )
