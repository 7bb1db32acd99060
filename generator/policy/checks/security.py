"""Security and secret rules: non-root pods, no plaintext secrets, memory limits, network isolation."""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator
from typing import Any

from mlgitops.kube.manifest import Manifest
from mlgitops.kube.trainjob import runtime_sets_security
from mlgitops.policy.checks import check
from mlgitops.policy.checks.pods import each_template, resources_of
from mlgitops.policy.checks.storage import context_all
from mlgitops.policy.model import Policy, PolicyContext, Violation
from mlgitops.policy.severity import Severity
from mlgitops.policy.targets import is_workload, templates

Found = Iterator[tuple[Manifest, Violation]]


@check("security-non-root")
def security_non_root(manifests: list[Manifest], policy: Policy, context: PolicyContext) -> Found:
    """Root is ruled out by ``runAsNonRoot: true`` or a non-zero ``runAsUser``, on the container or else the pod."""
    for manifest, template in each_template(manifests):
        pod_context = _mapping(template.spec.get("securityContext"))
        for container in template.containers:
            own = _mapping(container.spec.get("securityContext"))
            user = own.get("runAsUser", pod_context.get("runAsUser"))
            non_root = own.get("runAsNonRoot", pod_context.get("runAsNonRoot"))
            where = (*container.path, "securityContext") if own else (*template.path, "securityContext")
            if user == 0:
                yield manifest, Violation(f"{container.label} runs as root (runAsUser: 0)", where)
            elif non_root is False and not _positive(user):
                yield manifest, Violation(f"{container.label} may run as root (runAsNonRoot: false)", where)
            elif not _positive(user) and non_root is not True and runtime_sets_security(manifest.obj):
                yield (
                    manifest,
                    Violation(
                        f"{container.label} runs as its training runtime's template says: a TrainJob of Kubeflow "
                        "Trainer before 2.2 cannot set a securityContext (podTemplateOverrides, podSpecOverrides); "
                        "check the runtime's",
                        where,
                        severity=Severity.INFO,
                    ),
                )
            elif not _positive(user) and non_root is not True and not template.partial:
                yield (
                    manifest,
                    Violation(
                        f"{container.label} may run as root: set runAsNonRoot: true or a non-zero runAsUser on the pod "
                        "or the container",
                        where,
                    ),
                )


def _positive(user: Any) -> bool:
    return isinstance(user, int) and not isinstance(user, bool) and user > 0


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


@check("resources-limits")
def resources_limits(manifests: list[Manifest], policy: Policy, context: PolicyContext) -> Found:
    wanted = ["memory", *(["cpu"] if policy.params.get("requireCpuLimit") else [])]
    for manifest, template in each_template(manifests):
        if template.partial:
            continue
        for container in template.containers:
            _, limits = resources_of(container.spec)
            missing = [name for name in wanted if name not in limits]
            if missing:
                yield (
                    manifest,
                    Violation(f"{container.label} has no {' or '.join(missing)} limit", (*container.path, "resources", "limits")),
                )


@check("plaintext-secret")
def plaintext_secret(manifests: list[Manifest], policy: Policy, context: PolicyContext) -> Found:
    """Secrets with values in git, and literal env values whose name says secret and whose value could be one."""
    for manifest in manifests:
        if manifest.ref.kind == "Secret" and manifest.ref.api_version == "v1":
            for key in ("data", "stringData"):
                values = manifest.obj.get(key)
                encoded = key == "data"
                if isinstance(values, dict) and any(holds_material(value, encoded=encoded) for value in values.values()):
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
        for template in templates(manifest):
            for container in template.containers:
                for index, variable in enumerate(container.spec.get("env") or []):
                    if not isinstance(variable, dict):
                        continue
                    name = str(variable.get("name", ""))
                    if names_a_secret(name) and could_be_secret(variable.get("value")):
                        yield (
                            manifest,
                            Violation(
                                f"env var {name!r} of {container.label} holds a literal value; read it from a Secret "
                                "with valueFrom.secretKeyRef",
                                (*container.path, "env", index, "value"),
                            ),
                        )


# A name is secret-like when its last word (or last two) names a credential: DB_PASSWORD, HF_TOKEN,
# WANDB_API_KEY, AWS_SECRET_ACCESS_KEY; not TOKENIZERS_PARALLELISM, PASS_DEVICE_SPECS or TOKEN_PATH.
SECRET_WORDS = frozenset(
    ("PASSWORD", "PASSWD", "PASS", "PWD", "PASSPHRASE", "SECRET", "TOKEN", "CREDENTIAL", "CREDENTIALS", "APIKEY")
)
SECRET_WORD_PAIRS = frozenset(
    (
        ("API", "KEY"),
        ("ACCESS", "KEY"),
        ("SECRET", "KEY"),
        ("PRIVATE", "KEY"),
        ("SIGNING", "KEY"),
        ("ENCRYPTION", "KEY"),
        ("MASTER", "KEY"),
        ("ACCOUNT", "KEY"),
        ("AUTH", "KEY"),
    )
)
_WORD = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+")
_PLACEHOLDER = re.compile(r"\$\([A-Za-z_][A-Za-z0-9_]*\)|\$\{[^}]*\}|\{\{.*\}\}|<[^<>]*>")
_NOT_SECRET_TEXT = re.compile(
    r"(?i:true|false|yes|no|on|off|null|none)"  # booleans and empty markers
    r"|[-+]?[0-9][0-9_.]*"  # numbers
    r"|(/|\./|\.\./|~/)\S*"  # paths
    r"|[\w.-]+\.(json|pem|key|crt|cert|p12|txt|ya?ml|toml|ini|conf)"  # file names
    r"|\$\([A-Za-z_][A-Za-z0-9_]*\)|\$\{[^}]*\}|\{\{.*\}\}|<[^<>]*>"  # references and placeholders
)


def names_a_secret(name: str) -> bool:
    """Whether an env var name ends in a credential word, judged by whole words (``HF_TOKEN`` yes, ``TOKENIZERS_X`` no)."""
    words = [word.upper() for word in _WORD.findall(name)]
    return bool(words) and (words[-1] in SECRET_WORDS or tuple(words[-2:]) in SECRET_WORD_PAIRS)


def _literal(value: Any, *, encoded: bool) -> str | None:
    """A value's text (a Secret's ``data`` decoded from base64), stripped; None for what is no text."""
    if not isinstance(value, str):
        return None
    text = value.strip()
    if encoded:
        try:
            return base64.b64decode(text, validate=True).decode("utf-8").strip()
        except (ValueError, UnicodeDecodeError):
            return text  # not base64: the text itself
    return text


def holds_material(value: Any, *, encoded: bool = False) -> bool:
    """Whether a Secret's value holds something (anything but empty, a $(VAR)/${VAR} reference or a <placeholder>).

    Whatever a Secret holds is secret by intent, a number included (a Redis password "5241590000000000",
    or 61728394 written unquoted).
    """
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return True
    text = _literal(value, encoded=encoded)
    return bool(text) and not _PLACEHOLDER.fullmatch(text or "")


def could_be_secret(value: Any, *, encoded: bool = False) -> bool:
    """Whether a literal value could be a credential: not empty, a boolean, a number, a path, a reference or a placeholder."""
    text = _literal(value, encoded=encoded)
    return bool(text) and not _NOT_SECRET_TEXT.fullmatch(text or "")


@check("network-policy")
def network_policy(manifests: list[Manifest], policy: Policy, context: PolicyContext) -> Found:
    everything = context_all(manifests, context)
    protected = {m.namespace for m in everything if m.ref.kind == "NetworkPolicy"}
    reported: set[str] = set()
    for manifest in manifests:
        namespace = manifest.namespace
        if is_workload(manifest) and namespace not in protected and namespace not in reported:
            reported.add(namespace)
            shown = manifest.ref.namespace or "the default namespace"
            yield (
                manifest,
                Violation(
                    f"{shown} runs pods but has no NetworkPolicy: every pod in the cluster can reach them",
                    ("metadata",),
                ),
            )
