"""The pieces of `set`/`promote`: promotable fields found in the models, image references, field paths, layer planning."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import Field

from mlgitops.edit import requests
from mlgitops.edit.layers import Change, Layer, plan
from mlgitops.errors import Location, UserError
from mlgitops.kube.image import parse_image, updated_image
from mlgitops.load.environments import LoadedEnvironment
from mlgitops.spec.base import SpecModel
from mlgitops.spec.environment import Environment
from mlgitops.spec.integrations import RegisteredModel
from mlgitops.spec.paths import MISSING, Item, changed_leaves, parse, show
from mlgitops.spec.promotable import Pattern, patterns, workload_patterns
from mlgitops.yaml.source import SourceNode


class _Container(SpecModel):
    name: str
    image: str
    args: list[str] = Field(default_factory=list)


class _Runtime(SpecModel):
    launcher_image: str | None = None
    replicas: int = 1


class _FutureKind(SpecModel):
    """A workload kind as another issue might add it: init containers, sidecars, a nested runtime, a model."""

    name: str
    image: str
    init_containers: list[_Container] = Field(default_factory=list)
    sidecars: list[_Container] | None = None
    runtime: _Runtime | None = None
    model: RegisteredModel | None = None
    labels: dict[str, str] = Field(default_factory=dict)


def test_promotable_fields_are_found_in_any_model_without_a_list_per_kind() -> None:
    assert patterns(_FutureKind) == (
        Pattern("image", ("image",)),
        Pattern("image", ("initContainers", "*", "image")),
        Pattern("image", ("sidecars", "*", "image")),
        Pattern("image", ("runtime", "launcherImage")),
        Pattern("model", ("model", "version")),
        Pattern("model", ("model", "alias")),
    )
    # The example kinds, as the spec walk finds them: main image, init containers, sidecars, model versions.
    assert set(workload_patterns("serving")) == {
        Pattern("image", ("image",)),
        Pattern("image", ("initContainers", "*", "image")),
        Pattern("image", ("sidecars", "*", "image")),
        Pattern("model", ("model", "version")),
        Pattern("model", ("model", "alias")),
    }
    assert {p.keys for p in workload_patterns("training")} == {
        ("image",),
        ("initContainers", "*", "image"),
        ("sidecars", "*", "image"),
    }
    # The LLM server's model version is where its weights come from; its downloader is a container with an image;
    # a canary's candidate and the pool's endpoint picker are found the same way.
    assert set(workload_patterns("llm-serving")) - set(workload_patterns("training")) == {
        Pattern("image", ("model", "download", "image")),
        Pattern("model", ("model", "download", "uri")),
        Pattern("model", ("model", "path")),
        Pattern("image", ("canary", "image")),
        Pattern("image", ("canary", "model", "download", "image")),
        Pattern("model", ("canary", "model", "download", "uri")),
        Pattern("model", ("canary", "model", "path")),
        Pattern("image", ("inferencePool", "endpointPicker", "image")),
    }


def test_a_named_list_pattern_expands_to_the_items_both_sides_have() -> None:
    pattern = Pattern("image", ("initContainers", "*", "image"))
    staging = {"initContainers": [{"name": "fetch", "image": "a:1"}, {"name": "warm", "image": "b:1"}]}
    prod = {"initContainers": [{"name": "fetch", "image": "a:0"}]}
    assert pattern.expand(staging, prod) == [("initContainers", Item("fetch"), "image")]
    assert pattern.matches(("initContainers", Item("warm"), "image"))
    assert not pattern.matches(("initContainers", "warm", "image"))


def _loaded(tree: dict[str, object]) -> LoadedEnvironment:
    spec = Environment.model_validate({"namespace": "ns", "kubernetesVersion": "1.32"})
    return LoadedEnvironment(
        "dev", "environments/dev.yaml", spec, SourceNode.from_plain(tree, Location("environments/dev.yaml", 1, 1))
    )


def test_set_image_reaches_an_init_container_by_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(requests, "workload_patterns", lambda kind: patterns(_FutureKind))
    loaded = _loaded(
        {
            "workloads": [
                {"name": "train", "kind": "training", "image": "t:1", "initContainers": [{"name": "fetch", "image": "f:1"}]}
            ]
        }
    )
    assert requests.image_changes(loaded, "train", ":2", "fetch") == [
        Change(("workloads", Item("train"), "initContainers", Item("fetch"), "image"), "f:2")
    ]
    assert requests.image_changes(loaded, "train", "t:3") == [Change(("workloads", Item("train"), "image"), "t:3")]
    with pytest.raises(
        UserError, match=r"--container 'nope': workload 'train' has no such container \(containers: train, fetch\)"
    ):
        requests.image_changes(loaded, "train", "x:1", "nope")


@pytest.mark.parametrize(
    ("current", "given", "expected"),
    [
        ("ghcr.io/acme/serve:1.4.2@sha256:" + "a" * 64, ":1.5.0", "ghcr.io/acme/serve:1.5.0"),
        ("ghcr.io/acme/serve:1.4.2", "@sha256:" + "b" * 64, "ghcr.io/acme/serve:1.4.2@sha256:" + "b" * 64),
        ("registry:5000/team/serve:1", "registry:5000/team/serve:2", "registry:5000/team/serve:2"),
        (None, "serve@sha256:" + "c" * 64, "serve@sha256:" + "c" * 64),
    ],
)
def test_image_updates(current: str | None, given: str, expected: str) -> None:
    assert updated_image(current, given) == expected


@pytest.mark.parametrize(
    ("given", "problem"),
    [
        ("GHCR.io/Acme/Serve:1", "is not an image reference"),
        ("ghcr.io/acme/serve:1@sha256:abc", "is not an image reference"),
        ("ghcr.io/acme/serve@sha256:" + "A" * 64, "must be 64 lower-case hex digits"),
        ("serve:" + "x" * 200, "is not an image reference"),
        ("ghcr.io/acme/serve:1 ", "is not an image reference"),
    ],
)
def test_bad_image_references_say_what_is_wrong(given: str, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        parse_image(given)


def test_a_tag_or_digest_alone_needs_an_image_to_change() -> None:
    with pytest.raises(ValueError, match="there is no image to change yet"):
        updated_image(None, ":1.0")


def test_field_paths_read_and_print_alike() -> None:
    for text in ("workloads[resnet-serve].image", "env[MODEL_URI].value", "resources.limits.cpu", "initContainers[a.b].image"):
        assert show(parse(text)) == text
    for bad in ("", "a..b", "a[b", "[x]]"):
        with pytest.raises(ValueError, match="field path"):
            parse(bad)


def _layers(*trees: dict[str, object]) -> list[Layer]:
    return [
        Layer.of(Path(f"layer{index}.yaml"), SourceNode.from_plain(tree, Location(f"layer{index}.yaml", 1, 1)))
        for index, tree in enumerate(trees)
    ]


def test_dropping_an_inherited_value_writes_a_delete_marker_and_an_own_one_is_removed() -> None:
    base = {"workloads": [{"name": "s", "model": {"name": "m", "alias": "champion"}}]}
    prod = {"extends": "base.yaml", "workloads": [{"name": "s", "model": {"version": "7"}}]}
    layers = _layers(prod, base)
    alias, version = ("workloads", Item("s"), "model", "alias"), ("workloads", Item("s"), "model", "version")
    edits = plan([Change(alias, "challenger"), Change(version, MISSING)], layers, in_base=False)
    assert [(e.file.name, show(e.path), e.value) for e in edits] == [
        ("layer0.yaml", "workloads[s].model.alias", "challenger"),
        ("layer0.yaml", "workloads[s].model.version", MISSING),
    ]
    assert layers[0].tree == {"extends": "base.yaml", "workloads": [{"name": "s", "model": {"alias": "challenger"}}]}
    layers = _layers(prod, base)
    edits = plan([Change(version, "8"), Change(alias, MISSING)], layers, in_base=False)
    assert edits[-1].value == {"$patch": "delete"}
    assert layers[0].tree["workloads"] == [{"name": "s", "model": {"version": "8", "alias": {"$patch": "delete"}}}]


def test_removing_the_last_value_of_an_override_removes_the_emptied_override() -> None:
    layers = _layers({"workloads": [{"name": "s", "resources": {"limits": {"cpu": "2"}}}, {"name": "t", "image": "t:1"}]})
    plan([Change(("workloads", Item("s"), "resources", "limits", "cpu"), MISSING)], layers, in_base=False)
    assert layers[0].tree == {"workloads": [{"name": "t", "image": "t:1"}]}


def test_in_base_sets_a_value_nobody_sets_where_the_workload_is_defined() -> None:
    base = {"workloads": [{"name": "s", "image": "s:1"}]}
    middle = {"extends": "base.yaml", "workloads": [{"name": "s", "image": "s:2"}]}
    own = {"extends": "middle.yaml"}
    layers = _layers(own, middle, base)
    replicas = ("workloads", Item("s"), "replicas")
    assert [e.file.name for e in plan([Change(replicas, 2)], layers, in_base=True)] == ["layer2.yaml"]
    image = ("workloads", Item("s"), "image")
    assert [e.file.name for e in plan([Change(image, "s:3")], layers, in_base=True)] == ["layer1.yaml"]
    assert changed_leaves(base, layers[2].tree) == [replicas]


def test_replica_bounds_go_to_whichever_autoscaler_the_workload_uses(monkeypatch: pytest.MonkeyPatch) -> None:
    from mlgitops.edit.session import load_fleet
    from tests.support import REPO

    monkeypatch.chdir(REPO)
    fleet, _ = load_fleet(Path("environments"))
    with pytest.raises(UserError, match=r"keda scales it between 0 and 2 replicas; a fixed count would fight the autoscaler"):
        requests.replica_changes(fleet["dev"], "chat-llm", 3, None, None)
    assert requests.replica_changes(fleet["dev"], "chat-llm", None, 1, None) == [
        Change(("workloads", Item("chat-llm"), "keda", "minReplicas"), 1)
    ]
    assert requests.replica_changes(fleet["dev"], "resnet-serve", None, None, 5) == [
        Change(("workloads", Item("resnet-serve"), "autoscaling", "maxReplicas"), 5)
    ]
    with pytest.raises(UserError, match=r"a training workload has no replica count"):
        requests.replica_changes(fleet["dev"], "resnet-train", 2, None, None)
