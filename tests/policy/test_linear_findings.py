"""Thousands of findings on one object cost thousands of times one: counted, not timed (issue 30).

Each finding is worded against values of its object (a placeholder it quotes gives way to rule placeholder; a
secret it quotes is redacted) and, on a rendered file, traced to the environment field behind it. Each of those
steps once scanned the object's values, secrets, list items or variables for every finding: the whole run grew
with the square of the findings (a Secret of 4,000 invalid keys took 6.8 s against 0.9 s for 1,000; 8,000
rendered env variables 22.8 s against 2.1 s for 2,000).

``tests.support.lines_run`` counts the lines of mlgitops (and the calls into C) that a lint executes, in this
process, after a first run has imported and cached what every run shares. Between N, 2N and 4N findings the extra work must double
(linear), not quadruple (quadratic): ``(work(4N) - work(2N)) / (work(2N) - work(N))`` is 2 for linear work and
tends to 4 for quadratic.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest

from benchmarks.finding_objects import invalid_secret_keys, labels_to_fill
from mlgitops.processes.parallel import SERIAL_SWITCH
from tests.support import growth, linted_lines, run_in_process, write


def _secret_env(count: int) -> str:
    # Numbers where Kubernetes wants text: a finding on each secret-looking variable.
    env = "".join(f"        - name: API_TOKEN_{index}\n          value: {index + 1000}\n" for index in range(count))
    return (
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: app\nspec:\n  selector:\n    matchLabels: {app: a}\n"
        "  template:\n    metadata:\n      labels: {app: a}\n    spec:\n      containers:\n      - name: c\n"
        f"        image: nginx:1.27\n        env:\n{env}"
    )


@pytest.mark.parametrize(
    ("shape", "reported"),
    [
        # Every key: an invalid key name (api-validation), worded with every value of the Secret redacted.
        pytest.param(invalid_secret_keys, lambda count: count, id="a Secret of invalid keys"),
        # Every label: an invalid value (api-validation), which gives way to the one placeholder note.
        pytest.param(labels_to_fill, lambda count: 1, id="labels left as placeholders"),
        # Every variable: a number where Kubernetes wants text (schema), its value redacted.
        pytest.param(_secret_env, lambda count: count, id="secret env variables holding numbers"),
    ],
)
def test_findings_on_one_object_cost_linear_work(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, shape: Callable[[int], str], reported: Callable[[int], int]
) -> None:
    monkeypatch.setenv(SERIAL_SWITCH, "1")

    def work(count: int) -> int:
        manifest = write(tmp_path / f"object-{count}.yaml", shape(count))
        used, result = linted_lines(str(manifest))
        assert result.stdout.count('"rule"') >= reported(count), result.stderr
        return used

    work(8)  # imports and what every run caches
    assert growth(work, 100) < 2.6


def _environment(count: int) -> str:
    env = "".join(f"  - name: V{index}\n    value: 'x{index}'\n" for index in range(count))
    return (
        "namespace: ml-e\nkubernetesVersion: '1.32'\nworkloads:\n- name: train\n  kind: training\n"
        f"  image: ghcr.io/acme/train:1.0@sha256:{'a' * 64}\n  resources:\n    cpu: '1'\n    memory: 1Gi\n  env:\n{env}"
    )


def test_findings_traced_to_the_environment_cost_linear_work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A rendered Job whose env values were edited by hand into `yes`: a finding on each variable, each traced to the
    # variable's line in the environment file (the rendered list searched by name, the variable by name).
    monkeypatch.setenv(SERIAL_SWITCH, "1")

    def work(count: int) -> int:
        repository = tmp_path / str(count)
        write(repository / "environments" / "train.yaml", _environment(count))
        assert run_in_process("render", cwd=repository).exit_code == 0
        (job,) = (repository / "rendered" / "train").glob("job-*.yaml")
        job.write_text(re.sub(r"value: x[0-9]+\n", "value: yes\n", job.read_text(encoding="utf-8")), encoding="utf-8")
        used, result = linted_lines("rendered", cwd=repository)
        sourced = [finding for finding in json.loads(result.stdout)["findings"] if finding["source"] is not None]
        assert len(sourced) >= 2 * count, result.stderr  # the value's ambiguity and its type, each at its line
        assert {finding["source"]["line"] for finding in sourced} >= {12 + 2 * index for index in range(count)}
        return used

    work(8)
    assert growth(work, 250) < 2.6
