"""JSON Schemas that come from users (policy `schema:`, `--crd` files): no fetching, no backtracking.

Both validator libraries resolve a ``$ref`` they do not hold by fetching it: jsonschema over HTTP,
jsonschema-rs over HTTP and from ``file://`` URLs. A policy in a pull request could then make CI
fetch from the network or read the runner's files into a validator. Here:

- every ``$ref`` (``$dynamicRef``, ``$recursiveRef``) must point into the same document (``#``,
  ``#/json/pointer`` or ``#anchor``), or at a document mlgitops itself holds in memory (the
  Kubernetes definitions CRD schemas refer to); anything else is refused at its line;
- both validators get a retriever that refuses, as a second line of defence;
- a schema that applies itself to the same value without end (a reference cycle through ``$ref``,
  ``allOf``, ``not``, ``if``…: ``not: {$ref: "#"}``, ``$defs`` a → b → a) is refused at the
  reference that closes the cycle: both validators would recurse until the stack runs out (a
  RecursionError in jsonschema, a panic in jsonschema-rs). Recursion that descends into the value
  first (``properties: {children: {items: {$ref: "#"}}}``) ends with the value and is fine; chains of
  references and applicators applied in place are limited to 128 (``_MAX_IN_PLACE``);
- every ``pattern`` (and ``patternProperties`` key) runs on the Rust `regex` crate through
  jsonschema-rs with ``RegexOptions``: a linear-time engine, also when jsonschema explains a failure
  (Python's ``re`` backtracks: ``^(a+)+$`` against 35 ``a`` and a ``!`` runs for minutes). A pattern
  that engine cannot compile (backreferences, look-around) is refused at its line.

Source: JSON Schema 2020-12 core §8.2.3 (``$ref`` resolution against the base URI), §9.4.2 (anchors).
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache, lru_cache
from typing import Any

from mlgitops.errors import UserError

_REFERENCE_KEYWORDS = ("$ref", "$dynamicRef", "$recursiveRef")
# Keywords whose values are data, not schemas: a "$ref" key inside them references nothing.
_DATA_KEYWORDS = frozenset(("const", "enum", "default", "examples", "example"))
_SCHEMA_MAPS = frozenset(("properties", "patternProperties", "$defs", "definitions", "dependentSchemas"))
# Keywords whose subschemas apply to the same value as the schema holding them (JSON Schema 2020-12 core §10.2:
# in-place applicators), against those that descend into a property or an item first.
_IN_PLACE = frozenset(("allOf", "anyOf", "oneOf", "not", "if", "then", "else"))
_IN_PLACE_MAPS = frozenset(("dependentSchemas", "dependencies"))
# In-place applicators and references, one inside the other (an allOf holding a $ref counts two): jsonschema runs out
# of Python stack at about 800; what recursion with the value adds is caught where it explains (kube/schema.py).
_MAX_IN_PLACE = 128
Path = tuple[str | int, ...]


class RefusedSchema(Exception):
    """A user schema that mlgitops will not compile; ``path`` is where in the schema the problem is."""

    def __init__(self, message: str, path: Path) -> None:
        super().__init__(message)
        self.message = message
        self.path = path


def _refuse(uri: str) -> Any:
    raise RefusedSchema(f"$ref {uri!r} points outside this document; mlgitops fetches nothing", ())


def _walk(schema: Any, path: Path = ()) -> Iterator[tuple[Path, dict[str, Any]]]:
    """Every schema object inside ``schema`` with its path (iterative: user schemas may nest deeply)."""
    stack: list[tuple[Path, Any]] = [(path, schema)]
    while stack:
        where, node = stack.pop()
        if isinstance(node, list):
            stack.extend(((*where, index), item) for index, item in enumerate(node))
            continue
        if not isinstance(node, dict):
            continue
        yield where, node
        for key, value in node.items():
            if key in _DATA_KEYWORDS:
                continue
            if key in _SCHEMA_MAPS and isinstance(value, dict):
                stack.extend(((*where, key, name), child) for name, child in value.items())
            elif isinstance(value, (dict, list)):
                stack.append(((*where, key), value))


def _pointer_exists(document: Any, pointer: str) -> bool:
    node = document
    for raw in pointer.split("/")[1:]:
        token = raw.replace("~1", "/").replace("~0", "~")
        from urllib.parse import unquote

        token = unquote(token)
        if isinstance(node, dict) and token in node:
            node = node[token]
        elif isinstance(node, list) and token.isdigit() and int(token) < len(node):
            node = node[int(token)]
        else:
            return False
    return True


def check_references(schema: Any, held: tuple[str, ...] = ()) -> None:
    """Raise RefusedSchema unless every reference in ``schema`` resolves inside it (or to ``held`` documents)."""
    nodes = list(_walk(schema))
    anchors = {str(node[key]) for _, node in nodes for key in ("$anchor", "$dynamicAnchor") if isinstance(node.get(key), str)}
    for where, node in nodes:
        for keyword in _REFERENCE_KEYWORDS:
            reference = node.get(keyword)
            if not isinstance(reference, str):
                continue
            if any(reference.startswith(f"{document}#") or reference == document for document in held):
                continue
            if not reference.startswith("#"):
                raise RefusedSchema(
                    f"{keyword} {reference!r} points outside this document; references must stay within it "
                    "('#/$defs/name'), mlgitops fetches nothing",
                    (*where, keyword),
                )
            fragment = reference[1:]
            found = _pointer_exists(schema, fragment) if fragment.startswith("/") or not fragment else fragment in anchors
            if not found:
                raise RefusedSchema(f"{keyword} {reference!r} resolves to nothing in this document", (*where, keyword))


def _pointer_path(document: Any, pointer: str) -> Path | None:
    """The schema path a JSON pointer names (list indices as ints, as ``_walk`` spells them), or None."""
    from urllib.parse import unquote

    node, path = document, list[str | int]()
    for raw in pointer.split("/")[1:]:
        token = unquote(raw.replace("~1", "/").replace("~0", "~"))
        if isinstance(node, dict) and token in node:
            node = node[token]
            path.append(token)
        elif isinstance(node, list) and token.isdigit() and int(token) < len(node):
            node = node[int(token)]
            path.append(int(token))
        else:
            return None
    return tuple(path)


def _in_place_edges(schema: Any, nodes: dict[Path, dict[str, Any]]) -> dict[Path, list[tuple[Path, Path]]]:
    """For each schema object, the schema objects applied to the same value: (target, the path that says so)."""
    anchors: dict[str, list[Path]] = {}
    for where, node in nodes.items():
        for key in ("$anchor", "$dynamicAnchor"):
            if isinstance(node.get(key), str):
                anchors.setdefault(str(node[key]), []).append(where)
    edges: dict[Path, list[tuple[Path, Path]]] = {}
    for where, node in nodes.items():
        found: list[tuple[Path, Path]] = []
        for key, value in node.items():
            if key in _IN_PLACE and isinstance(value, dict):
                found.append(((*where, key), (*where, key)))
            elif key in _IN_PLACE and isinstance(value, list):
                found += [((*where, key, index), (*where, key, index)) for index in range(len(value))]
            elif key in _IN_PLACE_MAPS and isinstance(value, dict):
                found += [((*where, key, name), (*where, key, name)) for name, child in value.items() if isinstance(child, dict)]
        for keyword in _REFERENCE_KEYWORDS:
            reference = node.get(keyword)
            if not isinstance(reference, str) or not reference.startswith("#"):
                continue  # another document: check_references refuses it, or it is one mlgitops holds
            fragment = reference[1:]
            targets: list[Path]
            if keyword == "$recursiveRef" or not fragment:
                targets = [()]  # the document (and, conservatively, nothing narrower)
            elif fragment.startswith("/"):
                pointed = _pointer_path(schema, fragment)
                targets = [] if pointed is None else [pointed]
            else:
                targets = anchors.get(fragment, [])
            found += [(target, (*where, keyword)) for target in targets if target in nodes]
        edges[where] = found
    return edges


def check_recursion(schema: Any) -> None:
    """Raise RefusedSchema for a schema that applies itself to the same value without end (a cycle of references
    and in-place applicators), or through more than ``_MAX_IN_PLACE`` of them, at the reference that does it.

    Iterative depth-first search over the in-place graph: the longest chain from each schema object is known
    once all its successors are, and a successor still on the path closes a cycle.
    """
    nodes = dict(_walk(schema))
    edges = _in_place_edges(schema, nodes)
    depth: dict[Path, int] = {}
    on_path: set[Path] = set()
    for start in nodes:
        if start in depth:
            continue
        stack: list[tuple[Path, int]] = [(start, 0)]
        on_path.add(start)
        while stack:
            where, next_edge = stack[-1]
            successors = edges[where]
            if next_edge < len(successors):
                stack[-1] = (where, next_edge + 1)
                target, said = successors[next_edge]
                if target in on_path:
                    raise RefusedSchema(
                        f"{said[-1]} {nodes[where].get(said[-1], '')!r} applies the schema to the same value again "
                        "without end (a reference cycle); recursive schemas must descend into a property or an item "
                        "first (properties, items)"
                        if said[-1] in _REFERENCE_KEYWORDS
                        else "this schema applies itself to the same value again without end (a reference cycle); "
                        "recursive schemas must descend into a property or an item first (properties, items)",
                        said,
                    )
                if target not in depth:
                    on_path.add(target)
                    stack.append((target, 0))
                continue
            stack.pop()
            on_path.discard(where)
            depth[where] = max((depth[target] + 1 for target, _ in successors), default=0)
            if depth[where] > _MAX_IN_PLACE:
                raise RefusedSchema(
                    f"references and in-place applicators (allOf, not, $ref…) nest more than {_MAX_IN_PLACE} levels deep "
                    "here; flatten the schema",
                    where,
                )


@cache
def regex_options() -> Any:
    """jsonschema-rs's option that runs every pattern on the linear-time `regex` crate."""
    import jsonschema_rs

    return jsonschema_rs.RegexOptions()


@lru_cache(maxsize=4096)
def _pattern_validator(pattern: str) -> Any:
    import jsonschema_rs

    return jsonschema_rs.Draft202012Validator({"pattern": pattern}, pattern_options=regex_options())


def check_patterns(schema: Any) -> None:
    """Raise RefusedSchema for a pattern the linear-time engine cannot compile.

    `unevaluatedProperties` beside `patternProperties` is refused too: jsonschema would match those
    patterns with Python's backtracking engine while explaining a failure.
    """
    for where, node in _walk(schema):
        if "unevaluatedProperties" in node and "patternProperties" in node:
            raise RefusedSchema(
                "unevaluatedProperties beside patternProperties is not supported; use additionalProperties",
                (*where, "unevaluatedProperties"),
            )
        candidates: list[tuple[Path, Any]] = [((*where, "pattern"), node.get("pattern"))]
        properties = node.get("patternProperties")
        if isinstance(properties, dict):
            candidates += [((*where, "patternProperties", key), key) for key in properties]
        for path, pattern in candidates:
            if not isinstance(pattern, str):
                continue
            try:
                _pattern_validator(pattern)
            except Exception:  # jsonschema-rs raises its ValidationError: not a regex for this engine
                raise RefusedSchema(
                    f"pattern {_shortened(pattern)} is not a regular expression mlgitops can run in linear time "
                    "(no backreferences or look-around)",
                    path,
                ) from None


def _shortened(text: str, limit: int = 60) -> str:
    return repr(text) if len(text) <= limit else f"{text[:limit]!r}..."


def matches(pattern: str, text: str) -> bool:
    """Whether ``pattern`` finds a match in ``text`` (JSON Schema `pattern` semantics), in linear time."""
    return bool(_pattern_validator(pattern).is_valid(text))


def refuse_retrieval(uri: str) -> Any:
    """A retriever for jsonschema-rs: a reference that is not in memory is never fetched."""
    return _refuse(uri)


def refuse_resource(uri: str) -> Any:
    """A retriever for the `referencing` registry jsonschema uses: nothing is ever fetched."""
    from referencing.exceptions import NoSuchResource

    raise NoSuchResource(ref=uri)  # type: ignore[call-arg]


def _extras(extras: list[Any]) -> str:
    verb = "was" if len(extras) == 1 else "were"
    return f"{', '.join(repr(extra) for extra in extras)} {verb}"


def _pattern(validator: Any, pattern: str, instance: Any, schema: Any) -> Iterator[Any]:
    from jsonschema.exceptions import ValidationError

    if validator.is_type(instance, "string") and not matches(pattern, instance):
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


def _pattern_properties(validator: Any, patterns: dict[str, Any], instance: Any, schema: Any) -> Iterator[Any]:
    if not validator.is_type(instance, "object"):
        return
    for pattern, subschema in patterns.items():
        for key, value in instance.items():
            if matches(pattern, key):
                yield from validator.descend(value, subschema, path=key, schema_path=pattern)


def _additional_properties(validator: Any, allowed: Any, instance: Any, schema: Any) -> Iterator[Any]:
    from jsonschema.exceptions import ValidationError

    if not validator.is_type(instance, "object"):
        return
    properties = schema.get("properties", {})
    patterns = list(schema.get("patternProperties", {}))
    extras = [key for key in instance if key not in properties and not any(matches(p, key) for p in patterns)]
    if validator.is_type(allowed, "object"):
        for extra in extras:
            yield from validator.descend(instance[extra], allowed, path=extra)
    elif not allowed and extras:
        if patterns:
            verb = "does" if len(extras) == 1 else "do"
            joined = ", ".join(repr(each) for each in sorted(extras))
            yield ValidationError(f"{joined} {verb} not match any of the regexes: {', '.join(map(repr, sorted(patterns)))}")
        else:
            yield ValidationError(f"Additional properties are not allowed ({_extras(sorted(extras, key=str))} unexpected)")


@cache
def explaining_validator_class() -> Any:
    """jsonschema's Draft 2020-12 validator with every regex keyword on the linear-time engine."""
    from jsonschema import Draft202012Validator, validators

    return validators.extend(  # type: ignore[no-untyped-call,unused-ignore]
        Draft202012Validator,
        {"pattern": _pattern, "patternProperties": _pattern_properties, "additionalProperties": _additional_properties},
    )


def safe_registry() -> Any:
    """An empty `referencing` registry that fetches nothing (documents are added to it in memory)."""
    from referencing import Registry

    return Registry(retrieve=refuse_resource)  # type: ignore[call-arg]


def as_user_error(error: RefusedSchema, locate: Any, prefix: tuple[str | int, ...] = ()) -> UserError:
    """A RefusedSchema as a located UserError; ``locate`` maps a field path to a Location."""
    field = ".".join(str(part) for part in (*prefix, *error.path))
    return UserError(f"{field}: {error.message}" if field else error.message, locate((*prefix, *error.path)))


def check_user_schema(schema: Any, held: tuple[str, ...] = ()) -> None:
    """Every check above: references stay in the document (or ``held``) and end, patterns run in linear time."""
    check_references(schema, held)
    check_recursion(schema)
    check_patterns(schema)


__all__ = [
    "RefusedSchema",
    "as_user_error",
    "check_patterns",
    "check_recursion",
    "check_references",
    "check_user_schema",
    "explaining_validator_class",
    "matches",
    "refuse_resource",
    "refuse_retrieval",
    "regex_options",
    "safe_registry",
]
