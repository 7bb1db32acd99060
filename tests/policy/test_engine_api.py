"""The API the render pipeline calls: Finding, PolicyContext, load_catalog, load_config, evaluate."""

from __future__ import annotations

import dataclasses
import random
from pathlib import Path

import pytest

from mlgitops.errors import Location, UserError
from mlgitops.kube.manifest import Manifest
from mlgitops.policy import Catalog, Finding, PolicyContext, Severity, evaluate, fails, load_catalog
from tests.policy.linting import REPO, findings_in, manifests_of, positions, write

SERVE = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: serve
  namespace: ml
spec:
  selector:
    matchLabels: {app: serve}
  template:
    metadata:
      labels: {app: serve}
    spec:
      securityContext: {runAsNonRoot: true}
      containers:
        - name: server
          image: ghcr.io/acme/serve:1.4.2
          readinessProbe: {tcpSocket: {port: 8080}}
          resources:
            requests: {cpu: "1", memory: 1Gi}
            limits: {memory: 1Gi}
"""


def test_finding_and_context_keep_the_shape_the_renderer_calls() -> None:
    assert [(f.name, f.default) for f in dataclasses.fields(Finding)][4:] == [
        ("location", dataclasses.MISSING),
        ("source", None),
        ("waiver", None),
        ("fix", ""),
        ("path", ()),
        ("render_fix", None),  # added last, with a default: positional callers keep working
    ]
    assert [f.name for f in dataclasses.fields(Finding)][:4] == ["rule", "severity", "message", "object_ref"]
    context = PolicyContext()
    assert (context.environment, context.node_pools, context.kubernetes_version) == (None, (), "1.32")
    with pytest.raises(dataclasses.FrozenInstanceError):
        context.environment = "prod"  # type: ignore[misc]


def test_a_rendered_object_carries_its_environment_file_line(catalog: Catalog) -> None:
    spec_line = Location("environments/prod.yaml", 12, 5)
    rendered = manifests_of(SERVE, "rendered/prod/deployment-serve.yaml", source=spec_line, environment="prod")
    [digest] = [f for f in evaluate(rendered, catalog, PolicyContext(environment="prod")) if f.rule == "image-digest"]
    assert digest.source == spec_line
    assert digest.location == Location("rendered/prod/deployment-serve.yaml", 16, 18)
    assert (digest.object_ref.kind, digest.object_ref.namespace, digest.object_ref.name) == ("Deployment", "ml", "serve")
    assert digest.fix.startswith("Append @sha256:")


@pytest.mark.parametrize(
    ("manifest_environment", "context_environment", "pinned_by_default"),
    [
        ("prod", None, True),
        (None, "production", True),
        ("dev", None, False),
        (None, "staging", False),
        (None, None, False),
    ],
)
def test_image_digests_are_required_in_prod_and_production_only(
    catalog: Catalog, manifest_environment: str | None, context_environment: str | None, pinned_by_default: bool
) -> None:
    found = evaluate(
        manifests_of(SERVE, environment=manifest_environment), catalog, PolicyContext(environment=context_environment)
    )
    assert ("image-digest" in {f.rule for f in found}) is pinned_by_default


def test_a_missing_field_is_reported_at_its_nearest_existing_parent(catalog: Catalog) -> None:
    text = SERVE.replace('            requests: {cpu: "1", memory: 1Gi}\n', "")
    # No requests: the memory limit stands in for the memory request (the API server copies it), the cpu
    # request is missing, and the finding points at `resources:` (line 18, column 11), the closest key that exists.
    assert positions(findings_in(text, catalog, rule="resources-requests")) == [("resources-requests", 18, 11)]


def test_findings_come_in_file_line_column_rule_order_whatever_the_input_order(catalog: Catalog) -> None:
    text = SERVE.replace("1.4.2", "latest") + "---\n" + SERVE.replace("name: serve\n  namespace", "name: other\n  namespace")
    manifests = manifests_of(text, "b.yaml") + manifests_of(SERVE.replace("1.4.2", "latest"), "a.yaml")
    ordered = evaluate(manifests, catalog, PolicyContext())
    keys = [(f.location.file, f.location.line, f.location.column, f.rule) for f in ordered]
    assert keys == sorted(keys)
    assert keys[0][0] == "a.yaml"
    shuffled = manifests[:]
    random.Random(7).shuffle(shuffled)
    assert evaluate(shuffled, catalog, PolicyContext()) == ordered


def test_a_clean_run_never_composes_positions(catalog: Catalog, monkeypatch: pytest.MonkeyPatch) -> None:
    # Positions are only worth their cost for findings; dev's rendered fleet has none.
    files = sorted((REPO / "rendered" / "dev").glob("*.yaml"))
    manifests = [m for path in files if path.name != "kustomization.yaml" for m in manifests_of(path.read_text(), path.name)]
    assert len(manifests) > 10

    def refuse(self: Manifest, *args: object, **kwargs: object) -> Location:
        raise AssertionError(f"located {self.file} without a finding")

    monkeypatch.setattr(Manifest, "locate", refuse)
    assert evaluate(manifests, catalog, PolicyContext(environment="dev")) == []


def test_an_unknown_kind_is_an_info_finding_that_never_fails_a_run(catalog: Catalog) -> None:
    found = findings_in("apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\n", catalog)
    assert [(f.rule, f.severity, f.location.line, f.location.column) for f in found] == [("schema", "info", 2, 7)]
    assert not fails(found)
    assert fails(found, Severity.INFO)


def test_a_malformed_object_is_a_finding_not_a_crash(catalog: Catalog) -> None:
    text = SERVE.replace("          resources:\n", "          resources: 12\n          notes:\n")
    found = findings_in(text, catalog)
    assert "schema" in {f.rule for f in found}


def test_an_invalid_user_policy_is_a_located_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "mine" / "broken.yaml", "id: team-label\ntitle: t\nseverity: error\nrationale: r\nfix: f\ncheck: nope\n")
    with pytest.raises(UserError) as raised:
        load_catalog([tmp_path / "mine"])
    assert "mine/broken.yaml:1:1: examples: missing required field 'examples'" in raised.value.one_line().splitlines()


def test_a_user_policy_naming_an_unknown_check_is_located_at_the_check(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    write(
        tmp_path / "mine" / "team.yaml",
        "id: team\ntitle: t\nseverity: error\nrationale: r\nfix: f\ncheck: nope\nexamples:\n  pass: [a]\n  fail: [b]\n",
    )
    with pytest.raises(UserError) as raised:
        load_catalog([tmp_path / "mine"])
    assert raised.value.one_line().startswith("mine/team.yaml:6:8: check: no built-in check 'nope'")


def test_a_policy_folder_can_replace_a_shipped_rule(tmp_path: Path) -> None:
    shipped = (REPO / "policies" / "serving-probes.yaml").read_text()
    write(tmp_path / "mine" / "serving-probes.yaml", shipped.replace("severity: error", "severity: info", 1))
    replaced = load_catalog([tmp_path / "mine"])
    assert replaced.policies["serving-probes"].severity == "info"
    assert load_catalog().policies["serving-probes"].severity != "info"


def _service(name: str, namespace: str, selector: str) -> str:
    metadata = f"{{name: {name}, namespace: {namespace}}}"
    return f"---\napiVersion: v1\nkind: Service\nmetadata: {metadata}\nspec: {{selector: {selector}}}\n"


@pytest.mark.parametrize(
    ("services", "named"),
    [
        # The first Service (in file order) whose whole selector the pod labels satisfy, in the pod's namespace.
        (
            [
                ("elsewhere", "other", "{app: worker}"),
                ("partial", "ml", "{app: worker, tier: db}"),
                ("first", "ml", "{tier: web}"),
                ("second", "ml", "{app: worker}"),
            ],
            "first",
        ),
        # `zone: null` equals a missing label (labels.get), so such a selector still selects the pod.
        ([("late", "ml", "{tier: web, app: worker}"), ("nulls", "ml", "{zone: null}")], "late"),
        ([("nulls", "ml", "{zone: null}"), ("late", "ml", "{tier: web, app: worker}")], "nulls"),
        ([("listed", "ml", "{app: [worker]}"), ("keyed", "ml", "{zone: null, app: worker}")], "keyed"),
    ],
)
def test_serving_probes_names_the_first_service_that_selects_the_pod(
    catalog: Catalog, services: list[tuple[str, str, str]], named: str
) -> None:
    worker = SERVE.replace("{app: serve}", "{app: worker, tier: web}").replace(
        "          readinessProbe: {tcpSocket: {port: 8080}}\n", ""
    )
    text = worker + "".join(_service(*service) for service in services)
    [finding] = findings_in(text, catalog, rule="serving-probes")
    assert f"is selected by Service {named!r}" in finding.message
