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
from functools import cache
from typing import Any

from pydantic import BaseModel


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

    def visit(statements: list[ast.stmt], prefix: str) -> None:
        for statement in statements:
            if isinstance(statement, ast.ClassDef):
                name = f"{prefix}{statement.name}"
                found.setdefault(name, statement)
                visit(statement.body, f"{name}.")
            elif isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef)):
                visit(statement.body, f"{prefix}{statement.name}.<locals>.")

    visit(ast.parse(source).body, "")
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
    """``root`` and every model class below it, by class name (how pydantic names a model's ``$defs`` entry)."""
    found: dict[str, type[BaseModel]] = {}
    pending = [root]
    while pending:
        cls = pending.pop()
        if found.setdefault(cls.__name__, cls) is cls:
            pending += cls.__subclasses__()
    return found


def describe_fields(schema: dict[str, Any], root: type[BaseModel], base: type[BaseModel]) -> dict[str, Any]:
    """``schema`` (``root.model_json_schema(by_alias=True)``), each field given its docstring as ``description``.

    ``base`` is the class every documented model derives from; ``$defs`` entries are matched to its subclasses
    by class name (pydantic's name for a model's definition). Changes ``schema`` in place and returns it.
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
            if docstring is None or not isinstance(written, dict):
                continue
            written = {**written, "description": docstring}
            # pydantic sorts each schema's keys (GenerateJsonSchema.sort), but not those below "properties" or
            # "default": a field of either name keeps its keys in order.
            properties[key] = written if key in ("properties", "default") else dict(sorted(written.items()))
    return schema


__all__ = ["describe_fields", "field_docstring", "own_docstrings"]
