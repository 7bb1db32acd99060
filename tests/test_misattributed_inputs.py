"""Input that used to be misattributed or silently dropped: one located answer, at the line that is wrong."""

from __future__ import annotations

import random
import re
import shutil
from decimal import Decimal
from pathlib import Path

import pytest

from mlgitops.errors import UserError
from mlgitops.kube.quantity import QuantityError, parse_quantity
from mlgitops.output import tree
from tests.support import REPO, lint_findings, run_in_process, write
from tests.test_bad_inputs import run_forked

POD = """\
apiVersion: v1
kind: Pod
metadata: {{name: p, namespace: ml}}
spec:
  securityContext: {{runAsNonRoot: true}}
  containers:
    - name: c
      image: registry.example/c:1.0
      resources: {{requests: {{cpu: "1", memory: 1Gi}}, limits: {{{limits}}}}}
"""


@pytest.mark.parametrize(
    "limits",
    [
        "memory: '1e999999999'",
        "memory: 1e999999999",
        "cpu: '-1e999999999'",
        "memory: 1Gi, nvidia.com/gpu: 1e400",
        "memory: 1Gi, amd.com/gpu: '9' , cpu: 1e41",
        "memory: " + "9" * 400,
    ],
)
def test_an_overflowing_quantity_is_one_located_finding_and_no_rule_trips_over_it(tmp_path: Path, limits: str) -> None:
    write(tmp_path / "pod.yaml", POD.format(limits=limits))
    result = run_forked("lint", "pod.yaml", cwd=tmp_path)
    assert result.exit_code == 1
    assert "cannot apply" not in result.stdout
    assert "Overflow" not in result.stdout + result.stderr
    too_large = [line for line in result.stdout.splitlines() if "is too large for a Kubernetes quantity" in line]
    assert len(too_large) == 1, result.stdout
    assert too_large[0].startswith("pod.yaml:9:")


def test_quantities_parse_or_refuse_with_a_quantity_error_only() -> None:
    generator = random.Random(29)
    for _ in range(5000):
        number = "".join(generator.choice("0123456789") for _ in range(generator.randrange(1, 60)))
        if generator.random() < 0.3:
            number = f"{number[:3]}.{number[3:]}"
        suffix = generator.choice(["", "m", "Ki", "Gi", "E", "Ei", "e", "E"])
        if suffix in ("e", "E") and not suffix.endswith("i"):
            suffix += generator.choice(["", "-", "+"]) + str(generator.choice([0, 3, 40, 41, 400, 999999999, 10**30]))
        text = generator.choice(["", "-", "+"]) + number + suffix
        try:
            value = parse_quantity(text)
        except QuantityError:
            continue
        assert abs(value) <= Decimal(2**63 - 1), text


def test_environment_quantities_that_overflow_are_refused_at_their_line(tmp_path: Path) -> None:
    write(tmp_path / "environments" / "dev.yaml", 'namespace: ml\nkubernetesVersion: "1.32"\nbudget: {cpu: 1e99999}\n')
    result = run_in_process("render", cwd=tmp_path)
    assert (result.exit_code, result.stderr) == (
        2,
        "error: environments/dev.yaml:3:15: budget.cpu: '1e99999' is too large for a Kubernetes quantity (the limit is 2^63-1)\n",
    )


@pytest.mark.parametrize(
    ("first", "second"),
    [("a/M.yaml", "a/m.yaml"), ("a/Config.yaml", "b/config.YAML"), ("x/caf\u00e9.yaml", "y/cafe\u0301.yaml")],
    ids=["case", "case-across-folders", "unicode-normalization"],
)
def test_extra_manifests_that_are_one_file_on_macos_and_windows_are_refused(tmp_path: Path, first: str, second: str) -> None:
    shutil.copytree(REPO / "rendered", tmp_path / "rendered")
    for index, name in enumerate((first, second)):
        write(
            tmp_path / "environments" / name, f"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: c{index}}}\ndata: {{a: b}}\n"
        )
    write(tmp_path / "environments" / "dev.yaml", f'namespace: ml\nkubernetesVersion: "1.32"\nmanifests: [{first}, {second}]\n')
    before = {p: p.read_bytes() for p in (tmp_path / "rendered").rglob("*") if p.is_file()}
    result = run_in_process("render", "-e", "dev", cwd=tmp_path)
    assert result.exit_code == 2
    line = result.stderr.splitlines()[0]
    assert line.startswith(f"error: environments/dev.yaml:3:{13 + len(first) + 2}: manifests[1]: environments/{second} and ")
    assert line.endswith("differ only in letter case: one file on macOS and Windows checkouts; rename one")
    assert {p: p.read_bytes() for p in (tmp_path / "rendered").rglob("*") if p.is_file()} == before


def test_no_output_path_differs_from_another_only_in_letter_case(tmp_path: Path) -> None:
    wanted = {"dev": {"kustomization.yaml": "a\n", "extra/Settings.yaml": "b\n", "extra/settings.yaml": "c\n"}}
    with pytest.raises(UserError) as raised:
        tree.write(tmp_path / "rendered", wanted)
    assert raised.value.one_line() == (
        f"{tmp_path}/rendered/dev/extra/Settings.yaml and {tmp_path}/rendered/dev/extra/settings.yaml differ only in "
        "letter case: they would be one file on macOS and Windows checkouts; rename one"
    )
    assert not (tmp_path / "rendered").exists()
    with pytest.raises(UserError, match="differ only in letter case"):
        tree.drift(tmp_path / "rendered", {"dev": {"a.yaml": "x\n"}, "Dev": {"a.yaml": "x\n"}})


@pytest.mark.parametrize("value", ["yes", "YES", "on", "true", "n", "'no'", "12345", "0o17", "7e4", "2024-01-01"])
def test_a_credential_named_value_is_never_echoed_whatever_its_type(tmp_path: Path, value: str) -> None:
    write(
        tmp_path / "m.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: ml}\n"
        f"data:\n  API_KEY: {value}\n  FLAG: {value}\n"
        "---\napiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: ml}\nspec:\n  containers:\n"
        f"    - name: c\n      image: busybox\n      env:\n        - {{name: DB_PASSWORD, value: {value}}}\n",
    )
    result = run_forked("lint", "m.yaml", "-o", "json", cwd=tmp_path)
    word = re.compile(rf"(?<![\w]){re.escape(value.strip(chr(39)))}(?![\w])")
    about_credentials = [finding for finding in lint_findings(result.stdout) if finding["location"]["line"] in (5, 16)]
    for finding in about_credentials:
        assert not word.search(finding["message"]), finding["message"]
    if not value.startswith("'"):  # a quoted value is text: nothing to report; a plain one is, without its value
        assert any("<redacted>" in finding["message"] for finding in about_credentials)
