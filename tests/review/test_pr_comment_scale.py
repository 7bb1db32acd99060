"""The pull-request comment at fleet scale: N = 1000 workloads (benchmarks/fleet.py), a change that bumps every
image tag in dev and one training Job's CPU in prod.

The comment must keep its fixed structure and stay under GitHub's 65,536 characters while naming the prod change
(before the dev noise), grouping the thousand identical tag bumps into a line, and never showing an empty block.
A one-workload change stays short. The fleet is built and both revisions rendered once for the whole module.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
import yaml

from benchmarks.fleet import write_fleet
from mlgitops.review.comment_size import COMMENT_LIMIT, comment_length
from mlgitops.review.summary import Review, markdown

WORKLOADS = 1000
BUMP = "-bump"


def _git(repo: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.email=ci@example.com", "-c", "user.name=ci", "-C", str(repo), *args], check=True, capture_output=True
    )


def _prod_training(environments: Path) -> str:
    """A single-node training workload of the fleet (a Job in every environment)."""
    base = yaml.safe_load((environments / "base.yaml").read_text())
    return next(spec["name"] for spec in base["workloads"] if spec["kind"] == "training")


def _change(environments: Path) -> str:
    """Every dev workload's image tag gets '-bump'; one prod training workload gets 3 more CPUs. Returns its name."""
    base = yaml.safe_load((environments / "base.yaml").read_text())
    dev_file = environments / "dev.yaml"
    dev = yaml.safe_load(dev_file.read_text())
    overrides = {spec["name"]: spec for spec in dev.get("workloads", [])}
    for spec in base["workloads"]:
        overrides.setdefault(spec["name"], {"name": spec["name"]})["image"] = spec["image"] + BUMP
    dev["workloads"] = list(overrides.values())
    dev_file.write_text(yaml.safe_dump(dev, sort_keys=False))
    training = _prod_training(environments)
    cpu = next(spec for spec in base["workloads"] if spec["name"] == training)["resources"]["cpu"]
    prod_file = environments / "prod.yaml"
    prod = yaml.safe_load(prod_file.read_text())
    override = next((spec for spec in prod["workloads"] if spec["name"] == training), None)
    if override is None:
        override = {"name": training}
        prod["workloads"].append(override)
    override["resources"] = {"cpu": str(int(cpu) + 3)}
    prod_file.write_text(yaml.safe_dump(prod, sort_keys=False))
    return training


@pytest.fixture(scope="module")
def scaled(tmp_path_factory: pytest.TempPathFactory) -> tuple[Review, str]:
    from mlgitops.review.comparison import review_change

    repo = tmp_path_factory.mktemp("scale")
    environments = repo / "environments"
    write_fleet(environments, WORKLOADS)
    _git(repo, "init", "-q", "-b", "main")
    _git(repo, "add", ".")
    _git(repo, "commit", "-q", "-m", "fleet")
    training = _change(environments)
    return review_change(environments, "main"), training


@pytest.mark.slow
def test_the_comment_fits_and_names_the_prod_change_first(scaled: tuple[Review, str]) -> None:
    review, training = scaled
    comment = markdown(review)
    assert comment_length(comment) <= COMMENT_LIMIT
    lines = comment.splitlines()
    # Fixed structure: the summary table first, prod's row before dev's.
    table = [line for line in lines if line.startswith("| ")]
    assert table[0].startswith("| environment | added | removed | changed | objects | GPUs | CPU | memory | cost/h")
    assert [row.split(" | ")[0] for row in table[2:]] == ["| prod", "| staging", "| dev"]
    # The prod change is named, with the CPU it changes, and comes before any dev change.
    prod = lines.index("### prod")
    dev = lines.index("### dev")
    assert prod < dev
    (prod_change,) = [line for line in lines[prod:dev] if line.startswith("- **changed**")]
    assert f"`{training}-" in prod_change
    assert "resources.requests.cpu" in prod_change
    # The thousand tag bumps are grouped: one line counts them, with the pattern of the change.
    grouped = [line for line in lines[dev:] if re.match(r"- \*\*changed\*\* [0-9,]+ objects \(", line)]
    assert grouped
    bumped = sum(int(re.match(r"- \*\*changed\*\* ([0-9,]+) objects", line).group(1).replace(",", "")) for line in grouped)  # type: ignore[union-attr]
    assert bumped >= WORKLOADS * 0.9
    assert any(f"`x` → `x{BUMP}`" in line for line in grouped)
    # Never an empty block: every heading has content, every <details> has lines, staging (unchanged) has no section.
    assert "### staging" not in lines
    for index, line in enumerate(lines):
        if line.startswith("### "):
            assert lines[index + 1] == ""
            assert lines[index + 2].strip(), line
        if line.startswith("<details>"):
            body = lines[index + 1 : lines.index("</details>", index)]
            assert any(text.startswith(("+", "-", " ", "@@")) for text in body[2:-1]), line
    # Where to see everything.
    assert "Full rendered diff" in comment or "`git diff` of `rendered/`" in comment


@pytest.mark.slow
def test_every_environment_keeps_its_most_important_change_in_a_small_comment(scaled: tuple[Review, str]) -> None:
    review, training = scaled
    comment = markdown(review, limit=6_000)
    assert comment_length(comment) <= 6_000
    assert f"`{training}-" in comment
    assert "### dev" in comment
    assert "Shortened to fit a pull-request comment" in comment


def test_a_one_workload_change_stays_short(tmp_path: Path) -> None:
    from mlgitops.review.comparison import review_change
    from tests.support import REPO

    environments = tmp_path / "environments"
    environments.mkdir()
    for path in (REPO / "environments").iterdir():
        if path.is_file():
            (environments / path.name).write_bytes(path.read_bytes())
    subprocess.run(["cp", "-r", str(REPO / "environments" / "config"), str(environments)], check=True)
    subprocess.run(["cp", "-r", str(REPO / "environments" / "manifests"), str(environments)], check=True)
    _git(tmp_path, "init", "-q", "-b", "main")
    _git(tmp_path, "add", ".")
    _git(tmp_path, "commit", "-q", "-m", "fleet")
    prod = environments / "prod.yaml"
    prod.write_text(prod.read_text().replace("resnet-serve:1.4.2@", "resnet-serve:1.5.0@"))
    comment = markdown(review_change(environments, "main"))
    lines = comment.splitlines()
    changed = [line for line in lines if line.startswith("- **changed**")]
    assert changed == [
        "- **changed** Deployment `resnet-serve`: `containers[resnet-serve].image`: "
        "`ghcr.io/acme/resnet-serve:1.4.2@sha256:0a1b2c3d4e5f607182...` → "
        "`ghcr.io/acme/resnet-serve:1.5.0@sha256:0a1b2c3d4e5f607182...`"
    ]
    assert "Shortened" not in comment
    assert comment_length(comment) < 4_000


def test_the_comment_links_to_the_full_diff_in_a_workflow_run() -> None:
    from mlgitops.review.comment import run_links

    github = {
        "GITHUB_SERVER_URL": "https://github.com",
        "GITHUB_REPOSITORY": "acme/ml-fleet",
        "GITHUB_REF": "refs/pull/42/merge",
        "GITHUB_RUN_ID": "123",
    }
    assert run_links(github) == [
        "Full rendered diff: [the pull request's files](https://github.com/acme/ml-fleet/pull/42/files).",
        "Full summary: the `mlgitops-diff` artifact of [this workflow run](https://github.com/acme/ml-fleet/actions/runs/123).",
    ]
    # Anything that is not a plain server and repository name makes no link; outside a run, the commands.
    hostile = {**github, "GITHUB_REPOSITORY": "acme/x](https://evil.example)"}
    assert all("evil" not in line for line in run_links(hostile))
    assert run_links({}) == [
        "Everything: `mlgitops diff --output-format text` (every change) and `git diff` of `rendered/` (the full diff)."
    ]
