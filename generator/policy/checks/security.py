"""Security and secret rules: non-root pods, no plaintext secrets, Secrets that exist, network isolation."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from generator.kube.manifest import Manifest
from generator.policy.checks.pods import all_containers, each_pod, resources_of
from generator.policy.checks.storage import _annotated, context_all
from generator.policy.model import Policy, PolicyContext, Violation
from generator.policy.redaction import SECRET_NAME
from generator.policy.targets import is_workload

Found = Iterator[tuple[Manifest, Violation]]
EXTERNAL_SECRETS = "mlgitops.io/external-secrets"


def security_non_root(manifests: list[Manifest], policy: Policy, context: PolicyContext) -> Found:
    for manifest, pod_path, pod in each_pod(manifests):
        pod_context: dict[str, Any] = pod["securityContext"] if isinstance(pod.get("securityContext"), dict) else {}
        pod_says = pod_context.get("runAsNonRoot") is True and pod_context.get("runAsUser") != 0
        for path, container in all_containers(manifest, pod_path, pod):
            own: dict[str, Any] = container["securityContext"] if isinstance(container.get("securityContext"), dict) else {}
            if own.get("runAsUser") == 0 or own.get("runAsNonRoot") is False:
                yield (
                    manifest,
                    Violation(f"container {container.get('name')!r} runs as root", (*path, "securityContext")),
                )
            elif not pod_says and own.get("runAsNonRoot") is not True:
                yield (
                    manifest,
                    Violation(
                        f"container {container.get('name')!r} may run as root: set runAsNonRoot: true on the pod or "
                        "the container",
                        (*path, "securityContext") if own else (*pod_path, "securityContext"),
                    ),
                )


def resources_limits(manifests: list[Manifest], policy: Policy, context: PolicyContext) -> Found:
    wanted = ["memory", *(["cpu"] if policy.params.get("requireCpuLimit") else [])]
    for manifest, pod_path, pod in each_pod(manifests):
        for path, container in all_containers(manifest, pod_path, pod):
            _, limits = resources_of(container)
            missing = [name for name in wanted if name not in limits]
            if missing:
                yield (
                    manifest,
                    Violation(
                        f"container {container.get('name')!r} has no {' or '.join(missing)} limit",
                        (*path, "resources", "limits"),
                    ),
                )


def plaintext_secret(manifests: list[Manifest], policy: Policy, context: PolicyContext) -> Found:
    for manifest in manifests:
        if manifest.ref.kind == "Secret":
            for key in ("data", "stringData"):
                if manifest.obj.get(key):
                    yield (
                        manifest,
                        Violation(
                            f"Secret {manifest.ref.name!r} carries values in git ({key}); materialise it from a secret "
                            "store (ExternalSecret) or seal it",
                            (key,),
                            at_key=True,
                        ),
                    )
            continue
        if not is_workload(manifest):
            continue
        for _, pod_path, pod in each_pod([manifest]):
            for path, container in all_containers(manifest, pod_path, pod):
                for index, variable in enumerate(container.get("env") or []):
                    if not isinstance(variable, dict):
                        continue
                    name = str(variable.get("name", ""))
                    if SECRET_NAME.search(name) and isinstance(variable.get("value"), str) and variable["value"]:
                        yield (
                            manifest,
                            Violation(
                                f"env var {name!r} of container {container.get('name')!r} holds a literal value; read it "
                                "from a Secret with valueFrom.secretKeyRef",
                                (*path, "env", index, "value"),
                            ),
                        )


def _produced_secrets(everything: list[Manifest]) -> set[tuple[str, str]]:
    produced = set()
    for manifest in everything:
        kind = manifest.ref.kind
        if kind in ("Secret", "SealedSecret"):
            produced.add((manifest.ref.namespace, manifest.ref.name))
        elif kind == "ExternalSecret":
            target = ((manifest.obj.get("spec") or {}).get("target") or {}).get("name") or manifest.ref.name
            produced.add((manifest.ref.namespace, str(target)))
    return produced


def _secret_uses(pod: dict[str, Any], containers: list[tuple[Any, dict[str, Any]]]) -> Iterator[tuple[tuple[Any, ...], str]]:
    for index, volume in enumerate(pod.get("volumes") or []):
        if isinstance(volume, dict) and isinstance(volume.get("secret"), dict):
            yield ("volumes", index, "secret", "secretName"), str(volume["secret"].get("secretName"))
    for index, pull in enumerate(pod.get("imagePullSecrets") or []):
        # A missing pull secret is an ImagePullBackOff.
        if isinstance(pull, dict) and pull.get("name"):
            yield ("imagePullSecrets", index, "name"), str(pull["name"])
    for path, container in containers:
        for index, variable in enumerate(container.get("env") or []):
            reference = ((variable or {}).get("valueFrom") or {}).get("secretKeyRef") if isinstance(variable, dict) else None
            if isinstance(reference, dict):
                yield (*path, "env", index, "valueFrom", "secretKeyRef", "name"), str(reference.get("name"))
        for index, source in enumerate(container.get("envFrom") or []):
            reference = (source or {}).get("secretRef") if isinstance(source, dict) else None
            if isinstance(reference, dict):
                yield (*path, "envFrom", index, "secretRef", "name"), str(reference.get("name"))


def secret_reference(manifests: list[Manifest], policy: Policy, context: PolicyContext) -> Found:
    produced = _produced_secrets(context_all(manifests, context))
    for manifest, pod_path, pod in each_pod(manifests):
        external = _annotated(manifest, pod_path, EXTERNAL_SECRETS)
        used = _secret_uses(pod, all_containers(manifest, pod_path, pod))
        for path, name in used:
            full = path if path[0] not in ("volumes", "imagePullSecrets") else (*pod_path, *path)
            if (manifest.ref.namespace, name) not in produced and name not in external:
                yield (
                    manifest,
                    Violation(
                        f"Secret {name!r} is not produced by an ExternalSecret or SealedSecret of this set; add one, or "
                        f"declare it in the {EXTERNAL_SECRETS} annotation if it is created elsewhere",
                        full,
                    ),
                )


def network_policy(manifests: list[Manifest], policy: Policy, context: PolicyContext) -> Found:
    everything = context_all(manifests, context)
    protected = {m.ref.namespace for m in everything if m.ref.kind == "NetworkPolicy"}
    reported: set[str] = set()
    for manifest in manifests:
        namespace = manifest.ref.namespace
        if is_workload(manifest) and namespace not in protected and namespace not in reported:
            reported.add(namespace)
            shown = namespace or "the default namespace"
            yield (
                manifest,
                Violation(
                    f"{shown} runs pods but has no NetworkPolicy: every pod in the cluster can reach them",
                    ("metadata",),
                ),
            )
