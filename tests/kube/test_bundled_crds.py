"""Upstream CRD schemas ship with mlgitops: lint judges custom resources as the API server would, without --crd.

The bundle (generator/kube/upstream_crds/, origins in its SOURCES.md) holds every served version of every custom
resource kind mlgitops knows; "only what mlgitops emits" (generator/kube/crd_schemas/) stays render's self-check.
"""

from __future__ import annotations

import gzip
import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from mlgitops.kube.custom_resources import load_crds, project_schemas, strict_schema, upstream_schemas
from mlgitops.kube.pod_kinds import CUSTOM_READERS
from mlgitops.kube.schema import compile_user_schema
from mlgitops.kube.upstream_crds import BUNDLE, INDEX, bundle_index, file_name, packed, served_schemas, upstream_schema
from tests.support import REPO, kubectl, lint_findings, run_cli, shared_dir, upstream_crd, write
from tests.test_real_manifests import JUDGED_SCHEMA_ERRORS, KUSTOMIZE_ROOTS, PROJECTS, Key, _key, _of

VERSION = "1.32"


def _problems(obj: dict[str, Any]) -> list[tuple[str, str]]:
    return [(".".join(map(str, p.path)), p.message) for p in upstream_schemas().validate(obj, VERSION)]


def _obj(api_version: str, kind: str, spec: Any) -> dict[str, Any]:
    return {"apiVersion": api_version, "kind": kind, "metadata": {"name": "example", "namespace": "ml"}, "spec": spec}


# --- what the bundle holds ----------------------------------------------------------------------------------------


def test_every_kind_mlgitops_renders_or_reads_has_its_upstream_schema() -> None:
    bundled = set(bundle_index())
    # Everything render emits (its strict schemas) exists upstream at the same apiVersion.
    assert set(project_schemas().schemas) - bundled == set()
    # Every custom kind whose pods lint reads, at every version its CRD serves; Kueue's v1beta1 beside v1beta2.
    kinds = {(group, kind) for (api_version, kind) in bundled for group in [api_version.rpartition("/")[0]]}
    # Seldon Core v2's Server is read (its podSpec overrides, issue 28) but its CRD is not bundled yet: lint says
    # "no schema" for it, as for any kind it has no CRD of (a --crd file validates it).
    assert set(CUSTOM_READERS) - kinds == {("mlops.seldon.io", "Server")}
    for api_version in ("kueue.x-k8s.io/v1beta1", "kueue.x-k8s.io/v1beta2"):
        for kind in ("ClusterQueue", "LocalQueue", "ResourceFlavor", "Workload", "WorkloadPriorityClass", "Topology"):
            assert (api_version, kind) in bundled
    for key in [
        ("ray.io/v1alpha1", "RayCluster"),
        ("serving.kserve.io/v1alpha1", "LLMInferenceService"),
        ("serving.kserve.io/v1alpha2", "LLMInferenceService"),
        ("serving.kserve.io/v1alpha1", "ServingRuntime"),
        ("serving.kserve.io/v1alpha1", "ClusterServingRuntime"),
        ("kubeflow.org/v1", "MPIJob"),
        ("kubeflow.org/v2beta1", "MPIJob"),
        ("kubeflow.org/v1", "TFJob"),
        ("gateway.networking.k8s.io/v1beta1", "HTTPRoute"),
        ("inference.networking.k8s.io/v1", "InferencePool"),
        ("monitoring.coreos.com/v1", "PrometheusRule"),
        ("keda.sh/v1alpha1", "ScaledJob"),
        ("batch.volcano.sh/v1alpha1", "Job"),
    ]:
        assert key in bundled, key
    # A version the CRD no longer serves is not there (ExternalSecret v1beta1: served: false).
    assert ("external-secrets.io/v1beta1", "ExternalSecret") not in bundled


def test_the_bundle_is_small_deterministic_and_each_file_is_listed_with_its_origin() -> None:
    files = sorted(path.name for path in BUNDLE.glob("*.json.gz"))
    assert sum((BUNDLE / name).stat().st_size for name in files) < 1_000_000  # 62 CRDs, 20 MB of YAML upstream
    assert sorted(set(bundle_index().values())) == files
    sources = (BUNDLE / "SOURCES.md").read_text(encoding="utf-8")
    rows = {line.split("|")[1].strip(): line for line in sources.splitlines() if line.startswith("| ") and ".json.gz" in line}
    assert sorted(rows) == files
    for name in files:
        assert re.search(r"\| [0-9a-f]{40}", rows[name]), rows[name]  # the commit
        assert "Apache-2.0" in rows[name]
        entry = json.loads(gzip.decompress((BUNDLE / name).read_bytes()))
        assert packed(entry) == (BUNDLE / name).read_bytes()  # rebuilding gives the same bytes
        assert file_name(entry) == name
        assert '"description":"' not in json.dumps(entry, separators=(",", ":")).replace('"description":{', "")


def test_every_bundled_schema_compiles_as_a_user_crd_would() -> None:
    for key in sorted(bundle_index()):
        compile_user_schema(upstream_schemas().schemas[key], VERSION)


def test_the_bundle_is_the_vendored_crds_without_their_descriptions() -> None:
    for name in ("serving.kserve.io_inferenceservices.yaml", "kueue.x-k8s.io_localqueues.yaml", "ray.io_rayjobs.yaml"):
        crd = yaml.safe_load(upstream_crd(name).read_text(encoding="utf-8"))
        entry = served_schemas(crd)
        assert gzip.decompress((BUNDLE / file_name(entry)).read_bytes()) == gzip.decompress(packed(entry))


@pytest.mark.needs_shared
def test_the_bundle_rebuilds_from_the_shared_crds() -> None:
    for path in sorted((shared_dir() / "crds").glob("*.yaml")):
        entry = served_schemas(yaml.load(path.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader))
        assert (BUNDLE / file_name(entry)).read_bytes() == packed(entry), path.name


def test_the_index_names_every_served_version() -> None:
    index = json.loads((BUNDLE / INDEX).read_text(encoding="utf-8"))
    for key, name in index.items():
        api_version, kind = key.split(" ")
        entry = json.loads(gzip.decompress((BUNDLE / name).read_bytes()))
        assert (entry["kind"], api_version.rpartition("/")[2] in entry["versions"]) == (kind, True)


# --- judged as the API server would -------------------------------------------------------------------------------

# Valid upstream fields that mlgitops never writes: the false schema errors, now none.
UPSTREAM_VALID = {
    "InferenceService with a predefined predictor": _obj(
        "serving.kserve.io/v1beta1",
        "InferenceService",
        {"predictor": {"sklearn": {"storageUri": "gs://kfserving-examples/models/sklearn/1.0/model", "protocolVersion": "v2"}}},
    ),
    "RayJob on an existing cluster": _obj(
        "ray.io/v1", "RayJob", {"entrypoint": "python x.py", "clusterSelector": {"ray.io/cluster": "c"}}
    ),
    "LocalQueue at v1beta1": _obj("kueue.x-k8s.io/v1beta1", "LocalQueue", {"clusterQueue": "shared"}),
    "RayCluster at v1alpha1": _obj(
        "ray.io/v1alpha1",
        "RayCluster",
        {"headGroupSpec": {"rayStartParams": {}, "template": {"spec": {"containers": [{"name": "h", "image": "ray:2"}]}}}},
    ),
    "LeaderWorkerSet with a startup policy": _obj(
        "leaderworkerset.x-k8s.io/v1",
        "LeaderWorkerSet",
        {"startupPolicy": "LeaderReady", "leaderWorkerTemplate": {"size": 2, "workerTemplate": {"spec": {"containers": []}}}},
    ),
}


@pytest.mark.parametrize("case", sorted(UPSTREAM_VALID))
def test_upstream_valid_fields_pass_lint_but_not_renders_self_check(case: str) -> None:
    obj = UPSTREAM_VALID[case]
    assert _problems(obj) == []
    # Render's self-check still holds its own output to what it means to emit (or knows nothing of the kind).
    project = project_schemas()
    if project.knows(obj) and case != "LeaderWorkerSet with a startup policy":
        assert project.validate(obj, VERSION) != []


def test_defaults_apply_before_required_and_unknown_fields_are_refused() -> None:
    # RayCluster workerGroupSpecs[].maxReplicas is required but has a default (KubeRay's CRD): never missing.
    worker = {"groupName": "w", "rayStartParams": {}, "template": {"spec": {"containers": [{"name": "w", "image": "ray:2"}]}}}
    head = {"rayStartParams": {}, "template": {"spec": {"containers": [{"name": "h", "image": "ray:2"}]}}}
    cluster = _obj("ray.io/v1", "RayCluster", {"headGroupSpec": head, "workerGroupSpecs": [worker]})
    assert _problems(cluster) == []
    assert _problems(_obj("ray.io/v1", "RayCluster", {"headGroupSpec": head, "workerGroupSpecz": []})) == [
        ("spec.workerGroupSpecz", "unknown field 'workerGroupSpecz'")
    ]
    # int-or-string: a quantity is an integer or text, never a float.
    flavor = {"name": "default", "resources": [{"name": "cpu", "nominalQuota": 0.5}]}
    groups = [{"coveredResources": ["cpu"], "flavors": [flavor]}]
    queue = _obj("kueue.x-k8s.io/v1beta1", "ClusterQueue", {"resourceGroups": groups})
    assert [path for path, _ in _problems(queue)] == ["spec.resourceGroups.0.flavors.0.resources.0.nominalQuota"]
    flavor["resources"][0]["nominalQuota"] = "500m"  # type: ignore[index]
    assert _problems(queue) == []


def test_preserved_unknown_fields_and_embedded_resources() -> None:
    # Katib's Experiment CRD is schema-less (x-kubernetes-preserve-unknown-fields at the root's spec): anything goes.
    assert _problems(_obj("kubeflow.org/v1beta1", "Experiment", {"objective": {"type": "maximize"}, "anything": [1]})) == []
    # An AppWrapper component's template is an embedded resource: its apiVersion and kind are required.
    component = {"template": {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "j"}, "spec": {}}}
    wrapper = _obj("workload.codeflare.dev/v1beta2", "AppWrapper", {"components": [component]})
    assert _problems(wrapper) == []
    del component["template"]["kind"]
    assert _problems(wrapper) == [("spec.components.0.template", "'kind' is a required property")]
    component["template"].update(kind="Job", metadata={"name": "j", "labelz": {}})  # its metadata is ObjectMeta
    assert _problems(wrapper) == [("spec.components.0.template.metadata.labelz", "unknown field 'labelz'")]


def test_embedded_resources_without_preserved_fields_refuse_other_keys() -> None:
    schema = strict_schema(
        {
            "type": "object",
            "x-kubernetes-embedded-resource": True,
            "properties": {"spec": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}},
        }
    )
    assert schema["required"] == ["apiVersion", "kind"]
    assert set(schema["properties"]) == {"apiVersion", "kind", "metadata", "spec"}
    assert schema["additionalProperties"] is False


def test_a_crd_given_with_crd_replaces_the_bundled_one(tmp_path: Path) -> None:
    crd = yaml.safe_load(upstream_crd("kueue.x-k8s.io_localqueues.yaml").read_text(encoding="utf-8"))
    for version in crd["spec"]["versions"]:
        version["schema"]["openAPIV3Schema"]["properties"]["spec"]["properties"]["newField"] = {"type": "string"}
    path = write(tmp_path / "crd.yaml", yaml.safe_dump(crd))
    obj = _obj("kueue.x-k8s.io/v1beta2", "LocalQueue", {"clusterQueue": "shared", "newField": "x"})
    assert _problems(obj) == [("spec.newField", "unknown field 'newField'")]
    assert upstream_schemas().merged(load_crds([path])).validate(obj, VERSION) == []
    # The bundle still answers for what the given CRDs do not hold.
    other = _obj("ray.io/v1", "RayJob", {"entrypoint": "python x.py", "rayClusterSpecz": {}})
    assert len(upstream_schemas().merged(load_crds([path])).validate(other, VERSION)) == 1


def test_lint_without_crd_reports_the_upstream_schema_error_at_its_line(tmp_path: Path) -> None:
    write(
        tmp_path / "isvc.yaml",
        """\
apiVersion: serving.kserve.io/v1beta1
kind: InferenceService
metadata:
  name: sklearn-iris
spec:
  predictor:
    minReplicas: 1
    sklearn:
      storageUri: gs://kfserving-examples/models/sklearn/1.0/model
      storageUrl: gs://typo
""",
    )
    result = run_cli("lint", "isvc.yaml", "--format", "json", cwd=tmp_path)
    schema = [f for f in lint_findings(result.stdout) if f["rule"] == "schema"]
    assert [(f["message"], f["location"]["line"]) for f in schema] == [
        ("spec.predictor.sklearn.storageUrl: unknown field 'storageUrl'", 10)
    ]
    assert upstream_schema(("serving.kserve.io/v1beta1", "InferenceService"))["type"] == "object"


# --- on manifests nobody here wrote ---------------------------------------------------------------------------------


@pytest.mark.needs_shared
@pytest.mark.parametrize("project", sorted(PROJECTS))
def test_real_manifests_without_crd_have_exactly_the_judged_schema_errors(project: str) -> None:
    if project in KUSTOMIZE_ROOTS:
        kubectl()
    folder = shared_dir() / "real-manifests" / project
    result = run_cli("lint", str(folder), "--format", "json", cwd=REPO, timeout=600)
    assert result.exit_code != 3, result.stderr
    findings = lint_findings(result.stdout)
    errors: set[Key] = {_key(f) for f in findings if f["rule"] == "schema" and f["severity"] != "info"}
    assert errors == _of(project, JUDGED_SCHEMA_ERRORS)
