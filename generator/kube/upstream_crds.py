"""The upstream CRDs' schemas that ship with mlgitops: what ``lint`` validates custom resources against.

``upstream_crds/`` holds, for every served version of each custom resource kind mlgitops knows, the
``openAPIV3Schema`` of its upstream CustomResourceDefinition (origin repository, path, commit and
licence of each in ``upstream_crds/SOURCES.md``). Only what validation reads is kept: ``description``
texts are dropped (they are documentation, never a constraint), everything else is the CRD's own,
``x-kubernetes-*`` extensions included. Each CRD is one gzip-compressed JSON file (``{"group", "kind",
"versions": {name: schema}}``, keys sorted, no timestamp, so a rebuild is byte-identical) and
``index.json`` maps ``"apiVersion kind"`` to its file, so a run opens only the files of the kinds it meets.

The schemas go through the same conversion as a ``--crd`` file (``custom_resources.strict_schema``:
defaults before ``required``, ``x-kubernetes-preserve-unknown-fields``, int-or-string, nullable), so
linting without ``--crd`` judges a custom resource exactly as linting with its upstream CRD does.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterable, Iterator, Mapping
from functools import cache
from pathlib import Path
from typing import Any

BUNDLE = Path(__file__).parent / "upstream_crds"
INDEX = "index.json"
ResourceKey = tuple[str, str]  # (apiVersion, kind)


def without_descriptions(node: Any) -> Any:
    """A schema without its ``description`` texts; a property *named* description stays (it is a field)."""
    if isinstance(node, list):
        return [without_descriptions(item) for item in node]
    if not isinstance(node, dict):
        return node
    kept: dict[str, Any] = {}
    for key, value in node.items():
        if key == "description" and isinstance(value, str):
            continue
        if key in ("properties", "patternProperties", "definitions", "$defs") and isinstance(value, dict):
            kept[key] = {name: without_descriptions(child) for name, child in value.items()}
        elif key in ("default", "enum", "example", "const"):
            kept[key] = value  # data, not schemas
        else:
            kept[key] = without_descriptions(value)
    return kept


def served_schemas(crd: dict[str, Any]) -> dict[str, Any]:
    """``{"group", "kind", "versions"}`` of a CustomResourceDefinition: every served version's compact schema.

    Source: apiextensions.k8s.io/v1 CustomResourceDefinitionVersion (``served``, ``schema.openAPIV3Schema``),
    kubernetes/apiextensions-apiserver pkg/apis/apiextensions/v1/types.go.
    """
    spec = crd["spec"]
    versions = {
        str(version["name"]): without_descriptions(version["schema"]["openAPIV3Schema"])
        for version in spec["versions"]
        if version.get("served", True) and isinstance((version.get("schema") or {}).get("openAPIV3Schema"), dict)
    }
    return {"group": spec["group"], "kind": spec["names"]["kind"], "versions": versions}


def packed(entry: dict[str, Any]) -> bytes:
    """One CRD's entry as deterministic gzip bytes (sorted keys, no file name, no timestamp)."""
    text = json.dumps(entry, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return gzip.compress(text.encode("utf-8"), compresslevel=9, mtime=0)


def file_name(entry: dict[str, Any]) -> str:
    """``<group>_<kind>_<versions>.json.gz``: two projects may serve one kind at different versions (MPIJob)."""
    return f"{entry['group']}_{str(entry['kind']).lower()}_{'-'.join(sorted(entry['versions']))}.json.gz"


def write_bundle(crds: Iterable[dict[str, Any]], folder: Path = BUNDLE) -> list[str]:
    """Write each CRD's entry and the index into ``folder`` (a maintainer's step; see SOURCES.md). The files written."""
    index: dict[str, str] = {}
    written = []
    for stale in folder.glob("*.json.gz"):
        stale.unlink()
    for crd in crds:
        entry = served_schemas(crd)
        name = file_name(entry)
        (folder / name).write_bytes(packed(entry))
        written.append(name)
        for version in entry["versions"]:
            index[f"{entry['group']}/{version} {entry['kind']}"] = name
    (folder / INDEX).write_text(json.dumps(index, sort_keys=True, indent=1) + "\n", encoding="utf-8")
    return written


@cache
def bundle_index() -> dict[ResourceKey, str]:
    """(apiVersion, kind) → the bundle file holding its schema."""
    loaded: dict[str, str] = json.loads((BUNDLE / INDEX).read_text(encoding="utf-8"))
    return {(key.split(" ")[0], key.split(" ")[1]): name for key, name in loaded.items()}


@cache
def _entry(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(gzip.decompress((BUNDLE / name).read_bytes()))
    return loaded


def upstream_schema(key: ResourceKey) -> dict[str, Any]:
    """The upstream ``openAPIV3Schema`` (descriptions dropped) of one (apiVersion, kind); KeyError when not bundled."""
    entry = _entry(bundle_index()[key])
    schema: dict[str, Any] = entry["versions"][key[0].rpartition("/")[2]]
    return schema


class LazySchemas(Mapping[ResourceKey, dict[str, Any]]):
    """(apiVersion, kind) → strict JSON Schema, converted from the bundle the first time a kind is asked for."""

    def __init__(self, convert: Any) -> None:
        self._convert = convert
        self._done: dict[ResourceKey, dict[str, Any]] = {}

    def __getitem__(self, key: ResourceKey) -> dict[str, Any]:
        if key not in self._done:
            self._done[key] = self._convert(upstream_schema(key))
        return self._done[key]

    def __contains__(self, key: object) -> bool:
        return key in bundle_index()

    def __iter__(self) -> Iterator[ResourceKey]:
        return iter(sorted(bundle_index()))

    def __len__(self) -> int:
        return len(bundle_index())
