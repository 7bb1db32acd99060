"""Object metadata as the API server validates it (``api-validation``), and render refusing the same labels.

Names follow each kind's own rule (``ValidateObjectMeta`` with the kind's name function);
namespaces, label keys and values, annotation keys, pod-template labels and selectors follow
``ValidateLabels`` and ``ValidateAnnotations``. Each case gives the finding's line:column and
message, or no finding where the API server accepts the manifest.
"""

from __future__ import annotations

import pytest
from pydantic import TypeAdapter, ValidationError

from mlgitops.kube.metadata_rules import LABEL, PATH_SEGMENT, SUBDOMAIN, label_problem, name_rule
from mlgitops.policy import Catalog
from mlgitops.spec.base import Annotations, Labels, NamespaceName
from tests.policy.linting import findings_in

QA_EXAMPLE = """\
apiVersion: v1
kind: ConfigMap
metadata: {name: Foo_Bar, namespace: "NS!", labels: {"a b": "c d"}}
data: {"a b": x}
"""


def _found(catalog: Catalog, text: str) -> list[tuple[int, int, str]]:
    return [(f.location.line, f.location.column, f.message) for f in findings_in(text, catalog, rule="api-validation")]


def _object(kind: str, metadata: str, api_version: str = "v1", rest: str = "") -> str:
    return f"apiVersion: {api_version}\nkind: {kind}\nmetadata: {metadata}\n{rest}"


def test_the_qa_example_is_refused_at_each_offending_key_and_value(catalog: Catalog) -> None:
    assert _found(catalog, QA_EXAMPLE) == [
        (
            3,
            18,
            "metadata.name: 'Foo_Bar' is not a valid ConfigMap name: lower-case letters, digits, '-' and '.', "
            "starting and ending with a letter or digit, at most 253 characters (RFC 1123 subdomain); e.g. 'foo-bar'",
        ),
        (
            3,
            38,
            "metadata.namespace: 'NS!' is not a valid namespace name: at most 63 lower-case letters, digits and '-', "
            "starting and ending with a letter or digit (RFC 1123 label); e.g. 'ns'",
        ),
        (
            3,
            54,
            "metadata.labels: key 'a b' must be at most 63 letters, digits, '-', '_' or '.', "
            "starting and ending with a letter or digit (optionally after a 'prefix/')",
        ),
        (
            3,
            61,
            "metadata.labels[a b]: label value 'c d' must be at most 63 letters, digits, '-', '_' or '.', "
            "starting and ending with a letter or digit",
        ),
        (
            4,
            8,
            "data: key 'a b' must be 1 to 253 letters, digits, '-', '_' or '.' "
            "(it becomes a file name when the ConfigMap or Secret is mounted)",
        ),
    ]


RBAC = "rbac.authorization.k8s.io/v1"
NAME_CASES = [
    # RBAC names are URL path segments: ':' and upper case are fine, '/' and '%' and '..' are not.
    (_object("ClusterRole", '{name: "system:ml:Reader"}', RBAC, "rules: []\n"), None),
    (_object("RoleBinding", '{name: "team/reader", namespace: ml}', RBAC, "roleRef: {}\n"), "must not contain '/'"),
    (_object("Role", '{name: "..", namespace: ml}', RBAC, "rules: []\n"), "cannot be a name"),
    # A Service name is an RFC 1035 label: no '.', no leading digit.
    (_object("Service", "{name: serve.v2}"), "'serve.v2' is not a valid Service name"),
    (_object("Service", "{name: 2serve}"), "starting with a letter"),
    (_object("Service", "{name: serve-v2}"), None),
    # Namespace and StatefulSet names are RFC 1123 labels; a Deployment's may hold dots.
    (_object("Namespace", "{name: team.a}"), "'team.a' is not a valid Namespace name"),
    (_object("StatefulSet", "{name: db.v2}", "apps/v1"), "(RFC 1123 label)"),
    (_object("Deployment", "{name: serve.v2}", "apps/v1"), None),
    # Custom resources: an RFC 1123 subdomain (apiextensions-apiserver), dots allowed.
    (_object("ClusterQueue", "{name: team-a.gpu}", "kueue.x-k8s.io/v1beta1"), None),
    (_object("ClusterQueue", "{name: Team_A}", "kueue.x-k8s.io/v1beta1"), "'Team_A' is not a valid ClusterQueue name"),
    (_object("RayCluster", "{name: $NAME}", "ray.io/v1"), None),  # a placeholder: rule placeholder notes it once
    # Lengths the controllers impose on top: a CronJob's Jobs add 11 characters, a Job's name becomes a label.
    (
        _object("CronJob", "{name: " + "n" * 53 + "}", "batch/v1", "spec: {schedule: '@daily'}\n"),
        "is 53 characters long; a CronJob name is at most 52",
    ),
    (_object("Job", "{name: " + "j" * 64 + "}", "batch/v1"), "job-name label"),
    (_object("Job", "{name: " + "j" * 64 + "}", "batch/v1", "spec: {manualSelector: true}\n"), None),
    # generateName is a prefix: a trailing '-' is fine, the rest follows the kind's rule.
    (_object("Job", "{generateName: train-}", "batch/v1"), None),
    (_object("Job", "{generateName: Train-}", "batch/v1"), "'Train-' is not a valid Job name prefix"),
    (_object("Pod", '{name: ""}'), "an empty name is not a valid Pod name"),
]


@pytest.mark.parametrize(("text", "expected"), NAME_CASES)
def test_names_follow_the_kinds_own_rule(catalog: Catalog, text: str, expected: str | None) -> None:
    messages = [message for _, _, message in _found(catalog, text)]
    if expected is None:
        assert messages == []
    else:
        assert len(messages) == 1, messages
        assert expected in messages[0]


def test_unknown_kinds_get_only_the_rules_that_are_sure() -> None:
    assert name_rule("", "Namespace").rule == LABEL
    assert name_rule("example.com", "Widget").rule == SUBDOMAIN
    # A built-in group's kind this table does not know, or an aggregated API, may allow more.
    assert name_rule("flowcontrol.apiserver.k8s.io", "FlowSchema").rule == PATH_SEGMENT
    assert name_rule("route.openshift.io", "Route").rule == PATH_SEGMENT


DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: serve
  labels: {{{labels}}}
  annotations: {{{annotations}}}
spec:
  selector:
    matchLabels: {{{selector}}}
  template:
    metadata:
      labels: {{{template}}}
    spec:
      containers:
        - {{name: server, image: "ml-serve:1.0"}}
"""


def _deployment(labels: str = "app: serve", annotations: str = "", selector: str = "app: serve", template: str = "") -> str:
    return DEPLOYMENT.format(labels=labels, annotations=annotations, selector=selector, template=template or "app: serve")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # A label key's prefix is a DNS subdomain of at most 253 characters; its name at most 63.
        (_deployment(labels=f"{'a' * 254}.com/team: ml"), [(5, 12, "is 258 characters long; a prefix is at most 253")]),
        (_deployment(labels=f"example.com/{'k' * 64}: ml"), [(5, 12, "the limit is 63 (a longer prefix is fine)")]),
        (_deployment(labels="Example.com/team: ml"), [(5, 12, "must be a DNS subdomain such as 'example.com'")]),
        (_deployment(labels="/team: ml"), [(5, 12, "has nothing before its '/'")]),
        (_deployment(labels=f"example.com/team: {'v' * 63}"), []),
        # Label values: at most 63 letters, digits, '-', '_' or '.', no spaces.
        (_deployment(labels="team: ml platform"), [(5, 18, "label value 'ml platform' must be at most 63")]),
        (_deployment(labels=f"team: {'v' * 64}"), [(5, 18, f"label value '{'v' * 64}' must be at most 63")]),
        # Annotation keys are qualified names once lower-cased; values are free text.
        (_deployment(annotations="Example.com/Owner: ML Team, note: any text at all"), []),
        (_deployment(annotations='"owner email": a@b.c'), [(6, 17, "metadata.annotations: key 'owner email' must be")]),
        (_deployment(annotations="example.com/a/b: x"), [(6, 17, "has more than one '/'")]),
        # The pod template's labels and the selector are labels too.
        (_deployment(template="app: serve, tier: gpu serving"), [(12, 34, "spec.template.metadata.labels[tier]:")]),
        (_deployment(selector="app: serve, track: ''", template="app: serve, track: ''"), []),
        (_deployment(selector='"my app": serve'), [(9, 19, "spec.selector.matchLabels: key 'my app'")]),
    ],
)
def test_labels_and_annotations_wherever_the_api_server_validates_them(
    catalog: Catalog, text: str, expected: list[tuple[int, int, str]]
) -> None:
    found = _found(catalog, text)
    assert [(line, column) for line, column, _ in found] == [(line, column) for line, column, _ in expected]
    for (_, _, message), (_, _, phrase) in zip(found, expected, strict=True):
        assert phrase in message


def test_pod_templates_of_custom_resources_and_service_selectors_are_checked(catalog: Catalog) -> None:
    ray = """\
apiVersion: ray.io/v1
kind: RayCluster
metadata: {name: ray}
spec:
  headGroupSpec:
    template:
      metadata: {labels: {"ray head": "yes"}}
      spec:
        containers: [{name: head, image: "rayproject/ray:2.9.0"}]
"""
    assert [(line, column) for line, column, _ in _found(catalog, ray)] == [(7, 27)]
    service = _object("Service", "{name: serve}", rest="spec: {selector: {app: my serve}, ports: [{port: 80}]}\n")
    assert [message for _, _, message in _found(catalog, service)] == [
        "spec.selector[app]: label value 'my serve' must be at most 63 letters, digits, '-', '_' or '.', "
        "starting and ending with a letter or digit"
    ]


@pytest.mark.parametrize(
    ("key", "value"),
    [("team", "ml"), ("a b", "x"), ("team", "ml platform"), ("/team", "x"), ("Example.com/team", "x"), ("k" * 64, "x")],
)
def test_render_refuses_exactly_the_labels_lint_refuses(key: str, value: str) -> None:
    expected = label_problem(key, value)
    if expected is None:
        assert TypeAdapter(Labels).validate_python({key: value}) == {key: value}
    else:
        with pytest.raises(ValidationError) as raised:
            TypeAdapter(Labels).validate_python({key: value})
        assert expected in str(raised.value)


def test_render_takes_annotation_keys_and_namespaces_by_the_api_servers_rules() -> None:
    # The API server lower-cases annotation keys before checking them: an upper-case prefix is fine.
    assert TypeAdapter(Annotations).validate_python({"Example.com/Owner": "ML Team"}) == {"Example.com/Owner": "ML Team"}
    with pytest.raises(ValidationError, match="has more than one '/'"):
        TypeAdapter(Annotations).validate_python({"example.com/a/b": "x"})
    with pytest.raises(ValidationError, match="'ML' is not a valid namespace name"):
        TypeAdapter(NamespaceName).validate_python("ML")


def test_container_names_are_dns_1123_labels_in_lint_as_in_render(catalog: Catalog) -> None:
    # The API server refuses a container name that is not a DNS-1123 label (validateContainerCommon); render's spec
    # check refuses it too, so lint of anyone's manifests must say so (found by a new-user test).
    pod = (
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: ml}\nspec:\n  containers:\n"
        "  - name: Foo_Bar\n    image: busybox:1.36\n  initContainers:\n  - name: ok-init\n    image: busybox:1.36\n"
    )
    found = [message for _, _, message in _found(catalog, pod) if message.startswith("container name")]
    assert found == [
        "container name: 'Foo_Bar' is not a DNS-1123 label: use lower-case letters, digits and '-', starting and ending "
        "with a letter or digit (did you mean 'foo-bar'?)"
    ]
    assert [m for _, _, m in _found(catalog, pod.replace("Foo_Bar", "foo-bar")) if m.startswith("container name")] == []
