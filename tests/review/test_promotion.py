"""`mlgitops diff` calls a change a promotion when it only gives an environment the images and models another runs."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from mlgitops.review.comparison import review_change
from mlgitops.review.promotion import promotions
from mlgitops.review.summary import as_json, markdown, text
from mlgitops.spec.paths import Item
from mlgitops.spec.promotable import is_promotable
from tests.edit.test_commands import mlgitops, staging_runs_prods_init_container
from tests.support import REPO

PINNED = "ghcr.io/acme/resnet-serve:1.5.0@sha256:" + "5" * 64


def _git(repo: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.email=ci@example.com", "-c", "user.name=ci", "-C", str(repo), *args], check=True, capture_output=True
    )


@pytest.fixture
def released(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The example fleet on main, where staging already runs a new, pinned resnet-serve image."""
    shutil.copytree(REPO / "environments", tmp_path / "environments")
    shutil.copytree(REPO / "rendered", tmp_path / "rendered")
    monkeypatch.chdir(tmp_path)
    assert mlgitops("set", "image", "resnet-serve", PINNED, "--env", "staging").exit_code == 0
    staging_runs_prods_init_container(tmp_path)
    _git(tmp_path, "init", "-q", "-b", "main")
    _git(tmp_path, "add", ".")
    _git(tmp_path, "commit", "-q", "-m", "staging runs 1.5.0")
    return tmp_path


def test_a_promotion_made_by_promote_is_labelled_in_every_format(released: Path) -> None:
    assert mlgitops("promote", "--from", "staging", "--to", "prod", "resnet-serve").exit_code == 0
    review = review_change(Path("environments"), "main")
    assert list(review.promotions) == ["prod"]
    summary = markdown(review)
    assert "| prod (promotion from staging) | 0 | 0 | 1 |" in summary
    assert (
        "- **prod** is a promotion from staging: `workloads[resnet-serve].image`: "
        "`ghcr.io/acme/resnet-serve:1.4.2@sha256:0a1b2c3d4e5f607182...` → "
        "`ghcr.io/acme/resnet-serve:1.5.0@sha256:555555555555555555...`"
    ) in summary
    assert "### prod: promotion from staging" in summary
    prod = next(env for env in json.loads(as_json(review))["environments"] if env["name"] == "prod")
    assert prod["promotion"]["from"] == ["staging"]
    assert [field["path"] for field in prod["promotion"]["fields"]] == ["workloads[resnet-serve].image"]
    assert "prod (promotion from staging): 0 added, 0 removed, 1 changed" in text(review)


def test_promotions_between_plain_trees() -> None:
    def fleet(prod_image: str, staging_image: str, prod_model: dict[str, str]) -> dict[str, dict[str, object]]:
        serving = {"name": "serve", "kind": "serving", "model": {"name": "m", "version": "1"}}
        return {
            "staging": {"workloads": [{"name": "api", "kind": "serving", "image": staging_image}, serving]},
            "prod": {"workloads": [{"name": "api", "kind": "serving", "image": prod_image}, {**serving, "model": prod_model}]},
        }

    before = fleet("api:1", "api:2", {"name": "m", "alias": "champion"})
    after = fleet("api:2", "api:2", {"name": "m", "version": "1"})
    found = promotions(before, after)
    assert list(found) == ["prod"]
    assert [(f.path, f.before, f.after) for f in found["prod"].fields] == [
        ("workloads[api].image", "api:1", "api:2"),
        ("workloads[serve].model.alias", "champion", None),
        ("workloads[serve].model.version", None, "1"),
    ]
    # A model name is not a promotable field: changing it is a change, not a promotion.
    renamed = fleet("api:2", "api:2", {"name": "other", "version": "1"})
    assert promotions(before, renamed) == {}
    # Nor is a change that also moves the replicas.
    scaled = fleet("api:2", "api:2", {"name": "m", "version": "1"})
    scaled["prod"]["workloads"][0]["replicas"] = 3  # type: ignore[index]
    assert promotions(before, scaled) == {}
    # Moving staging and prod to the same new image at once is a rollout, not a promotion.
    rollout = fleet("api:3", "api:3", {"name": "m", "alias": "champion"})
    assert promotions(before, rollout) == {}
    # The same image in two other environments: both are named.
    before["dev"], after["dev"] = after["staging"], after["staging"]
    assert promotions(before, after)["prod"].sources == ("dev", "staging")
    assert is_promotable(("workloads", Item("api"), "image"), after["prod"]) == "image"
    assert is_promotable(("workloads", Item("serve"), "model", "name"), after["prod"]) is None
    assert is_promotable(("mlflow", "servingImage"), {}) == "image"
