"""What init pins and where SARIF links, from how the running mlgitops was installed (PEP 610 direct_url.json)."""

from __future__ import annotations

import pytest

from mlgitops import HOME, __version__
from mlgitops.output import installation, sarif
from mlgitops.output.installation import Installation, from_direct_url, released

SHA = "0123456789abcdef0123456789abcdef01234567"


def test_an_index_release_pins_the_version_and_its_tag() -> None:
    found = from_direct_url(None, "1.2.3")
    assert found == Installation("mlgitops==1.2.3", HOME, "v1.2.3", "v1.2.3", None)
    assert found.source == "index"


@pytest.mark.parametrize("url", [f"{HOME}.git", HOME, f"{HOME}/"])
def test_a_git_install_pins_that_url_at_that_commit(url: str) -> None:
    found = from_direct_url({"url": url, "vcs_info": {"vcs": "git", "commit_id": SHA, "requested_revision": "main"}})
    assert found.requirement == f"mlgitops @ git+{url}@{SHA}"
    assert (found.pre_commit_repo, found.pre_commit_rev, found.docs_ref, found.note) == (url, SHA, SHA, None)
    assert found.source == "git"


def test_a_fork_install_pins_the_fork_and_links_no_documentation() -> None:
    fork = "https://github.com/someone/mlgitops-fork.git"
    found = from_direct_url({"url": fork, "vcs_info": {"vcs": "git", "commit_id": SHA}})
    assert found.requirement == f"mlgitops @ git+{fork}@{SHA}"
    assert found.docs_ref is None


@pytest.mark.parametrize(
    ("direct_url", "where"),
    [
        ({"url": "file:///src/mlgitops", "dir_info": {"editable": True}}, "an editable checkout"),
        ({"url": "file:///src/mlgitops", "dir_info": {}}, "a local file or folder"),
        ({"url": "file:///tmp/mlgitops-0.1.0-py3-none-any.whl", "archive_info": {"hashes": {}}}, "a local file or folder"),
    ],
)
def test_a_local_install_pins_the_version_and_says_so(direct_url: dict[str, object], where: str) -> None:
    found = from_direct_url(direct_url, "0.1.0")
    assert found.requirement == "mlgitops==0.1.0"
    assert found.docs_ref is None
    assert found.note is not None
    assert where in found.note
    assert "only once 0.1.0 is published" in found.note
    assert found.source == "local"


def test_this_checkout_is_an_editable_install() -> None:
    installation.current.cache_clear()
    found = installation.current()
    assert found.note is not None
    assert "editable" in found.note


@pytest.mark.parametrize(
    ("found", "uri"),
    [
        (released("1.2.3"), f"{HOME}/blob/v1.2.3/policies/gpu-limits.yaml"),
        (
            from_direct_url({"url": HOME, "vcs_info": {"vcs": "git", "commit_id": SHA}}),
            f"{HOME}/blob/{SHA}/policies/gpu-limits.yaml",
        ),
        (from_direct_url({"url": "file:///x", "dir_info": {"editable": True}}), None),
    ],
)
def test_sarif_help_links_point_at_the_installed_code_or_are_left_out(
    found: Installation, uri: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mlgitops.policy import load_catalog

    monkeypatch.setattr(sarif, "current", lambda: found)
    policy = load_catalog().policies["gpu-limits"]
    entry = sarif._rule("gpu-limits", policy)
    assert entry.get("helpUri") == uri
    assert entry["name"] == "GpuLimits"


@pytest.mark.parametrize(("rule", "name"), [("gpu-limits", "GpuLimits"), ("pvc-rwo-shared", "PvcRwoShared"), ("x", "X")])
def test_rule_names_are_pascal_case(rule: str, name: str) -> None:
    assert sarif.rule_name(rule) == name


def test_the_version_in_a_release_pin_is_this_version() -> None:
    assert released().requirement == f"mlgitops=={__version__}"
