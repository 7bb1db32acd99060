"""Schemas of custom resources: the upstream CRDs' (lint's judgement), users' CRD files, and what mlgitops emits.

kubernetes-validate knows built-in kinds only. ``lint`` validates custom resources against the upstream
CRDs' schemas bundled with mlgitops (``upstream_crds.py``: every served version of every kind it knows),
overridden by users' CustomResourceDefinitions (``--crd``). Separately, mlgitops keeps a strict JSON
Schema of what it means to emit for each custom resource it renders (``crd_schemas/``, pod templates
checked against the Kubernetes PodTemplateSpec): render's self-check, never lint's judgement.

CRD schemas are read as the API server validates a custom resource (kubernetes/apiextensions-apiserver:
pkg/apiserver/schema/defaulting/algorithm.go applies defaults before pkg/apiserver/validation/validation.go
checks ``required``; pkg/apiserver/schema/pruning/algorithm.go drops, and strict field validation refuses,
keys a schema with properties does not list unless it preserves unknown fields; ``x-kubernetes-int-or-string``
admits an integer or a string; embedded resources as pkg/apiserver/schema/objectmeta/validation.go checks them).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from mlgitops.errors import UserError
from mlgitops.kube.manifest import Manifest
from mlgitops.kube.schema import K8S_DEFINITIONS, SchemaProblem, problems_of, schema_version

_PROJECT_SCHEMAS = Path(__file__).parent / "crd_schemas"
ResourceKey = tuple[str, str]  # (apiVersion, kind)
# Real CRDs nest schemas ~30 levels (pod templates inside job templates); deeper is an attack on the stack.
_MAX_SCHEMA_DEPTH = 200


@dataclass
class CustomSchemas:
    """Validators for custom resources, by (apiVersion, kind)."""

    schemas: Mapping[ResourceKey, dict[str, Any]] = field(default_factory=dict)
    _validators: dict[tuple[str, ResourceKey], Any] = field(default_factory=dict, repr=False)

    def knows(self, obj: dict[str, Any]) -> bool:
        return (str(obj.get("apiVersion")), str(obj.get("kind"))) in self.schemas

    def validate(self, obj: dict[str, Any], kubernetes_version: str) -> list[SchemaProblem]:
        """Problems of ``obj``; the caller checks ``knows()`` first."""
        key = (str(obj.get("apiVersion")), str(obj.get("kind")))
        version = schema_version(kubernetes_version)
        validator = self._validators.get((version, key))
        if validator is None:
            from mlgitops.kube.schema import compile_schema

            validator = compile_schema(self.schemas[key], version)
            self._validators[(version, key)] = validator
        return problems_of(validator, obj)

    def merged(self, other: CustomSchemas) -> CustomSchemas:
        """These schemas with ``other``'s in front: where both know a kind, ``other``'s schema is used."""
        return CustomSchemas(_Layered(other.schemas, self.schemas))


class _Layered(Mapping[ResourceKey, dict[str, Any]]):
    """Two mappings of schemas read as one, the front one first (the bundle is never loaded whole)."""

    def __init__(self, front: Mapping[ResourceKey, dict[str, Any]], back: Mapping[ResourceKey, dict[str, Any]]) -> None:
        self._front = front
        self._back = back

    def __getitem__(self, key: ResourceKey) -> dict[str, Any]:
        return self._front[key] if key in self._front else self._back[key]

    def __contains__(self, key: object) -> bool:
        return key in self._front or key in self._back

    def __iter__(self) -> Iterator[ResourceKey]:
        return iter(sorted({*self._front, *self._back}))

    def __len__(self) -> int:
        return len({*self._front, *self._back})


@cache
def upstream_schemas() -> CustomSchemas:
    """The bundled upstream CRDs' schemas (upstream_crds.py), converted as a ``--crd`` file's are: lint's default."""
    from mlgitops.kube.upstream_crds import LazySchemas

    return CustomSchemas(LazySchemas(validation_schema))


@cache
def project_schemas() -> CustomSchemas:
    """The strict schemas of what mlgitops means to emit for the custom resources it renders: render's self-check."""
    schemas: dict[ResourceKey, dict[str, Any]] = {}
    for path in sorted(_PROJECT_SCHEMAS.glob("*.json")):
        schema = json.loads(path.read_text(encoding="utf-8"))
        key = (schema["properties"]["apiVersion"]["const"], schema["properties"]["kind"]["const"])
        schemas[key] = schema
    return CustomSchemas(schemas)


def crd_files(paths: Sequence[Path]) -> list[Path]:
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found += sorted(p for p in path.rglob("*") if p.suffix in (".yaml", ".yml", ".json") and p.is_file())
        elif path.is_file():
            found.append(path)
        else:
            raise UserError(f"--crd {path}: no such file or folder")
    return found


def load_crds(paths: Sequence[Path]) -> CustomSchemas:
    """Schemas of every served version of every CustomResourceDefinition in ``paths``."""
    from mlgitops.yaml.reader import iter_documents
    from mlgitops.yaml.text import CRD_FILE_BYTES, read_user_text

    schemas: dict[ResourceKey, dict[str, Any]] = {}
    for path in crd_files(paths):
        shown = str(path)
        text = read_user_text(path, shown, CRD_FILE_BYTES, "CRD")
        for _, node, document in iter_documents(text, shown):
            if not isinstance(document, dict) or document.get("kind") != "CustomResourceDefinition":
                continue
            located = Manifest(obj=document, file=shown, node=node)
            schemas.update(_crd_versions(document, located))
    return CustomSchemas(schemas)


def _crd_versions(crd: dict[str, Any], located: Manifest) -> Iterable[tuple[ResourceKey, dict[str, Any]]]:
    from mlgitops.kube.schema import compile_user_schema, schema_version, supported_versions
    from mlgitops.kube.user_schema import RefusedSchema, as_user_error

    spec = crd.get("spec")
    if not isinstance(spec, dict) or not isinstance(spec.get("names"), dict):
        raise UserError("CustomResourceDefinition without spec.names", located.locate(("spec",)))
    group = spec.get("group")
    kind = spec["names"].get("kind")
    versions = spec.get("versions") or []
    if not isinstance(versions, list):
        raise UserError("spec.versions: must be a list of versions", located.locate(("spec", "versions")))
    found: list[tuple[ResourceKey, dict[str, Any]]] = []
    for index, version in enumerate(versions):
        if not isinstance(version, dict) or version.get("served") is False:
            continue
        schema = version.get("schema")
        openapi = schema.get("openAPIV3Schema") if isinstance(schema, dict) else None
        if not isinstance(openapi, dict):
            continue
        at = ("spec", "versions", index, "schema", "openAPIV3Schema")
        try:
            strict = validation_schema(openapi)
            # Checked now, at the CRD's line, rather than when the first custom resource meets it.
            compile_user_schema(strict, schema_version(supported_versions()[-1]))
        except RefusedSchema as error:
            raise as_user_error(error, located.locate, at) from None
        found.append(((f"{group}/{version.get('name')}", str(kind)), strict))
    return found


_OBJECT_META = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"


def validation_schema(openapi: dict[str, Any]) -> dict[str, Any]:
    """A CRD version's ``openAPIV3Schema`` as the JSON Schema a custom resource of it is validated against.

    The root ``metadata`` is the Kubernetes ObjectMeta whatever the CRD says (the API server validates it as
    ObjectMeta: apiextensions-apiserver pkg/registry/customresource/validator.go), and every object may carry
    ``apiVersion`` and ``kind``. Raises user_schema.RefusedSchema where a keyword has the wrong shape.
    """
    strict: dict[str, Any] = strict_schema(openapi)
    properties = strict.setdefault("properties", {})
    properties["metadata"] = {"$ref": f"{K8S_DEFINITIONS}#/$defs/{_OBJECT_META}"}
    properties.setdefault("apiVersion", {"type": "string"})
    properties.setdefault("kind", {"type": "string"})
    return strict


def strict_schema(node: Any, path: tuple[str | int, ...] = ()) -> Any:
    """An OpenAPI v3 CRD schema as JSON Schema that, like the API server's pruning, refuses unknown keys.

    Raises user_schema.RefusedSchema (with the path inside the schema) where a keyword has the wrong shape.
    """
    from mlgitops.kube.user_schema import RefusedSchema

    if len(path) > _MAX_SCHEMA_DEPTH:
        raise RefusedSchema(f"the schema is nested more than {_MAX_SCHEMA_DEPTH} levels deep", path)
    if isinstance(node, list):
        return [strict_schema(item, (*path, index)) for index, item in enumerate(node)]
    if not isinstance(node, dict):
        return node
    converted: dict[str, Any] = {}
    for key, value in node.items():
        if key in ("properties", "patternProperties", "$defs", "definitions"):
            if not isinstance(value, dict):
                raise RefusedSchema(f"{key} must be a mapping of names to schemas", (*path, key))
            converted[key] = {name: strict_schema(child, (*path, key, name)) for name, child in value.items()}
        elif key in ("items", "additionalProperties", "not") and isinstance(value, dict):
            converted[key] = strict_schema(value, (*path, key))
        elif key in ("allOf", "anyOf", "oneOf"):
            if not isinstance(value, list):
                raise RefusedSchema(f"{key} must be a list of schemas", (*path, key))
            converted[key] = [strict_schema(child, (*path, key, index)) for index, child in enumerate(value)]
        elif key.startswith("x-kubernetes-") or key in ("nullable", "format", "example", "externalDocs"):
            continue
        else:
            converted[key] = value
    required = converted.get("required")
    properties = converted.get("properties")
    if isinstance(required, list) and isinstance(properties, dict):
        # The API server applies a property's `default` before it validates: such a field is never missing.
        defaulted = {name for name, child in properties.items() if isinstance(child, dict) and "default" in child}
        converted["required"] = [name for name in required if name not in defaulted]
        if not converted["required"]:
            del converted["required"]
    if node.get("x-kubernetes-int-or-string"):
        converted.pop("type", None)
        converted["anyOf"] = [{"type": "integer"}, {"type": "string"}]
    if node.get("nullable") and isinstance(converted.get("type"), str):
        converted["type"] = [converted["type"], "null"]
    if node.get("x-kubernetes-embedded-resource"):
        _embedded_resource(converted)
    if "properties" in converted and "additionalProperties" not in converted and not node.get(
        "x-kubernetes-preserve-unknown-fields"
    ):
        converted["additionalProperties"] = False
    return converted


def _embedded_resource(converted: dict[str, Any]) -> None:
    """An ``x-kubernetes-embedded-resource`` object: a whole Kubernetes object inside the custom resource.

    The API server requires its ``apiVersion`` and ``kind`` (non-empty strings), validates its ``metadata``
    as ObjectMeta, and never prunes those three, whatever the schema lists; its other keys are pruned (refused
    under strict field validation) unless it also preserves unknown fields. Source: kubernetes/apiextensions-apiserver
    pkg/apiserver/schema/objectmeta/validation.go (validateEmbeddedResource) and pkg/apiserver/schema/pruning/algorithm.go.
    """
    properties = converted.setdefault("properties", {})
    if isinstance(properties, dict):
        properties.setdefault("apiVersion", {"type": "string", "minLength": 1})
        properties.setdefault("kind", {"type": "string", "minLength": 1})
        properties["metadata"] = {"$ref": f"{K8S_DEFINITIONS}#/$defs/{_OBJECT_META}"}
    required = converted.get("required")
    listed = list(required) if isinstance(required, list) else []
    converted["required"] = listed + [name for name in ("apiVersion", "kind") if name not in listed]
