"""Pydantic validation errors as located ``UserError``s, worded for people rather than for Python.

Every file a user writes and mlgitops reads into a model goes through here: environment files,
policy files and ``.mlgitops.yaml``. Each pydantic error becomes one line, ``file:line:column:
field.path: what is wrong``, pointing at the value (or, for a field that must not be there, its key)
in the ``SourceNode`` tree the file was parsed into; a misspelt field suggests the name it is a typo of.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ValidationError

from mlgitops.errors import UserError
from mlgitops.load.suggest import field_homes, typo_of
from mlgitops.spec.fields import keys, models_at
from mlgitops.spec.problems import SpecProblem
from mlgitops.yaml.source import SourceNode, locate

FieldPath = tuple[str | int, ...]


def located(tree: SourceNode, problem: SpecProblem) -> UserError:
    where, shown = locate(tree, problem.path, key=problem.at_key)
    return UserError(f"{shown}: {problem.message}" if shown else problem.message, where)


def validation_errors(error: ValidationError, tree: SourceNode, model: type[BaseModel]) -> list[UserError]:
    """One located UserError per pydantic error, worded for people rather than for Python."""
    found = []
    details = error.errors(include_url=False)
    # A misspelt field is reported once, as unknown with a suggestion, not also as missing.
    misspelt = {(tuple(d["loc"][:-1]), str(d["loc"][-1])) for d in details if d["type"] == "extra_forbidden"}
    for detail in details:
        path = tuple(detail["loc"])
        if detail["type"] == "union_tag_invalid":
            # Point at the tag that is wrong (in the file that wrote it), not at the item's first line.
            path = (*path, str(detail.get("ctx", {}).get("discriminator", "kind")).strip("'"))
        if detail["type"] == "missing" and any(
            parent == path[:-1] and typo_of(typo, [str(path[-1])]) for parent, typo in misspelt
        ):
            continue
        kind = detail["type"]
        at_key = kind == "extra_forbidden"
        message = _message(detail, path, model)
        found.append(located(tree, SpecProblem(path, message, at_key=at_key)))
    return found


def _message(detail: Any, path: FieldPath, model: type[BaseModel]) -> str:
    kind = detail["type"]
    text = str(detail["msg"])
    value = detail.get("input")
    secret_safe = "env" not in path
    if kind == "missing":
        return f"missing required field {path[-1]!r}"
    if kind == "extra_forbidden":
        known = sorted(_field_names(model, path[:-1]))
        written = str(path[-1])
        close = typo_of(written, known)
        homes = field_homes(model).get(written)
        if close is not None:
            hint = f" (did you mean {close!r}?)"
        elif homes:
            hint = f" ({written!r} belongs at {' or '.join(homes[:3])}, not here)"
        else:
            hint = f" (known: {', '.join(known)})" if known else ""
        return f"unknown field {written!r}{hint}"
    if kind == "union_tag_invalid":
        expected = detail.get("ctx", {}).get("expected_tags", "")
        tag = detail.get("ctx", {}).get("discriminator", "kind").strip("'")
        return f"{tag} {detail['ctx']['tag']!r} is not one of {expected}"
    if kind == "union_tag_not_found":
        tag = detail.get("ctx", {}).get("discriminator", "kind").strip("'")
        return f"missing required field {tag!r}"
    if kind in ("model_type", "dict_type", "model_attributes_type"):
        # pydantic says "a valid dictionary or instance of EnvVar": Python words, not YAML ones.
        text = "input should be a mapping of fields"
    if kind in ("value_error", "assertion_error"):
        return text.removeprefix("Value error, ").removeprefix("Assertion failed, ")
    if kind in ("literal_error", "enum"):
        shown = f"{value!r} " if secret_safe and not isinstance(value, (dict, list)) else ""
        return f"{shown}is not allowed: {text[0].lower()}{text[1:]}"
    got = ""
    if secret_safe and not isinstance(value, (dict, list)):
        got = f" (got {value!r})"
    elif isinstance(value, dict):
        got = " (got a mapping)"
    elif isinstance(value, list):
        got = " (got a list)"
    return f"{text[0].lower()}{text[1:]}{got}"


def _field_names(model: type[BaseModel], path: FieldPath) -> set[str]:
    return {key for candidate in models_at(model, path) for key in keys(candidate)}
