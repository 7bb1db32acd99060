"""Structural validation of Kubernetes objects against kubernetes-validate's strict schemas.

kubernetes-validate's own ``validate()`` re-reads and re-compiles its schema files on every
call (about 10 ms per object). Here the shared definitions are read once per Kubernetes
version and a compiled validator is kept per (version, apiVersion, kind), so validating a
fleet costs only the validation itself.
"""

from __future__ import annotations

import importlib.util
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from mlgitops.errors import UserError


@dataclass(frozen=True)
class SchemaProblem:
    """One way an object fails its schema: the field path and what is wrong there.

    ``instance`` is the failing value, ``validator`` the JSON Schema keyword it failed and
    ``expected`` that keyword's value (for ``type``: the type or types wanted).
    """

    path: tuple[str | int, ...]
    message: str
    instance: Any = None
    validator: str = ""
    expected: Any = None


_TYPE_WORDS = {
    "string": "text",
    "integer": "a whole number",
    "number": "a number",
    "boolean": "a boolean",
    "object": "a mapping",
    "array": "a list",
    "null": "null",
}


def _kind_of(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return "null" if value is None else "a value"


def worded(problem: SchemaProblem, written: str | None) -> str:
    """The problem in words that quote the value as the user wrote it (never Python's repr), with the fix.

    ``written`` is the scalar's text in the file (quotes included when it was quoted), or
    None when unknown. A type mismatch says what the value is and what is wanted; a plain
    number or boolean where text is wanted gets "quote it".
    """
    if problem.validator == "type":
        wanted = [problem.expected] if isinstance(problem.expected, str) else list(problem.expected or [])
        wanted = [kind for kind in wanted if kind != "null"] or wanted
        shown = written if written is not None else _plain(problem.instance)
        words = " or ".join(_TYPE_WORDS.get(str(kind), str(kind)) for kind in wanted)
        message = f"{shown} is {_kind_of(problem.instance)}, not {words}"
        quoted = written is not None and written[:1] in ("'", '"')
        if "string" in wanted and written is not None and not quoted and not isinstance(problem.instance, (dict, list)):
            message += f": quote it ('{written}') to keep it text"
        elif quoted and isinstance(problem.instance, str) and set(wanted) & {"integer", "number", "boolean"}:
            message += ": write it without quotes"
        return message
    shown_repr = repr(problem.instance)
    if written is not None and problem.instance is not None and problem.message.startswith(shown_repr):
        return written + problem.message[len(shown_repr) :]
    return problem.message


def _plain(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, (dict, list)):
        return "a mapping" if isinstance(value, dict) else "a list"
    return json.dumps(value) if isinstance(value, str) else str(value)


class UnknownKind(Exception):
    """No built-in schema exists for this apiVersion and kind (a custom resource, usually)."""


@cache
def _schema_root() -> Path:
    spec = importlib.util.find_spec("kubernetes_validate")
    if spec is None or not spec.submodule_search_locations:
        raise UserError("kubernetes-validate is not installed: run pip install kubernetes-validate")
    return Path(next(iter(spec.submodule_search_locations))) / "kubernetes-json-schema"


def _version_key(version: str) -> tuple[int, int]:
    major, minor = version.split(".")[:2]
    return int(major), int(minor)


@cache
def supported_versions() -> tuple[str, ...]:
    """Kubernetes minor versions that the installed kubernetes-validate has schemas for."""
    found = set()
    for entry in _schema_root().iterdir():
        match = re.match(r"^v(\d+\.\d+)\.\d+-local-strict$", entry.name)
        if match:
            found.add(match[1])
    return tuple(sorted(found, key=_version_key))


@cache
def schema_version(kubernetes_version: str) -> str:
    """The newest schema set not newer than ``kubernetes_version`` (as kubernetes-validate picks); asked once per object."""
    wanted = _version_key(kubernetes_version.lstrip("v"))
    candidates = [v for v in supported_versions() if _version_key(v) <= wanted]
    if not candidates:
        oldest = supported_versions()[0] if supported_versions() else "none"
        raise UserError(
            f"kubernetesVersion {kubernetes_version} is older than any schema kubernetes-validate ships (oldest: {oldest})"
        )
    if wanted > _version_key(supported_versions()[-1]):
        raise UserError(
            f"kubernetesVersion {kubernetes_version} is newer than the schemas kubernetes-validate "
            f"ships (newest: {supported_versions()[-1]}); upgrade kubernetes-validate"
        )
    return candidates[-1]


@cache
def registry(version: str) -> Any:
    """The Kubernetes definitions of ``version``, for schemas that $ref them (custom resources)."""
    return _registry(version)


# Fields the OpenAPI documents list as required although the API server never refused their absence:
# StatefulSetSpec.serviceName (required in the OpenAPI only because the Go field lacked omitempty; the
# documents of 1.33 and later no longer require it, and no version's validation did).
_NOT_REQUIRED_BY_THE_API_SERVER = {"io.k8s.api.apps.v1.StatefulSetSpec": ("serviceName",)}


@cache
def _definitions(version: str) -> dict[str, Any]:
    """The shared definitions of ``version``, with only what the API server really requires marked required."""
    folder = _schema_root() / f"v{version}.0-local-strict"
    definitions: dict[str, Any] = json.loads((folder / "_definitions.json").read_text(encoding="utf-8"))
    for name, fields in _NOT_REQUIRED_BY_THE_API_SERVER.items():
        definition = definitions.get("$defs", {}).get(name)
        if isinstance(definition, dict) and isinstance(definition.get("required"), list):
            definition["required"] = [field for field in definition["required"] if field not in fields]
    return definitions


@cache
def _registry(version: str) -> Any:
    from referencing import Resource

    from mlgitops.kube.user_schema import safe_registry

    return Resource.from_contents(_definitions(version)) @ safe_registry()


def _schema_file(api_version: str, kind: str) -> str:
    # kubernetes-validate names files <kind>-<group without domain>-<version>.json
    group_version = re.sub(r"^([^./]*)(?:\.[^/]*)?/", r"\1-", api_version)
    return f"{kind.lower()}-{group_version}.json"


@cache
def builtin_schema(version: str, api_version: str, kind: str) -> dict[str, Any] | None:
    """The JSON Schema kubernetes-validate ships for built-in ``api_version`` ``kind`` at Kubernetes ``version`` (a
    schema version such as '1.32'), read once and shared (not to be changed); None for a kind it has none of."""
    path = _schema_root() / f"v{version}.0-local-strict" / _schema_file(api_version, kind)
    if ("/" not in api_version and api_version != "v1") or not path.is_file():
        return None
    loaded: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return loaded


@cache
def _validator(version: str, api_version: str, kind: str) -> CompiledSchema:
    schema = builtin_schema(version, api_version, kind)
    if schema is None:
        raise UnknownKind(f"no built-in schema for {api_version} {kind}")
    return compile_schema(schema, version)


class CompiledSchema:
    """A schema compiled twice: jsonschema-rs answers "valid?" in microseconds; the jsonschema
    library, built only when an object fails, explains why with paths and messages.

    An object counts as invalid only when the detailed validator finds a problem too, so the
    fast path can never add a finding of its own.
    """

    def __init__(self, schema: dict[str, Any], version: str | None) -> None:
        self.schema = schema
        self.version = version
        self._detailed: Any = None
        self._fast = _fast_validator(schema, version)

    @property
    def detailed(self) -> Any:
        if self._detailed is None:
            # Patterns on the linear-time engine, and a registry that fetches nothing (user_schema.py).
            from mlgitops.kube.user_schema import explaining_validator_class, safe_registry

            registry = safe_registry() if self.version is None else _registry(self.version)
            self._detailed = explaining_validator_class()(self.schema, registry=registry)
        return self._detailed

    def is_valid(self, obj: Any) -> bool:
        if self._fast is not None:
            try:
                return bool(self._fast.is_valid(obj))
            except (ValueError, TypeError, OverflowError):
                pass  # values jsonschema-rs cannot take (huge integers, dates): ask the library
        try:
            return bool(self.detailed.is_valid(obj))
        except RecursionError:
            return False  # iter_errors says so

    def iter_errors(self, obj: Any) -> Iterator[Any]:
        """The library's errors for ``obj``. A schema that recurses with the value (a reference under
        ``properties``, met by a deeply nested object) can outrun Python's stack while it explains: then one
        error at the top says so, instead of a RecursionError (user_schema.py refuses endless recursion)."""
        try:
            return iter(list(self.detailed.iter_errors(obj)))
        except RecursionError:
            from jsonschema.exceptions import ValidationError

            message = "does not match the schema, whose references nest too deeply with this value to say where"
            return iter([ValidationError(message, validator="$ref", validator_value="#", instance=obj, schema=self.schema)])


def compile_schema(schema: dict[str, Any], version: str | None = None) -> CompiledSchema:
    """A schema, which may $ref the Kubernetes definitions of ``version`` when one is given."""
    return CompiledSchema(schema, version)


K8S_DEFINITIONS = "https://kubernetes.io/api/_definitions.json"


def compile_user_schema(schema: Any, version: str | None = None) -> CompiledSchema:
    """A schema from user data (a policy, a CRD), refused with user_schema.RefusedSchema when unsafe or invalid.

    References must stay in the document (or, with ``version``, point into the Kubernetes
    definitions held in memory); patterns must compile on the linear-time engine; and the schema
    must be a valid Draft 2020-12 schema (jsonschema-rs checks it against the meta-schema).
    """
    import jsonschema_rs as typed

    jsonschema_rs: Any = typed
    from mlgitops.kube.user_schema import RefusedSchema, check_user_schema, refuse_retrieval, regex_options

    check_user_schema(schema, (K8S_DEFINITIONS,) if version is not None else ())
    if not isinstance(schema, dict):
        raise RefusedSchema("a schema must be a mapping", ())
    options: dict[str, Any] = {"retriever": refuse_retrieval, "pattern_options": regex_options()}
    if version is not None:
        options["registry"] = _fast_registry(version)
    try:
        jsonschema_rs.Draft202012Validator(schema, **options)
    except jsonschema_rs.ValidationError as error:
        raise RefusedSchema(f"not a valid JSON Schema: {error.message}", tuple(error.instance_path)) from None
    except (ValueError, jsonschema_rs.ReferencingError) as error:
        raise RefusedSchema(f"not a valid JSON Schema: {str(error).splitlines()[0]}", ()) from None
    return CompiledSchema(schema, version)


def _jsonschema_rs() -> Any:
    """jsonschema-rs, or None. Used untyped: its stubs before 0.60 leave out Registry and type
    ReferencingError loosely, though the versions the floor allows have both."""
    try:
        import jsonschema_rs
    except ImportError:  # pragma: no cover - an optional speed-up
        return None
    return jsonschema_rs


@cache
def _fast_registry(version: str) -> Any:
    jsonschema_rs = _jsonschema_rs()
    if jsonschema_rs is None:  # pragma: no cover - an optional speed-up
        return None
    definitions = _definitions(version)
    return jsonschema_rs.Registry([(definitions["$id"], definitions)])


def _fast_validator(schema: dict[str, Any], version: str | None) -> Any:
    jsonschema_rs = _jsonschema_rs()
    if jsonschema_rs is None:  # pragma: no cover - an optional speed-up
        return None
    from mlgitops.kube.user_schema import refuse_retrieval, regex_options

    # Never fetch a reference, and run patterns on the linear-time regex engine.
    options: dict[str, Any] = {"retriever": refuse_retrieval, "pattern_options": regex_options()}
    referencing_error: type[BaseException] = jsonschema_rs.ReferencingError
    try:
        if version is None:
            return jsonschema_rs.Draft202012Validator(schema, **options)
        registry = _fast_registry(version)
        return None if registry is None else jsonschema_rs.Draft202012Validator(schema, registry=registry, **options)
    except (ValueError, referencing_error):  # pragma: no cover - fall back to the library
        return None


@cache
def first_serving_version(api_version: str, kind: str) -> str | None:
    """The oldest Kubernetes minor version whose built-in schemas have ``api_version`` ``kind`` (None: none does),
    e.g. '1.34' for resource.k8s.io/v1 ResourceClaimTemplate (the installed schemas, looked up once per kind)."""
    if "/" not in api_version and api_version != "v1":
        return None
    name = _schema_file(api_version, kind)
    return next((v for v in supported_versions() if (_schema_root() / f"v{v}.0-local-strict" / name).is_file()), None)


def has_schema(obj: dict[str, Any], kubernetes_version: str) -> bool:
    """Whether a built-in schema exists for this object's apiVersion and kind."""
    try:
        _validator(schema_version(kubernetes_version), str(obj.get("apiVersion")), str(obj.get("kind")))
    except UnknownKind:
        return False
    return True


def validate(obj: dict[str, Any], kubernetes_version: str) -> list[SchemaProblem]:
    """Strict structural problems of ``obj``; raises UnknownKind for kinds without a schema."""
    validator = _validator(schema_version(kubernetes_version), str(obj.get("apiVersion")), str(obj.get("kind")))
    return problems_of(validator, obj)


def problems_of(validator: Any, obj: Any) -> list[SchemaProblem]:
    """All problems a compiled validator finds, in a stable order (nothing when valid)."""
    if validator.is_valid(obj):
        return []
    return sorted(_problems(validator.iter_errors(obj)), key=lambda p: (tuple(map(str, p.path)), p.message))


def _problems(errors: Iterator[Any]) -> Iterator[SchemaProblem]:
    for error in errors:
        path = tuple(error.absolute_path)
        message = error.message
        if error.validator == "additionalProperties":
            # Point at the unexpected key itself rather than at its parent mapping.
            extras = re.findall(r"'([^']+)'", message.split("(")[-1])
            for extra in extras or [None]:
                if extra is None:
                    yield SchemaProblem(path, message)
                else:
                    yield SchemaProblem((*path, extra), f"unknown field {extra!r}")
            continue
        if len(message) > 200:
            message = message[:197] + "..."
        yield SchemaProblem(path, message, error.instance, str(error.validator), error.validator_value)
