"""What a policy is, what a finding is, and what the engine knows about where objects run."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from mlgitops.errors import Location
from mlgitops.kube.cluster import ClusterPools, NodePoolFacts
from mlgitops.kube.manifest import FieldPath, Manifest, ObjectRef
from mlgitops.kube.pods import BUILT_IN_KINDS, Container
from mlgitops.policy.policy_file import Example, TargetKind
from mlgitops.policy.severity import Severity


@dataclass(frozen=True)
class Finding:
    """One policy violation, pointing at the offending field (or its nearest existing parent)."""

    rule: str
    severity: Severity
    message: str
    object_ref: ObjectRef
    location: Location
    source: Location | None = None
    """The environment-file line that produced a rendered object."""
    waiver: str | None = None
    """The waiver's reason, when the finding is waived (reported, never failing the run)."""
    fix: str = ""
    path: FieldPath = ()
    """The offending field within the object (what ``location`` points at in the object's file)."""
    render_fix: str | None = None
    """The fix in environment-file terms that the check worded for this finding (else the policy's renderFix)."""

    @property
    def sort_key(self) -> tuple[str, int, int, str, str]:
        return (self.location.file, self.location.line, self.location.column, self.rule, self.message)


@dataclass(frozen=True)
class PolicyContext:
    """What the engine knows beyond the objects themselves."""

    environment: str | None = None
    node_pools: tuple[NodePoolFacts, ...] = ()
    kubernetes_version: str = "1.32"
    custom_schemas: Any = None
    """CustomSchemas for custom resources (the project's own plus any --crd files)."""
    all_manifests: tuple[Manifest, ...] = ()
    """Every manifest of the run: cross-object checks look beyond the ones their policy matched."""
    gitops: tuple[str, ...] | None = None
    """GitOps engines known to sync the manifests (.mlgitops.yaml ``gitops:``, an environment's target); None:
    not said, judged from signs in the manifests (``policy.gitops_signs``)."""
    deployers: frozenset[str] | None = None
    """GitOps engines whose deploying objects are among ``all_manifests`` (``policy.gitops_signs.run_engines``, found
    once per run by the engine); None: not worked out yet."""
    environment_versions: tuple[tuple[str, str], ...] = ()
    """(environment, Kubernetes minor version) of the environments the run knows (lint of rendered/: each
    environment file's ``kubernetesVersion``); an object of such an environment is judged at its version."""
    file_versions: tuple[tuple[str, str], ...] = ()
    """(file, Kubernetes minor version) for files `render` generated: the version of the environment file their
    header names, which decides before ``environment_versions`` (two fleets with a ``staging`` each)."""

    def version_for(self, manifest: Manifest) -> str:
        """The Kubernetes version ``manifest`` is judged at: its file's environment's, its environment's, else the run's."""
        by_file = self._versions_by_file.get(manifest.file)
        if by_file is not None:
            return by_file
        for environment, version in self.environment_versions:
            if manifest.environment == environment:
                return version
        return self.kubernetes_version

    @cached_property
    def _versions_by_file(self) -> dict[str, str]:
        return dict(self.file_versions)

    @cached_property
    def pools(self) -> ClusterPools:
        """``node_pools``, indexed once for the scheduling checks (which pools admit a pod, offer an accelerator)."""
        return ClusterPools(self.node_pools)


@dataclass(frozen=True)
class Target:
    """A part of an object a policy looks at: the object, a pod spec, or one container."""

    manifest: Manifest
    value: Any
    path: FieldPath
    pod_path: FieldPath | None = None
    """For containers: the pod spec they belong to."""
    partial: bool = False
    """Part of an override of a pod defined elsewhere (a TrainJob's runtime): missing fields are not judged."""

    @property
    def label(self) -> str:
        """How a message names a container target: by name, or by where it stands when it has none."""
        if self.pod_path is None or not isinstance(self.value, dict):
            return ""
        init = len(self.path) >= 2 and self.path[-2] == "initContainers"
        return Container(self.path, self.value, init).label


@dataclass(frozen=True)
class Violation:
    """What a check reports: a message and the field path (within the object) it is about."""

    message: str
    path: FieldPath
    at_key: bool = False
    severity: Severity | None = None
    """Overrides the policy's severity for this one finding (an object the rule cannot judge is only info)."""
    fix: str | None = None
    """The fix in this finding's own terms (e.g. naming the pool's own accelerator), instead of the policy's."""
    render_fix: str | None = None
    """The same in environment-file terms, instead of the policy's renderFix."""


@dataclass
class Policy:
    """One rule of the catalog, compiled."""

    id: str
    title: str
    severity: Severity
    rationale: str
    fix: str
    file: str
    target: TargetKind = "object"
    kinds: tuple[str, ...] = ()
    api_groups: tuple[str, ...] = ()
    environments: tuple[str, ...] = ()
    match_labels: dict[str, str] = field(default_factory=dict)
    schema: dict[str, Any] | None = None
    message: str = ""
    check: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    examples_pass: list[Example] = field(default_factory=list)
    examples_fail: list[Example] = field(default_factory=list)
    enabled: bool = True
    validator: Any = None
    tags: tuple[str, ...] = ()
    """Categories (security, gpu, storage, ...): SARIF `properties.tags`, code scanning's filters."""
    security_severity: float | None = None
    """0.0-10.0 (CVSS-like) for rules tagged security: code scanning's critical/high/medium/low."""
    shipped: bool = False
    """Part of the catalog that ships with mlgitops (its documentation lives in the project's repository)."""
    render_fix: str = ""
    """The fix in environment-file terms, for findings of `render` (empty: the same as ``fix``)."""

    def applies_to(self, manifest: Manifest, context: PolicyContext) -> bool:
        return self.selects(selection_key(manifest, context)) and self.matches_labels(manifest.obj)

    def selects(self, key: SelectionKey) -> bool:
        """Whether the policy's kinds, API groups and environments take objects of ``key`` (labels aside)."""
        kind, group, environment = key
        if self.kinds and kind not in self.kinds:
            return False
        if self.api_groups:
            if group not in self.api_groups:
                return False
        elif self.kinds and BUILT_IN_KINDS.get(kind, group) != group:
            return False  # a built-in kind's name means that kind (Job is batch/v1, not batch.volcano.sh)
        return not self.environments or environment in self.environments

    def matches_labels(self, obj: dict[str, Any]) -> bool:
        """Whether the object's labels carry every ``matchLabels`` pair (always, without any)."""
        if not self.match_labels:
            return True
        metadata = obj.get("metadata")
        labels = metadata.get("labels") if isinstance(metadata, dict) else None
        # `labels: [x]` in a malformed object matches no selector (the schema rule reports the object).
        return isinstance(labels, dict) and not any(labels.get(key) != value for key, value in self.match_labels.items())


SelectionKey = tuple[str, str, str | None]
"""What decides, labels aside, whether a policy applies to an object: its kind, API group and environment."""


def selection_key(manifest: Manifest, context: PolicyContext) -> SelectionKey:
    obj = manifest.obj
    group = str(obj.get("apiVersion", "")).rpartition("/")[0]
    return str(obj.get("kind")), group, manifest.environment or context.environment


Manifests = list[Manifest]
SetFindings = Iterator[tuple[Manifest, Violation]]
SetCheck = Callable[[Manifests, Policy, PolicyContext], SetFindings]
"""A built-in check: the manifests its policy matched, the policy, the run's context → (manifest, violation) pairs."""
