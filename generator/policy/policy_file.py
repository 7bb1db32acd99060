"""What a policy file holds (``policies/<id>.yaml``, or a file of a user's policy folder), as typed models.

A rule's id is its file's name: ``policies/gpu-toleration.yaml`` is the rule ``gpu-toleration``.
``id:`` may still be written (policy folders written before this kept it), but must then equal the
file's name. ``PolicyFile.model_validate(document, context={"rule": <file name>, "checks": <names>})``
checks one file, ``check:`` against the names of the built-in checks;
``mlgitops.load.validation`` turns its errors into located one-line messages. The editor schema
``policies/policy.schema.json`` is ``policy_file_schema()``, kept up to date by the test suite.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic.alias_generators import to_camel

from mlgitops.errors import UserErrors
from mlgitops.kube.quantity import QuantityError, parse_quantity
from mlgitops.policy.message import template_problem
from mlgitops.policy.severity import Severity

RULE_ID = "^[a-z][a-z0-9]*(-[a-z0-9]+)*$"
"""A rule id (and so a policy file's name): lowercase words of letters and digits joined by '-'."""
SCHEMA_ID = "https://mlgitops.dev/schemas/policy.json"
TargetKind = Literal["object", "pod", "container", "initContainer", "anyContainer"]
Text = Annotated[str, Field(min_length=1)]


class FileModel(BaseModel):
    """Base of the models of files a user writes for the policy engine: camelCase keys, unknown keys and
    Python's lax conversions refused (``true`` is no text, ``"3"`` no number), values frozen.

    Field descriptions (the editor schema's) are given with ``Field(description=...)``: pydantic reading
    attribute docstrings from the source would cost every `mlgitops lint` about 15 ms.
    """

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, alias_generator=to_camel, populate_by_name=True)


def about(text: str) -> Any:
    """``Field(description=text)``, for ``Annotated[type, about("...")]``."""
    return Field(description=text)


Model = TypeVar("Model", bound=BaseModel)


def validated(model: type[Model], document: Any, text: str, shown: str, context: dict[str, Any] | None = None) -> Model:
    """``document`` (parsed from ``text``, the file shown as ``shown``) as a ``model``.

    Raises ``UserErrors``, one located line per mistake (``mlgitops.load.validation``, as for environment
    files); the file is parsed again with positions only then.
    """
    try:
        return model.model_validate(document, context=context)
    except ValidationError as error:
        from mlgitops.load.validation import validation_errors
        from mlgitops.yaml.source import parse

        raise UserErrors(validation_errors(error, parse(text, shown), model)) from None


# Severities are written as words: the enum takes its values (strict mode would want the Python object).
SeverityWord = Annotated[Severity, Field(strict=False)]


class Taint(FileModel):
    """A taint of an example's node pool."""

    key: Text
    value: str | None = None
    effect: Literal["NoSchedule", "PreferNoSchedule", "NoExecute"] = "NoSchedule"


def _quantities(amounts: dict[str, str | int | float]) -> dict[str, str | int | float]:
    for resource, amount in amounts.items():
        try:
            parse_quantity(str(amount))
        except QuantityError as error:
            raise ValueError(f"{resource}: {error}") from None
    return amounts


class ExampleNodePool(FileModel):
    """A node pool an example runs against (what `render` knows from the environment's cluster profile)."""

    name: Text
    labels: dict[str, str] = {}
    taints: list[Taint] = []
    allocatable: Annotated[
        dict[str, str | int | float],
        AfterValidator(_quantities),
        about('What one node offers, as Kubernetes quantities: {cpu: "32", memory: 256Gi, nvidia.com/gpu: 8}.'),
    ] = {}
    max_nodes: Annotated[int | None, Field(ge=0), about("The most nodes the pool grows to (for job-pool-capacity).")] = None


def _one_example(schema: dict[str, Any]) -> None:
    # An example is a manifest's text, or a mapping with the text and what the run needs.
    written_out = dict(schema)
    schema.clear()
    schema["oneOf"] = [{"type": "string", "minLength": 1}, written_out]


class Example(FileModel):
    """A manifest that must pass or fail its policy: its text, or a mapping with the text and its run's facts."""

    model_config = ConfigDict(json_schema_extra=_one_example)

    manifest: Annotated[Text, about("The manifest (one or more YAML documents).")]
    at: Annotated[
        list[Annotated[int, Field(ge=1)]] | None,
        Field(min_length=2, max_length=2),
        about("Line and column (in the manifest) of the expected finding."),
    ] = None
    environment: Annotated[
        str | None, about("The environment the manifest belongs to (for rules limited to some environments).")
    ] = None
    node_pools: Annotated[
        list[ExampleNodePool],
        about("The cluster's node pools, for rules that need them (schedulable, gpu-toleration, job-pool-capacity)."),
    ] = []

    @model_validator(mode="before")
    @classmethod
    def _text_alone(cls, value: Any) -> Any:
        return {"manifest": value} if isinstance(value, str) else value

    @property
    def expect(self) -> tuple[int, int] | None:
        """Where the finding must be: (line, column) in the manifest, or None for anywhere."""
        return (self.at[0], self.at[1]) if self.at else None


class Examples(FileModel):
    """Manifests the rule must accept and reject: `mlgitops policy test` runs them, and so does the test suite."""

    pass_: Annotated[list[Example], Field(alias="pass", min_length=1)]
    fail: Annotated[list[Example], Field(min_length=1)]


class Match(FileModel):
    """Which objects the rule looks at (all of them without any)."""

    kinds: Annotated[list[Text], Field(min_length=1)] | None = None
    api_groups: Annotated[list[str], Field(min_length=1)] | None = None
    environments: Annotated[list[str], Field(min_length=1)] | None = None
    labels: dict[str, str] = {}


class PolicyFile(FileModel):
    """One rule of the mlgitops policy catalog: what it matches, what it checks, and examples that must pass and fail."""

    model_config = ConfigDict(
        title="mlgitops policy",
        json_schema_extra={
            "oneOf": [{"required": ["schema"]}, {"required": ["check"]}],
            "dependentSchemas": {
                "securitySeverity": {"required": ["tags"], "properties": {"tags": {"contains": {"const": "security"}}}}
            },
        },
    )

    id: Annotated[
        Annotated[str, Field(json_schema_extra={"pattern": RULE_ID})] | None,
        about("The rule's id, used in findings, waivers and configuration: the file's name, so it may be left out."),
    ] = None
    title: Annotated[Text, about("What the rule wants, in a few words (code scanning's short description).")]
    severity: Annotated[
        SeverityWord,
        about(
            "How a finding of the rule is reported: error fails a run; warning and info are reported (--fail-on tightens this)."
        ),
    ]
    tags: Annotated[
        list[Annotated[str, Field(pattern="^[a-z][a-z0-9-]*$")]],
        Field(json_schema_extra={"uniqueItems": True}),
        about(
            "Categories of the rule (security, gpu, storage, autoscaling, gitops, ...): SARIF properties.tags, the filters "
            "of GitHub code scanning."
        ),
    ] = []
    security_severity: Annotated[
        float | None,
        Field(ge=0, le=10),
        about(
            "Only with the tag security: a CVSS-like score that GitHub code scanning shows as critical (9.0+), high "
            "(7.0+), medium (4.0+) or low."
        ),
    ] = None
    rationale: Annotated[Text, about("Why the rule exists: what breaks without it.")]
    fix: Annotated[Text, about("What to change to satisfy the rule.")]
    render_fix: Annotated[
        Text | None, about("The fix in environment-file terms, shown when `mlgitops render` reports the rule (default: fix).")
    ] = None
    match: Match = Field(default_factory=Match)
    target: Annotated[
        TargetKind,
        about(
            "What the schema is applied to: the whole object, each pod spec, or each container (pod templates inside "
            "Deployments, Jobs, CronJobs, PyTorchJobs and InferenceServices included)."
        ),
    ] = "object"
    schema_: Annotated[dict[str, Any] | None, Field(alias="schema"), about("JSON Schema the target must satisfy.")] = None
    message: Annotated[
        str,
        about("Finding message; {target}, {kind}, {name}, {detail}, {value} (quoted) and {text} (as written) are filled in."),
    ] = ""
    check: Annotated[
        str | None,
        Field(validate_default=True),
        about("Name of a built-in check, for rules that span several objects (`mlgitops policy list` shows the rules)."),
    ] = None
    params: Annotated[
        dict[str, Any], about("Parameters of the check (or `locate`: the field path a schema failure points at).")
    ] = {}
    examples: Examples

    @field_validator("id")
    @classmethod
    def _is_the_file_name(cls, value: str | None, info: ValidationInfo) -> str | None:
        rule = (info.context or {}).get("rule")
        if value is None or value == rule:
            return value
        valid = re.fullmatch(RULE_ID, value) is not None
        if rule is None:
            if valid:
                return value
            raise ValueError(f"{value[:80]!r} is not a rule id: lowercase words of letters and digits joined by '-'")
        fix = f"rename the file to {value}.yaml, or remove id:" if valid else "remove id:"
        raise ValueError(f"{value[:80]!r} is not this file's name {rule!r}: a rule's id is its file's name; {fix}")

    @field_validator("tags")
    @classmethod
    def _once_each(cls, value: list[str]) -> list[str]:
        repeated = sorted({tag for tag in value if value.count(tag) > 1})
        if repeated:
            raise ValueError(f"{', '.join(map(repr, repeated))} given more than once")
        return value

    @field_validator("security_severity")
    @classmethod
    def _only_for_security(cls, value: float | None, info: ValidationInfo) -> float | None:
        if value is not None and "tags" in info.data and "security" not in info.data["tags"]:
            raise ValueError("only rules tagged security have a security severity: add security to tags, or remove this")
        return value

    @field_validator("message")
    @classmethod
    def _fills_in(cls, value: str) -> str:
        problem = template_problem(value)
        if problem is not None:
            raise ValueError(problem)
        return value

    @field_validator("check")
    @classmethod
    def _one_way_to_check(cls, value: str | None, info: ValidationInfo) -> str | None:
        if "schema_" not in info.data:
            return value  # the schema itself is wrong: that error says enough
        if value is None and info.data["schema_"] is None:
            raise ValueError("give schema: (a JSON Schema its target must satisfy) or check: (a built-in check)")
        if value is not None and info.data["schema_"] is not None:
            raise ValueError("give schema: or check:, not both")
        checks = (info.context or {}).get("checks")
        if value is not None and checks is not None and value not in checks:
            raise ValueError(f"no built-in check {value!r} (have: {', '.join(sorted(checks))})")
        return value


def policy_file_schema() -> dict[str, Any]:
    """The JSON Schema of a policy file, for editors (``policies/policy.schema.json``)."""
    schema = PolicyFile.model_json_schema(by_alias=True)
    _untitled(schema)
    # The enum's docstring speaks to Python readers; the severity field's own description speaks to policy authors.
    schema["$defs"]["Severity"].pop("description", None)
    schema["title"] = "mlgitops policy"
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": SCHEMA_ID, **schema}


def _untitled(node: Any) -> None:
    """Drop the titles pydantic makes up from field names ('Api Groups'), and join docstring lines in descriptions."""
    if isinstance(node, dict):
        if isinstance(node.get("title"), str):
            del node["title"]
        if isinstance(node.get("description"), str):
            node["description"] = " ".join(node["description"].split())
        for key, value in node.items():
            if key in ("properties", "$defs", "dependentSchemas"):
                for child in value.values():
                    _untitled(child)
            elif key != "const":
                _untitled(value)
    elif isinstance(node, list):
        for item in node:
            _untitled(item)


__all__ = ["Example", "ExampleNodePool", "Examples", "FileModel", "Match", "PolicyFile", "policy_file_schema"]
