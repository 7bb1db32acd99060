"""The attribute docstrings of the spec models, read when a JSON Schema is built instead of when the models are made.

A spec field is documented by the string under it (``replicas: int = 1`` then ``\"\"\"Pods to run.\"\"\"``), and
that text is the field's ``description`` in the JSON Schema editors and the documentation's field reference
show. pydantic's ``use_attribute_docstrings`` reads those strings while it makes each class: it finds the
class's source through the calling frames, tokenizes the class block and parses it, once per class. For the
spec's ~120 classes that was 80 ms of every `render` and of every `lint` that traces findings to environment
files (importing ``mlgitops.spec`` took 0.32 s with it and 0.24 s without, on the benchmark machine), for text
only a JSON Schema shows. So the models are made without it, and :func:`describe_fields` puts each docstring
into a schema pydantic built, as pydantic itself would have: the field schema's ``description``, its keys
sorted again as pydantic sorts them, unless the field sets ``description=`` itself. Each module's source is
parsed once.

A field's docstring is the one under its annotation in the nearest class of the model's MRO that annotates it
(a subclass that annotates a field again without a docstring leaves it undocumented), as pydantic reads them:
the string statement right after the annotated assignment, cleaned by :func:`inspect.cleandoc`.
"""

from __future__ import annotations

import ast
import inspect
import sys
from collections import Counter
from functools import cache
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import GenerateJsonSchema


@cache
def _module_classes(module_name: str) -> dict[str, ast.ClassDef]:
    """Every class statement of a module by qualified name (``Outer.Inner``, ``make.<locals>.Model``); none when its
    source is not there."""
    module = sys.modules.get(module_name)
    try:
        source = inspect.getsource(module) if module is not None else ""
    except (OSError, TypeError):  # pragma: no cover - a module without source (frozen, zipped without .py)
        return {}
    found: dict[str, ast.ClassDef] = {}

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.ClassDef):
                name = f"{prefix}{child.name}"
                found.setdefault(name, child)
                visit(child, f"{name}.")
            elif isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                visit(child, f"{prefix}{child.name}.<locals>.")
            else:  # a class under `if`, `try` or `with` keeps the qualified name of the block around it
                visit(child, prefix)

    visit(ast.parse(source), "")
    return found


@cache
def own_docstrings(cls: type[Any]) -> dict[str, str]:
    """The docstring of each attribute annotated in ``cls``'s own body (not its bases'), by attribute name."""
    statement = _module_classes(cls.__module__).get(cls.__qualname__)
    docs: dict[str, str] = {}
    if statement is None:
        return docs
    target: str | None = None
    for item in statement.body:
        if isinstance(item, ast.Expr) and isinstance(item.value, ast.Constant) and isinstance(item.value.value, str):
            if target is not None:
                docs[target] = inspect.cleandoc(item.value.value)
            target = None
        elif isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name):
            target = item.target.id
        else:
            target = None
    return docs


def field_docstring(model: type[BaseModel], field: str) -> str | None:
    """The docstring of ``model``'s field ``field`` (its Python name): from the nearest class annotating it."""
    for cls in model.__mro__:
        if field in inspect.get_annotations(cls):
            return own_docstrings(cls).get(field)
    return None


def _models(root: type[BaseModel]) -> dict[str, type[BaseModel]]:
    """``root`` and every model class below it, by the names pydantic gives a model's ``$defs`` entry: the class
    name, and the module-qualified name (``mlgitops__spec__ray__Autoscaling``) it takes when two models share one
    (``GenerateJsonSchema.get_defs_ref``; a shared class name then names neither)."""
    classes: dict[type[BaseModel], None] = {}
    pending = [root]
    while pending:
        cls = pending.pop()
        if cls not in classes:
            classes[cls] = None
            pending += cls.__subclasses__()
    normalize = GenerateJsonSchema().normalize_name
    found = {normalize(f"{cls.__module__}.{cls.__qualname__}"): cls for cls in classes}
    names = Counter(cls.__name__ for cls in classes)
    found.update({cls.__name__: cls for cls in classes if names[cls.__name__] == 1})
    return found


def _redundant(written: dict[str, Any], docstring: str, schema: dict[str, Any]) -> bool:
    """Whether pydantic would drop the docstring as a ``$ref``'s sibling equal to the referenced schema's own
    ``description`` (``GenerateJsonSchema.handle_ref_overrides``)."""
    reference = written.get("$ref")
    if not isinstance(reference, str) or not reference.startswith(_DEFS):
        return False
    referenced = (schema.get("$defs") or {}).get(reference.removeprefix(_DEFS))
    return isinstance(referenced, dict) and referenced.get("description") == docstring


_DEFS = "#/$defs/"


def describe_fields(schema: dict[str, Any], root: type[BaseModel], base: type[BaseModel]) -> dict[str, Any]:
    """``schema`` (``root.model_json_schema(by_alias=True)``), each field given its docstring as ``description``.

    ``base`` is the class every documented model derives from; ``$defs`` entries are matched to its subclasses
    by the names pydantic gives their definitions (``_models``). Changes ``schema`` in place and returns it.
    """
    models = _models(base)
    targets: list[tuple[type[BaseModel], dict[str, Any]]] = [(root, schema)]
    for name, definition in (schema.get("$defs") or {}).items():
        if name in models and isinstance(definition, dict):
            targets.append((models[name], definition))
    for model, definition in targets:
        properties = definition.get("properties")
        if not isinstance(properties, dict):
            continue
        for name, field in model.model_fields.items():
            key = field.alias or name
            written = properties.get(key)
            docstring = field_docstring(model, name) if field.description is None else None
            if docstring is None or not isinstance(written, dict) or _redundant(written, docstring, schema):
                continue
            written = {**written, "description": docstring}
            # pydantic sorts each schema's keys (GenerateJsonSchema.sort), but not those below "properties" or
            # "default": a field of either name keeps its keys in order.
            properties[key] = written if key in ("properties", "default") else dict(sorted(written.items()))
    return schema


__all__ = ["describe_fields", "field_docstring", "own_docstrings"]
