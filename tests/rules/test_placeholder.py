"""Placeholders are a note, not values to judge (issue 28, item 5); redaction never blanks a name.

Cases from ../shared/real-manifests (named) and our own; each has a counterpart that is still judged.
"""

from __future__ import annotations

import pytest

from mlgitops.kube.placeholders import placeholder, placeholders
from mlgitops.policy import Catalog
from tests.policy.linting import findings_in


@pytest.mark.parametrize(
    "value",
    [
        "$HF_TOKEN",
        "${VAR}",
        "gs://${BUCKET}/model",
        "<namespace>",
        "<CHANGE ME>",
        "{username}/driver-transformer:latest",
        "YOUR-PVC-NAME",
        "FILLED BY THE OPERATOR",
        "http://single-1.default.{$your-domain}/switch",
    ],
)
def test_placeholders_are_recognised(value: str) -> None:
    assert placeholder(value) is not None


@pytest.mark.parametrize(
    "value",
    ["http://$(POD_IP):8000", "$request", "vllm/vllm-openai:v0.11.0", "sum(rate(x{job='a'}[1m]))", "my-pvc", "minio"],
)
def test_values_are_not_placeholders(value: str) -> None:
    assert placeholder(value) is None


def test_go_templates_count_in_built_in_objects_only() -> None:
    # An unrendered Helm chart's Deployment, against Argo Workflows' own parameters (volcano/integrations/argo).
    deployment = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"namespace": "{{ .Release.Namespace }}"}}
    workflow = {"apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow", "spec": {"manifest": "{{inputs.parameters.task}}"}}
    assert [path for path, _ in placeholders(deployment)] == [("metadata", "namespace")]
    assert list(placeholders(workflow)) == []


def test_shell_text_is_not_judged() -> None:
    pod = {
        "kind": "Pod",
        "spec": {"containers": [{"name": "c", "command": ["sh", "-c", "echo $HOME {i}"], "args": ["${X}"]}]},
    }
    assert list(placeholders(pod)) == []
    config_map = {"kind": "ConfigMap", "data": {"run.sh": "echo ${MODEL}"}}
    assert list(placeholders(config_map)) == []


NAMESPACE = """\
apiVersion: serving.kserve.io/v1beta1
kind: InferenceService
metadata:
  name: sklearn-iap
  namespace: <namespace>
spec:
  predictor:
    sklearn:
      storageUri: gs://kfserving-examples/models/sklearn/1.0/model
"""


def test_a_placeholder_namespace_is_one_note_not_an_invalid_name(catalog: Catalog) -> None:
    # kserve/gcp-iap/sklearn-iap-no-authz.yaml
    found = [(f.rule, f.severity.value, f.location.line) for f in findings_in(NAMESPACE, catalog)]
    assert ("placeholder", "info", 5) in found
    assert not [rule for rule, _, _ in found if rule == "api-validation"]
    # A namespace that is no placeholder is still judged.
    wrong = NAMESPACE.replace("<namespace>", "ML_Team")
    assert [f.location.line for f in findings_in(wrong, catalog) if f.rule == "api-validation"] == [5]


IMAGES = """\
apiVersion: v1
kind: Pod
metadata: {name: serve}
spec:
  serviceAccountName: $KSA_NAME
  containers:
    - name: server
      image: $VLLM_IMAGE
      env:
        - {name: HF_TOKEN, value: "${HF_TOKEN}"}
    - name: sidecar
      image: busybox
"""


def test_findings_about_placeholder_values_give_way_to_the_note(catalog: Catalog) -> None:
    # kuberay/vllm/ray-service.vllm-tpu-v6e-singlehost.yaml: $VLLM_IMAGE, $KSA_NAME
    found = findings_in(IMAGES, catalog)
    rules = {(f.rule, f.location.line) for f in found}
    assert ("placeholder", 5) in rules
    assert not rules & {("image-tag", 8), ("serviceaccount-reference", 5), ("plaintext-secret", 10)}
    # The untagged busybox beside them is still judged.
    assert ("image-tag", 12) in rules
    note = next(f for f in found if f.rule == "placeholder")
    assert "serviceAccountName: '$KSA_NAME'" in note.message


MINIO = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: minio}
spec:
  selector:
    matchLabels: {app: minio}
  template:
    metadata:
      labels: {app: minio}
    spec:
      containers:
        - name: minio
          image: minio/minio:RELEASE.2020-10-18T21-54-12Z
          ports: [{containerPort: 9000}]
          env:
            - {name: MINIO_ACCESS_KEY, value: minio}
            - {name: MINIO_SECRET_KEY, value: minio123}
"""


def test_redaction_never_blanks_a_name_that_equals_a_secret(catalog: Catalog) -> None:
    # kserve/kafka/minio.yaml: the container is named like the access key's value.
    messages = [f.message for f in findings_in(MINIO, catalog)]
    assert any("container 'minio'" in message for message in messages)
    assert not [message for message in messages if "<redacted>" in message]
    # A secret's value that is no name is still never printed: kubectl reads 1e3 as a number, and says so.
    quoted = MINIO.replace("value: minio123}", "value: 1e3}")
    ambiguous = [f.message for f in findings_in(quoted, catalog) if f.rule == "ambiguous-yaml-value"]
    assert ambiguous
    assert all("1e3" not in m for m in ambiguous), ambiguous
    assert all("<redacted>" in m for m in ambiguous), ambiguous


def test_an_env_value_naming_its_own_containers_variables_is_no_placeholder() -> None:
    # kserve/llmisvc/precise-prefix-kv-cache-routing: "kv@${POD_IP}@..." beside env POD_IP, expanded at run time.
    env = [{"name": "ARGS", "value": "--topic kv@${POD_IP}@qwen"}, {"name": "POD_IP", "value": "x"}]
    pod = {"kind": "Pod", "spec": {"containers": [{"name": "main", "env": env}]}}
    assert list(placeholders(pod)) == []
    # A variable nobody defines is a hole to fill (kuberay/ray-cluster.tpu-v4-singlehost.yaml: ${grafana_host}).
    env[0]["value"] = "http://${grafana_host}:3000"
    assert [path for path, _ in placeholders(pod)] == [("spec", "containers", 0, "env", 0, "value")]
