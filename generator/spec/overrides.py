"""Escape hatches for what the spec does not model: extra manifests from the repository, and patches.

Both are checked like everything else: extra manifests and patched objects are validated strictly
and linted with the catalog, and a patch that changes nothing it targets is an error.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, model_validator

from mlgitops.spec.base import DnsLabel, SpecModel


class PatchTarget(SpecModel):
    """Which rendered objects a patch applies to: every one that matches all the fields given."""

    kind: str = Field(pattern=r"^[A-Z][A-Za-z0-9]*$")
    """Object kind, e.g. 'Deployment', 'Service', 'Job'."""
    name: str | None = Field(default=None, min_length=1)
    """Object name (a training Job's name is its workload's: the hash suffix is ignored)."""
    workload: DnsLabel | None = None
    """Only objects of this workload (environment-level patches; a workload's own patches imply it)."""


class JsonPatchOperation(SpecModel):
    """One RFC 6902 operation; `path` and `from` are JSON Pointers such as '/spec/template/spec/hostNetwork'."""

    op: Literal["add", "remove", "replace", "move", "copy", "test"]
    path: str = Field(pattern=r"^(/.*)?$")
    value: Any = None
    """The value for add, replace and test."""
    from_: str | None = Field(default=None, alias="from", pattern=r"^(/.*)?$")
    """Source pointer of move and copy."""

    @model_validator(mode="after")
    def _fields_fit_op(self) -> JsonPatchOperation:
        if self.op in ("move", "copy") and self.from_ is None:
            raise ValueError(f"a {self.op} operation needs 'from'")
        if self.op in ("add", "replace", "test") and "value" not in self.model_fields_set:
            raise ValueError(f"an {self.op} operation needs 'value'")
        return self

    def as_operation(self) -> dict[str, Any]:
        operation: dict[str, Any] = {"op": self.op, "path": self.path}
        if self.op in ("add", "replace", "test"):
            operation["value"] = _sorted(self.value)
        if self.from_ is not None:
            operation["from"] = self.from_
        return operation


def _sorted(value: Any) -> Any:
    """Mappings with sorted keys: rendered output must not depend on the order a patch was written in."""
    if isinstance(value, dict):
        return {key: _sorted(value[key]) for key in sorted(value)}
    if isinstance(value, list):
        return [_sorted(item) for item in value]
    return value


class Patch(SpecModel):
    """A kustomize-style patch applied at render time: a strategic merge patch or JSON 6902 operations."""

    target: PatchTarget
    """The objects to patch."""
    strategic_merge: dict[str, Any] | None = None
    """Fields to merge into each target, Kubernetes strategic-merge style: lists of containers, env, volumes,
    ports... merge by name; `$patch: delete` removes an item; null removes a field."""
    json_patch: list[JsonPatchOperation] | None = Field(default=None, min_length=1)
    """RFC 6902 operations applied to each target in order."""

    @model_validator(mode="after")
    def _one_kind_of_patch(self) -> Patch:
        if (self.strategic_merge is None) == (self.json_patch is None):
            raise ValueError("a patch needs exactly one of 'strategicMerge' or 'jsonPatch'")
        return self


ManifestPath = str
"""A YAML file of plain Kubernetes objects, relative to the environment file that names it."""
