"""`mlgitops set` and `mlgitops promote` on the example fleet and on `init`'s scaffold.

Every edit changes only the lines it means to, re-renders the environments it affects, and
`render --check` passes right after it; bad input is a located one-line error (exit 2) and
an edit whose render has error findings writes nothing (exit 1).
"""

from __future__ import annotations

import difflib
import json
import os
from pathlib import Path

import pytest

from tests.support import REPO, CliResult, run_in_process

DIGEST = "sha256:" + "5" * 64
SERVE_DIGEST = "sha256:0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9"


def mlgitops(*args: str) -> CliResult:
    """The CLI in-process, in the current folder (schemas stay loaded between runs, which keeps the tests quick)."""
    return run_in_process(*args)


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` but the repository lock (outside git, `.mlgitops.lock` beside the output folder)."""
    return {
        path.relative_to(folder).as_posix(): path.read_bytes()
        for path in sorted(folder.rglob("*"))
        if path.is_file() and path.name != ".mlgitops.lock"
    }


def changed_lines(before: bytes, after: bytes) -> list[str]:
    """The lines a unified diff of the two texts removes or adds."""
    diff = difflib.unified_diff(before.decode().splitlines(), after.decode().splitlines(), lineterm="", n=0)
    return [line for line in diff if line[:1] in "+-" and not line.startswith(("+++", "---"))]


def line_of(path: Path, text: str, after: str = "") -> int:
    """The 1-based number of the first line of ``path`` that starts with ``text`` (below the first ``after``)."""
    lines = path.read_text().splitlines()
    start = next(index for index, line in enumerate(lines) if line.startswith(after)) if after else 0
    return next(index for index, line in enumerate(lines) if index >= start and line.startswith(text)) + 1


def prod_resources_row(fleet: Path) -> str:
    """prod's row of the `mlgitops diff` resource table, from the objects in rendered/prod (unchanged requests)."""
    import yaml

    from mlgitops.kube.footprint import footprint
    from mlgitops.review.changes import EnvironmentChanges
    from mlgitops.review.summary import resources_table

    objects = [
        doc for path in sorted((fleet / "rendered" / "prod").rglob("*.yaml")) for doc in yaml.safe_load_all(path.read_text())
    ]
    total = footprint([obj for obj in objects if isinstance(obj, dict) and obj.get("kind") != "Kustomization"])
    return resources_table([EnvironmentChanges("prod", [], total, total)])[-1]


def prod_image(fleet: Path, prefix: str) -> str:
    """The image prod's file pins for an image starting with ``prefix``."""
    lines = (fleet / "environments" / "prod.yaml").read_text().splitlines()
    return next(line.split("image: ", 1)[1] for line in lines if f"image: {prefix}" in line)


def staging_runs_prods_init_container(fleet: Path) -> None:
    """Give staging prod's pinned fetch-weights image, so that a promotion of resnet-serve only moves its server image."""
    pinned = prod_image(fleet, "public.ecr.aws/aws-cli/aws-cli:")
    assert mlgitops("set", "image", "resnet-serve", pinned, "--container", "fetch-weights", "--env", "staging").exit_code == 0


def assert_render_check_passes() -> None:
    result = mlgitops("render", "--check")
    assert result.exit_code == 0, result.stdout + result.stderr


def test_set_image_replaces_the_one_line_prod_pins_and_rerenders_prod(fleet: Path) -> None:
    before = snapshot(fleet)
    image = f"ghcr.io/acme/resnet-serve:1.5.0@{DIGEST}"
    line = line_of(fleet / "environments" / "prod.yaml", "    image: ghcr.io/acme/resnet-serve:")
    result = mlgitops("set", "image", "resnet-serve", image, "--env", "prod")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith(f"environments/prod.yaml:{line}:12: prod: workloads[resnet-serve].image: ")
    after = snapshot(fleet)
    changed = sorted(name for name in before.keys() | after.keys() if before.get(name) != after.get(name))
    assert changed == ["environments/prod.yaml", "rendered/prod/deployment-resnet-serve.yaml"]
    assert changed_lines(before["environments/prod.yaml"], after["environments/prod.yaml"]) == [
        f"-    image: ghcr.io/acme/resnet-serve:1.4.2@{SERVE_DIGEST}",
        f"+    image: {image}",
    ]
    assert f"image: {image}" in after["rendered/prod/deployment-resnet-serve.yaml"].decode()
    assert_render_check_passes()


def test_set_image_adds_an_override_to_dev_and_leaves_the_shared_base_alone(fleet: Path) -> None:
    base = (fleet / "environments" / "base.yaml").read_bytes()
    result = mlgitops("set", "image", "nightly-embeddings", ":0.9.2", "--env", "dev", "--format", "json")
    assert result.exit_code == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["changes"] == [
        {
            "environment": "dev",
            "workload": "nightly-embeddings",
            "path": "workloads[nightly-embeddings].image",
            "before": "ghcr.io/acme/embed-batch:0.9.1",
            "after": "ghcr.io/acme/embed-batch:0.9.2",
            "removed": False,
            "file": "environments/dev.yaml",
            "line": 28,
            "column": 12,
        }
    ]
    assert (document["files"], document["affected"], document["rendered"]) == (["environments/dev.yaml"], ["dev"], ["dev"])
    assert (fleet / "environments" / "base.yaml").read_bytes() == base
    # dev's items are separated by blank lines, and so is the new one.
    dev = (fleet / "environments" / "dev.yaml").read_text()
    assert dev.endswith('          activation: "0"\n\n  - name: nightly-embeddings\n    image: ghcr.io/acme/embed-batch:0.9.2\n')
    assert_render_check_passes()


def test_in_base_changes_the_base_for_every_environment_that_inherits_it(fleet: Path) -> None:
    result = mlgitops("set", "image", "resnet-train", ":1.5.0", "--env", "staging", "--in-base", "--format", "json")
    assert result.exit_code == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["files"] == ["environments/base.yaml"]
    assert document["affected"] == ["dev", "staging"]  # prod pins its own image
    assert_render_check_passes()
    refused = mlgitops("set", "image", "resnet-train", ":1.5.0", "--env", "prod", "--in-base")
    assert refused.exit_code == 2
    line = line_of(fleet / "environments" / "prod.yaml", "    image: ghcr.io/acme/resnet-train:")
    assert refused.stderr.startswith(
        f"error: environments/prod.yaml:{line}:12: workloads[resnet-train].image is set in environments/prod.yaml itself"
    )


def test_set_model_replicas_and_resources(fleet: Path) -> None:
    prod = fleet / "environments" / "prod.yaml"
    before = prod.read_bytes()
    assert mlgitops("set", "model", "resnet-classifier", "8", "--env", "prod").exit_code == 0
    # The KServe storageUri moves with the version, or the InferenceService would claim 8 and serve 7.
    assert changed_lines(before, prod.read_bytes()) == [
        '-      version: "7"',
        '+      version: "8"',
        "-      storageUri: s3://acme-models/resnet50/7",
        "+      storageUri: s3://acme-models/resnet50/8",
    ]
    assert_render_check_passes()
    assert mlgitops("set", "replicas", "resnet-serve", "--min", "4", "--max", "22", "--env", "prod").exit_code == 0
    assert mlgitops("set", "resources", "resnet-serve", "memory=24Gi", "limits.cpu=", "--env", "prod").exit_code == 0
    # The base limits CPU too: dropping prod's limit takes a `$patch: delete`, not just a removed line.
    assert changed_lines(before, prod.read_bytes()) == [
        "-      memory: 16Gi",
        "+      memory: 24Gi",
        '-        cpu: "8"',
        "+        cpu:",
        "+          $patch: delete",
        "-      minReplicas: 3",
        "-      maxReplicas: 20",
        "+      minReplicas: 4",
        "+      maxReplicas: 22",
        '-      version: "7"',
        '+      version: "8"',
        "-      storageUri: s3://acme-models/resnet50/7",
        "+      storageUri: s3://acme-models/resnet50/8",
    ]
    assert_render_check_passes()
    fixed = mlgitops("set", "replicas", "resnet-serve", "3", "--env", "prod")
    assert fixed.exit_code == 2
    line = line_of(prod, "    autoscaling:", after="  - name: resnet-serve")
    expected = f"environments/prod.yaml:{line}:5: workloads[resnet-serve]: autoscaling scales it between 4 and 22 replicas"
    assert expected in fixed.stderr


def test_promote_copies_what_staging_runs_and_writes_a_pull_request_body(fleet: Path) -> None:
    pinned = f"ghcr.io/acme/resnet-serve:1.5.0@{DIGEST}"
    assert mlgitops("set", "image", "resnet-serve", pinned, "--env", "staging").exit_code == 0
    staging_runs_prods_init_container(fleet)
    result = mlgitops("promote", "--from", "staging", "--to", "prod", "resnet-serve", "--pr-body", "body.md", "--format", "json")
    assert result.exit_code == 0, result.stderr
    document = json.loads(result.stdout)
    assert [(c["path"], c["after"]) for c in document["changes"]] == [("workloads[resnet-serve].image", pinned)]
    assert (document["from"], document["environment"], document["rendered"]) == ("staging", "prod", ["prod"])
    body = (fleet / "body.md").read_text()
    assert body.startswith("## Promote staging to prod\n")
    assert (
        "| prod | `workloads[resnet-serve].image` | `ghcr.io/acme/resnet-serve:1.4.2@sha256:0a1b2c3d4e5f607182...` | "
        f"`{pinned[:57]}...` |" in body
    )
    assert "### Requested resources\n\n| environment | CPU | memory | GPUs |\n| --- | --- | --- | --- |\n" in body
    assert prod_resources_row(fleet) in body.splitlines()  # the `mlgitops diff` table
    assert "- **changed** Deployment `resnet-serve`: `containers[resnet-serve].image`:" in body
    assert "+++ b/environments/prod.yaml" in body
    assert_render_check_passes()
    again = mlgitops("promote", "--from", "staging", "--to", "prod", "resnet-serve")
    assert (again.exit_code, again.stdout) == (0, "prod already runs what staging runs: nothing to change\n")


@pytest.mark.parametrize("body", ["missing/body.md", "environments/prod.yaml/body.md"])
def test_a_pull_request_body_that_cannot_be_written_stops_the_edit_before_anything_is_written(fleet: Path, body: str) -> None:
    # Checked before the first file: not an edit applied and rendered, then exit 2 saying "the file is unchanged".
    before = snapshot(fleet)
    result = mlgitops("promote", "--from", "prod", "--to", "staging", "resnet-serve", "--pr-body", body)
    assert result.exit_code == 2
    [line] = result.stderr.splitlines()
    assert line.startswith(f"error: --pr-body {body}: "), line
    assert line.endswith("; nothing was written"), line
    assert snapshot(fleet) == before


def test_a_promotion_whose_render_has_error_findings_writes_nothing(fleet: Path) -> None:
    before = snapshot(fleet)
    result = mlgitops("promote", "--from", "staging", "--to", "prod", "--field", "image")
    assert result.exit_code == 1
    assert "error image-digest:" in result.stderr
    assert "nothing was written" in result.stderr
    assert snapshot(fleet) == before


def test_promoting_an_alias_into_a_kserve_predictor_is_refused_at_its_storage_uri(fleet: Path) -> None:
    # staging serves the model by alias; prod's InferenceService loads fixed files, which cannot follow an alias.
    before = snapshot(fleet)
    result = mlgitops("promote", "--from", "staging", "--to", "prod", "--field", "model")
    assert result.exit_code == 2
    line = line_of(fleet / "environments" / "prod.yaml", "      storageUri:")
    assert result.stderr.startswith(
        f"error: environments/prod.yaml:{line}:7: workloads[resnet-classifier].kserve.storageUri: KServe serves the files "
        "at 's3://acme-models/resnet50/7', which cannot follow alias 'champion'"
    )
    assert snapshot(fleet) == before


def test_a_storage_uri_that_does_not_show_the_version_is_refused_by_set_model(fleet: Path) -> None:
    prod = fleet / "environments" / "prod.yaml"
    prod.write_text(
        prod.read_text().replace("storageUri: s3://acme-models/resnet50/7", "storageUri: s3://acme-models/resnet50/latest")
    )
    assert mlgitops("render").exit_code == 0
    refused = mlgitops("set", "model", "resnet-classifier", "8", "--env", "prod")
    assert refused.exit_code == 2
    line = line_of(prod, "      storageUri:")
    assert refused.stderr.startswith(
        f"error: environments/prod.yaml:{line}:7: workloads[resnet-classifier].kserve.storageUri: "
        "'s3://acme-models/resnet50/latest' does not show which path segment is model version 7"
    )
    # With {version} the URI follows the version by itself: only the version line changes.
    prod.write_text(prod.read_text().replace("resnet50/latest", "resnet50/{version}"))
    assert mlgitops("render").exit_code == 0
    before = prod.read_bytes()
    assert mlgitops("set", "model", "resnet-classifier", "9", "--env", "prod").exit_code == 0
    assert changed_lines(before, prod.read_bytes()) == ['-      version: "7"', '+      version: "9"']
    rendered = (fleet / "rendered" / "prod" / "inferenceservice-resnet-classifier.yaml").read_text()
    assert "storageUri: s3://acme-models/resnet50/9\n" in rendered
    assert "mlgitops.io/mlflow-model: models:/resnet50/9\n" in rendered


def test_dry_run_prints_both_diffs_and_writes_nothing(fleet: Path) -> None:
    before = snapshot(fleet)
    result = mlgitops("promote", "--from", "dev", "--to", "staging", "--field", "resources", "resnet-train", "--dry-run")
    assert result.exit_code == 0, result.stderr
    assert "--- a/environments/staging.yaml\n+++ b/environments/staging.yaml\n" in result.stdout
    assert '-      cpu: "16"\n' in result.stdout
    # The Job's name carries a hash of its spec: a new file, the old one gone, and the kustomization lists it.
    assert "--- a/rendered/staging/job-resnet-train-" in result.stdout
    assert "+++ b/rendered/staging/kustomization.yaml" in result.stdout
    assert snapshot(fleet) == before


def test_the_repository_configures_what_promote_copies(fleet: Path) -> None:
    (fleet / ".mlgitops.yaml").write_text("promote:\n  fields: [resources]\n")
    result = mlgitops("promote", "--from", "dev", "--to", "staging", "--dry-run", "--format", "json")
    assert result.exit_code == 0, result.stderr
    paths = [change["path"] for change in json.loads(result.stdout)["changes"]]
    assert paths == [
        "workloads[resnet-train].resources.cpu",
        "workloads[resnet-train].resources.memory",
        "workloads[resnet-train].resources.gpu",
        "workloads[chat-llm].resources.device.productName",
    ]
    (fleet / ".mlgitops.yaml").write_text("promote:\n  fields: [resources.cpus]\n")
    result = mlgitops("promote", "--from", "dev", "--to", "staging")
    assert result.exit_code == 2
    assert result.stderr.startswith("error: .mlgitops.yaml: promote.fields: 'resources.cpus': not a workload field")


def test_no_render_edits_the_file_only(fleet: Path) -> None:
    rendered = snapshot(fleet / "rendered")
    result = mlgitops("set", "image", "resnet-serve", ":1.5.0", "--env", "dev", "--no-render")
    assert result.exit_code == 0, result.stderr
    assert "rendered/ not updated (--no-render)" in result.stderr
    assert snapshot(fleet / "rendered") == rendered
    assert mlgitops("render", "--check").exit_code == 1


def test_unknown_workloads_and_environments_are_located_errors(fleet: Path) -> None:
    before = snapshot(fleet)
    workload = mlgitops("set", "image", "resnet-srve", "x/y:1", "--env", "dev")
    assert (workload.exit_code, workload.stdout) == (2, "")
    assert workload.stderr == (
        "error: environments/dev.yaml:7:3: workloads: no workload named 'resnet-srve' in environment 'dev' "
        "(did you mean 'resnet-serve'?)\n"
    )
    environment = mlgitops("promote", "--from", "stagin", "--to", "prod")
    assert environment.exit_code == 2
    assert environment.stderr == "error: --from stagin: environments/stagin.yaml does not exist (did you mean 'staging'?)\n"
    base = mlgitops("set", "replicas", "resnet-serve", "2", "--env", "base")
    assert "error: --env base: environments/base.yaml is an abstract base, not an environment" in base.stderr
    promoted = mlgitops("promote", "--from", "staging", "--to", "prod", "nope")
    line = line_of(fleet / "environments" / "staging.yaml", "  - name: ")  # where staging's workloads list starts
    assert promoted.stderr.startswith(f"error: environments/staging.yaml:{line}:3: workloads: no workload named 'nope'")
    typo = mlgitops("set", "resources", "resnet-serve", "cpuu=2", "--env", "dev")
    assert typo.stderr == "error: 'cpuu=2': expected KEY=VALUE with a resources key (did you mean 'cpu'?)\n"
    # A known key without '=' is told what is missing (not "did you mean 'cpu'?" about 'cpu').
    bare = mlgitops("set", "resources", "resnet-serve", "cpu", "--env", "dev")
    assert (bare.exit_code, bare.stderr) == (
        2,
        "error: 'cpu': expected KEY=VALUE with a resources key (write cpu=VALUE, or cpu= to remove it)\n",
    )
    assert snapshot(fleet) == before


def test_a_file_that_cannot_round_trip_is_refused_and_left_alone(fleet: Path) -> None:
    prod = fleet / "environments" / "prod.yaml"
    prod.write_text(prod.read_text().replace("namespace: ml-prod\n", "namespace: ml-prod  \n"))
    before = snapshot(fleet)
    result = mlgitops("set", "image", "resnet-serve", ":1.5.0", "--env", "prod")
    assert result.exit_code == 2
    assert result.stderr.startswith("error: environments/prod.yaml:5:19: cannot edit this file without rewriting lines")
    assert "Traceback" not in result.stderr
    assert snapshot(fleet) == before


def test_an_environment_file_that_is_a_symbolic_link_is_not_written_through(fleet: Path) -> None:
    dev = fleet / "environments" / "dev.yaml"
    target = fleet / "environments" / "shared" / "dev.yaml"  # inside the folder, so loading follows the link
    target.parent.mkdir()
    dev.rename(target)
    os.symlink(target, dev)
    before = target.read_bytes()
    result = mlgitops("set", "image", "resnet-serve", ":1.5.0", "--env", "dev")
    assert result.exit_code == 2
    assert "environments/dev.yaml is a symbolic link; mlgitops never writes through links" in result.stderr
    assert target.read_bytes() == before


def test_the_commands_work_on_the_init_scaffold(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert mlgitops("init", ".").exit_code == 0
    assert mlgitops("render").exit_code == 0
    pinned = f"registry.example.com/ml/serve:0.2.0@{DIGEST}"
    assert mlgitops("set", "image", "serve", pinned, "--env", "dev").exit_code == 0
    assert (tmp_path / "environments" / "dev.yaml").read_text().endswith(f"workloads:\n  - name: serve\n    image: {pinned}\n")
    assert_render_check_passes()
    prod = tmp_path / "environments" / "prod.yaml"
    before = prod.read_bytes()
    result = mlgitops("promote", "--from", "dev", "--to", "prod", "serve")
    assert result.exit_code == 0, result.stderr
    assert changed_lines(before, prod.read_bytes()) == [
        "-    image: registry.example.com/ml/serve:0.1.0@sha256:" + "0" * 64,
        f"+    image: {pinned}",
    ]
    assert_render_check_passes()


def test_only_the_edit_commands_import_ruamel(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """One interpreter runs `--version`, `render --check` and `lint`, then an edit, noting after each whether ruamel is loaded."""
    import subprocess
    import sys

    monkeypatch.chdir(tmp_path)
    assert mlgitops("init", ".").exit_code == 0  # a small fleet: the probe's renders stay quick
    assert mlgitops("render").exit_code == 0
    probe = (
        "import sys\nfrom mlgitops.cli import main\n"
        "for args in (['--version'], ['render', '--check'], ['lint', 'rendered'],"
        " ['set', 'image', 'serve', ':0.2.0', '--env', 'dev', '--dry-run']):\n"
        "    try:\n        main(args)\n    except SystemExit:\n        pass\n"
        "    print(args[0], any(name.startswith('ruamel') for name in sys.modules), file=sys.stderr)\n"
    )
    completed = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    loaded = [line for line in completed.stderr.splitlines() if line.split(" ")[-1] in ("True", "False")]
    assert loaded == ["--version False", "render False", "lint False", "set True"], completed.stderr


def test_init_containers_and_sidecars_are_set_and_promoted_by_name(fleet: Path) -> None:
    pinned = f"public.ecr.aws/aws-cli/aws-cli:2.23.0@{DIGEST}"
    prod = fleet / "environments" / "prod.yaml"
    # staging runs prod's server image already; only the init container's differs.
    served = next(
        line.split("image: ")[1] for line in prod.read_text().splitlines() if "image: ghcr.io/acme/resnet-serve:" in line
    )
    assert mlgitops("set", "image", "resnet-serve", served, "--env", "staging").exit_code == 0
    before = prod.read_bytes()
    staging = mlgitops("set", "image", "resnet-serve", pinned, "--container", "fetch-weights", "--env", "staging")
    assert staging.exit_code == 0, staging.stderr
    assert "staging: workloads[resnet-serve].initContainers[fetch-weights].image: " in staging.stdout
    result = mlgitops("promote", "--from", "staging", "--to", "prod", "resnet-serve", "--format", "json")
    assert result.exit_code == 0, result.stderr
    changes = json.loads(result.stdout)["changes"]
    assert [(c["path"], c["after"]) for c in changes] == [("workloads[resnet-serve].initContainers[fetch-weights].image", pinned)]
    assert [line for line in changed_lines(before, prod.read_bytes()) if line.startswith("+")] == [f"+        image: {pinned}"]
    assert_render_check_passes()
    sidecar = mlgitops("set", "image", "nightly-embeddings", ":3.2.5", "--container", "log-shipper", "--env", "dev")
    assert sidecar.exit_code == 0, sidecar.stderr
    assert "workloads[nightly-embeddings].sidecars[log-shipper].image: " in sidecar.stdout
    unknown = mlgitops("set", "image", "nightly-embeddings", ":1", "--container", "log-shiper", "--env", "dev")
    assert unknown.exit_code == 2
    assert "has no such container (containers: nightly-embeddings, log-shipper)" in unknown.stderr


def test_set_replicas_min_zero_scales_a_keda_server_to_zero_and_an_hpa_refuses_it(fleet: Path) -> None:
    # dev's chat-llm scales to zero (keda.minReplicas: 0); --min 0 must be able to put it back.
    before = snapshot(fleet)
    assert mlgitops("set", "replicas", "chat-llm", "--min", "1", "--env", "dev").exit_code == 0
    result = mlgitops("set", "replicas", "chat-llm", "--min", "0", "--env", "dev")
    assert result.exit_code == 0, result.stderr
    assert snapshot(fleet) == before
    hpa = mlgitops("set", "replicas", "resnet-serve", "--min", "0", "--env", "prod")
    assert hpa.exit_code == 2
    assert "workloads[resnet-serve].autoscaling.minReplicas: input should be greater than or equal to 1" in hpa.stderr
    assert snapshot(fleet) == before
