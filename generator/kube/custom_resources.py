"""Schemas of custom resources: the project's own for what it emits, and users' CRD files.

kubernetes-validate knows built-in kinds only. mlgitops keeps a strict JSON Schema for each
custom resource it renders (in ``crd_schemas/``, pod templates checked against the Kubernetes
PodTemplateSpec), and reads users' CustomResourceDefinitions (``--crd``) so that ``lint`` can
validate any custom resource. CRD schemas are made strict the way the API server prunes: an
object schema with properties admits no other keys unless it preserves unknown fields.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from generator.errors import Location, UserError
from generator.kube.schema import SchemaProblem, problems_of, schema_version

_PROJECT_SCHEMAS = Path(__file__).parent / "crd_schemas"
ResourceKey = tuple[str, str]  # (apiVersion, kind)


@dataclass
class CustomSchemas:
    """Validators for custom resources, by (apiVersion, kind)."""

    schemas: dict[ResourceKey, dict[str, Any]] = field(default_factory=dict)
    _validators: dict[tuple[str, ResourceKey], Any] = field(default_factory=dict, repr=False)

    def knows(self, obj: dict[str, Any]) -> bool:
        return (str(obj.get("apiVersion")), str(obj.get("kind"))) in self.schemas

    def validate(self, obj: dict[str, Any], kubernetes_version: str) -> list[SchemaProblem]:
        """Problems of ``obj``; the caller checks ``knows()`` first."""
        key = (str(obj.get("apiVersion")), str(obj.get("kind")))
        version = schema_version(kubernetes_version)
        validator = self._validators.get((version, key))
        if validator is None:
            from generator.kube.schema import compile_schema

            validator = compile_schema(self.schemas[key], version)
            self._validators[(version, key)] = validator
        return problems_of(validator, obj)

    def merged(self, other: CustomSchemas) -> CustomSchemas:
        return CustomSchemas({**self.schemas, **other.schemas})


@cache
def project_schemas() -> CustomSchemas:
    """The strict schemas of the custom resources mlgitops itself renders."""
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
    from generator.yaml.reader import iter_documents

    schemas: dict[ResourceKey, dict[str, Any]] = {}
    for path in crd_files(paths):
        shown = str(path)
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise UserError(f"cannot read CRD file: {error}", Location(shown, 1, 1)) from None
        for _, node, document in iter_documents(text, shown):
            if not isinstance(document, dict) or document.get("kind") != "CustomResourceDefinition":
                continue
            where = Location(shown, node.start_mark.line + 1, node.start_mark.column + 1)
            schemas.update(_crd_versions(document, where))
    return CustomSchemas(schemas)


def _crd_versions(crd: dict[str, Any], where: Location) -> Iterable[tuple[ResourceKey, dict[str, Any]]]:
    spec = crd.get("spec")
    if not isinstance(spec, dict) or not isinstance(spec.get("names"), dict):
        raise UserError("CustomResourceDefinition without spec.names", where)
    group = spec.get("group")
    kind = spec["names"].get("kind")
    for version in spec.get("versions") or []:
        if not isinstance(version, dict) or version.get("served") is False:
            continue
        openapi = (version.get("schema") or {}).get("openAPIV3Schema")
        if not isinstance(openapi, dict):
            continue
        strict = strict_schema(openapi)
        strict.setdefault("properties", {})["metadata"] = {
            "$ref": "https://kubernetes.io/api/_definitions.json#/$defs/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"
        }
        yield (f"{group}/{version.get('name')}", str(kind)), strict


def strict_schema(node: Any) -> Any:
    """An OpenAPI v3 CRD schema as JSON Schema that, like the API server's pruning, refuses unknown keys."""
    if isinstance(node, list):
        return [strict_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    converted: dict[str, Any] = {}
    for key, value in node.items():
        if key in ("properties", "patternProperties", "$defs", "definitions"):
            converted[key] = {name: strict_schema(child) for name, child in value.items()}
        elif key in ("items", "additionalProperties", "not") and isinstance(value, dict):
            converted[key] = strict_schema(value)
        elif key in ("allOf", "anyOf", "oneOf"):
            converted[key] = [strict_schema(child) for child in value]
        elif key.startswith("x-kubernetes-") or key in ("nullable", "format", "example", "externalDocs"):
            continue
        else:
            converted[key] = value
    if node.get("x-kubernetes-int-or-string"):
        converted.pop("type", None)
        converted["anyOf"] = [{"type": "integer"}, {"type": "string"}]
    if node.get("nullable") and isinstance(converted.get("type"), str):
        converted["type"] = [converted["type"], "null"]
    preserves = node.get("x-kubernetes-preserve-unknown-fields") or node.get("x-kubernetes-embedded-resource")
    if "properties" in converted and "additionalProperties" not in converted and not preserves:
        converted["additionalProperties"] = False
    return converted
