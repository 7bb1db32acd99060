"""What a careless user or a hostile pull request tries beyond single broken files (see tests/bad_inputs/).

No network and no reads outside the repository, caps on every input (stdin too), linear
algorithms, exit codes that mean what the README says.
"""

from __future__ import annotations

import http.server
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import pytest

from mlgitops.errors import Location
from mlgitops.load.merge import merge
from mlgitops.yaml.source import SourceNode
from tests.support import REPO, kubectl, run_cli, write
from tests.test_bad_inputs import MEMORY_GROWTH_MB, POD, run_forked

BASE = 'namespace: ml\nkubernetesVersion: "1.32"\n'
CONFIGMAP = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: ml}\ndata: {a: b}\n"


class _Recorder(http.server.BaseHTTPRequestHandler):
    requests: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        _Recorder.requests.append(self.path)
        body = b'{"type": "object", "required": ["never"]}' if self.path.endswith(".json") else CONFIGMAP.encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[str]:
    """A web server on the loopback address that records every request (mlgitops must make none)."""
    _Recorder.requests = []
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


def _policy(schema: str) -> str:
    return (
        "id: fetching\ntitle: t\nseverity: error\nrationale: r\nfix: f\ntarget: object\n"
        f"schema: {schema}\n"
        'examples: {pass: ["apiVersion: v1\\nkind: ConfigMap\\nmetadata: {name: a}\\n"], fail: ["a: 1\\n"]}\n'
    )


def test_a_policy_or_crd_never_makes_lint_fetch(tmp_path: Path, server: str) -> None:
    write(tmp_path / "cm.yaml", CONFIGMAP)
    write(tmp_path / "policies" / "fetching.yaml", _policy(f'{{$ref: "{server}/schema.json"}}'))
    result = run_forked("lint", "cm.yaml", "--policies", "policies", cwd=tmp_path)
    assert result.exit_code == 2
    assert result.stderr.startswith(
        f"error: policies/fetching.yaml:7:16: schema.$ref: $ref '{server}/schema.json' points outside"
    )
    write(tmp_path / "policies" / "fetching.yaml", _policy(f'{{$schema: "{server}/meta.json", required: [data]}}'))
    assert run_forked("lint", "cm.yaml", "--policies", "policies", cwd=tmp_path).exit_code == 0
    crd = (REPO / "tests" / "bad_inputs" / "crds" / "ref-over-http.yaml").read_text().replace("http://127.0.0.1:9", server)
    write(tmp_path / "crd.yaml", crd)
    assert run_forked("lint", "cm.yaml", "--crd", "crd.yaml", cwd=tmp_path).exit_code == 2
    assert _Recorder.requests == []


@pytest.mark.kubectl
def test_remote_kustomize_resources_need_allow_remote(tmp_path: Path, server: str) -> None:
    kubectl()
    (tmp_path / ".git").mkdir()
    write(tmp_path / "root" / "kustomization.yaml", f"namePrefix: x-\nresources:\n  - {server}/remote.yaml\n")
    refused = run_forked("lint", "root", cwd=tmp_path)
    assert refused.exit_code == 2
    assert "pass --allow-remote to allow it" in refused.stderr
    assert _Recorder.requests == []
    allowed = run_forked("lint", "root", "--allow-remote", cwd=tmp_path, timeout=120)
    assert _Recorder.requests == ["/remote.yaml"], allowed.stderr  # the flag is what lets kustomize fetch


def test_a_nested_kustomization_reaching_out_is_refused_too(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    write(tmp_path / "root" / "kustomization.yaml", "namePrefix: x-\nresources: [base]\n")
    outside = os.path.relpath("/etc", tmp_path / "root" / "base")
    write(tmp_path / "root" / "base" / "kustomization.yaml", f"resources:\n  - {outside}\n")
    result = run_forked("lint", "root", cwd=tmp_path)
    assert result.exit_code == 2
    assert result.stderr.startswith(f"error: root/base/kustomization.yaml:2:5: resources[0]: '{outside}' leads outside")


def test_config_discovery_stops_at_the_working_directory_outside_git(tmp_path: Path) -> None:
    # A .mlgitops.yaml in a parent folder outside any repository (a shared /tmp) must not switch rules off.
    write(tmp_path / ".mlgitops.yaml", "rules:\n  network-policy: {enabled: false}\n")
    write(tmp_path / "work" / "pod.yaml", POD.split("---")[1])
    result = run_forked("lint", "pod.yaml", cwd=tmp_path / "work")
    assert "network-policy" in result.stdout
    assert "applied policy configuration" not in result.stderr
    # Inside a repository the nearest config applies, and lint says which.
    (tmp_path / "work" / ".git").mkdir()
    write(tmp_path / "work" / ".mlgitops.yaml", "rules:\n  network-policy: {enabled: false}\n")
    (tmp_path / "work" / "sub").mkdir()
    result = run_forked("lint", "../pod.yaml", cwd=tmp_path / "work" / "sub")
    assert "network-policy" not in result.stdout
    assert result.stderr.splitlines()[0].startswith("note: applied policy configuration ")
    assert result.stderr.splitlines()[0].endswith("work/.mlgitops.yaml")


@pytest.mark.parametrize("what", ["config", "policy"])
def test_a_config_or_policy_linked_to_a_token_is_never_read(tmp_path: Path, what: str) -> None:
    token = tmp_path / "home" / "token"
    write(token, "ghp_SENTINEL7f3a\n")
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    write(repo / "cm.yaml", CONFIGMAP)
    if what == "config":
        (repo / ".mlgitops.yaml").symlink_to(token)
        result = run_forked("lint", "cm.yaml", cwd=repo)
        shown = ".mlgitops.yaml:1:1: this policy configuration file"
    else:
        (repo / "policies").mkdir()
        (repo / "policies" / "rule.yaml").symlink_to(token)
        result = run_forked("lint", "cm.yaml", "--policies", "policies", cwd=repo)
        shown = "policies/rule.yaml:1:1: this policy file"
    assert result.exit_code == 2
    assert result.stderr.startswith(f"error: {shown} is a symbolic link leading outside repo/; it is not read")
    assert "SENTINEL" not in result.stdout + result.stderr


def test_stdin_is_capped_and_decoded_like_a_file(tmp_path: Path) -> None:
    result = run_forked("lint", "-", cwd=tmp_path, stdin=b"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: caf\xe9}\n")
    assert (result.exit_code, result.stderr) == (2, "error: <stdin>:3:21: byte 0xe9 is not valid UTF-8\n")
    result = run_forked("lint", "-", cwd=tmp_path, stdin=b"a: b\nc: d\x00\n")
    assert (result.exit_code, result.stderr) == (2, "error: <stdin>:2:5: binary content (a NUL byte): not a YAML file\n")
    # 60 MB on stdin: refused after reading just past the 20 MB cap, in bounded time and memory.
    result = run_forked("lint", "-", cwd=tmp_path, stdin=b"a: " + b"x" * 60_000_000 + b"\n")
    assert (result.exit_code, result.stderr) == (
        2,
        "error: <stdin>:1:1: file is more than 20,000,000 bytes; mlgitops lints files up to 20,000,000 bytes\n",
    )
    assert result.grown_mb is not None
    assert result.grown_mb < 200


def test_policy_and_config_files_have_caps(tmp_path: Path) -> None:
    write(tmp_path / "cm.yaml", CONFIGMAP)
    write(tmp_path / "policies" / "huge.yaml", _policy("{required: [data]}") + "# " + "x" * 1_000_000 + "\n")
    result = run_forked("lint", "cm.yaml", "--policies", "policies", cwd=tmp_path)
    size = (tmp_path / "policies" / "huge.yaml").stat().st_size
    assert (result.exit_code, result.stderr) == (
        2,
        f"error: policies/huge.yaml:1:1: file is {size:,} bytes; policy files are limited to 256,000 bytes\n",
    )
    (tmp_path / ".git").mkdir()
    write(tmp_path / ".mlgitops.yaml", "rules: {}\n# " + "x" * 100_000 + "\n")
    result = run_forked("lint", "cm.yaml", cwd=tmp_path)
    assert result.exit_code == 2
    assert "policy configuration files are limited to 64,000 bytes" in result.stderr


def test_a_large_policy_under_the_cap_loads_quickly(tmp_path: Path) -> None:
    write(tmp_path / "cm.yaml", CONFIGMAP)
    rationale = "r" * 200_000
    write(
        tmp_path / "policies" / "fetching.yaml", _policy("{required: [data]}").replace("rationale: r", f"rationale: {rationale}")
    )
    result = run_forked("lint", "cm.yaml", "--policies", "policies", cwd=tmp_path)
    assert result.exit_code == 0, result.stderr
    assert result.seconds is not None
    assert result.seconds < 20
    assert result.grown_mb is not None
    assert result.grown_mb < MEMORY_GROWTH_MB


def test_six_hundred_chained_bases_are_cut_short_quickly(tmp_path: Path) -> None:
    for index in range(600):
        extends = f"extends: e{index + 1}.yaml\n" if index < 599 else ""
        body = BASE if index == 599 else "abstract: true\n" if index else ""
        write(tmp_path / "environments" / f"e{index}.yaml", extends + body)
    result = run_forked("render", cwd=tmp_path)
    assert (result.exit_code, result.stderr) == (
        2,
        "error: environments/e63.yaml:1:10: extends: more than 64 files in one chain of bases; flatten the chain "
        "(breaks environment e0)\n",
    )
    assert result.seconds is not None
    assert result.seconds < 20
    assert result.grown_mb is not None
    assert result.grown_mb < MEMORY_GROWTH_MB


def _named_list(file: str, items: list[dict[str, str]]) -> SourceNode:
    where = Location(file, 1, 1)
    nodes = [SourceNode({key: SourceNode(value, where) for key, value in item.items()}, where) for item in items]
    return SourceNode({"workloads": SourceNode(nodes, where)}, where)


def test_deleting_24000_inherited_items_is_linear() -> None:
    count = 24_000
    base = _named_list("base.yaml", [{"name": f"w{i}", "kind": "training"} for i in range(count)])
    child = _named_list("dev.yaml", [{"name": f"w{i}", "$patch": "delete"} for i in range(count - 1)])
    started = time.monotonic()
    merged = merge(base, child)
    assert time.monotonic() - started < 5  # quadratic list removal took 25 s
    assert [item.mapping()["name"].value for item in merged.mapping()["workloads"].sequence()] == [f"w{count - 1}"]


def test_an_unquoted_timestamp_is_rendered_exactly_as_written(tmp_path: Path) -> None:
    write(
        tmp_path / "environments" / "dev.yaml",
        BASE + "workloads:\n  - name: train\n    kind: training\n    image: registry.example/t:1\n"
        "    args: [--since, 2024-01-01 10:00:00, 2001-12-14t21:59:43.10-05:00]\n"
        "    env:\n      - {name: START, value: 2024-01-01 10:00:00}\n"
        '    resources: {cpu: "1", memory: 1Gi}\n',
    )
    result = run_forked("render", cwd=tmp_path)
    assert result.exit_code == 0, result.stderr
    (job,) = (tmp_path / "rendered" / "dev").glob("job-train-*.yaml")
    text = job.read_text()
    assert "- '2024-01-01 10:00:00'\n" in text
    assert "- '2001-12-14t21:59:43.10-05:00'\n" in text
    assert "value: '2024-01-01 10:00:00'\n" in text


def test_an_unknown_kubernetes_version_is_a_usage_error(tmp_path: Path) -> None:
    write(tmp_path / "cm.yaml", CONFIGMAP)
    for version, reason in (("abc", "'abc' is not a Kubernetes version such as 1.32"), ("1.99", "is newer than the schemas")):
        result = run_forked("lint", "cm.yaml", "--kubernetes-version", version, cwd=tmp_path)
        assert result.exit_code == 2
        assert reason in result.stderr
        assert result.stdout == ""


def test_an_interrupt_exits_130_not_1(tmp_path: Path) -> None:
    # Waiting on an endless pipe, as a CI step reading stdin would.
    process = subprocess.Popen(
        [sys.executable, "-m", "mlgitops.cli", "lint", "-"],
        cwd=tmp_path,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert process.stdin is not None
    process.stdin.write(b"apiVersion: v1\n")
    process.stdin.flush()
    time.sleep(3)  # past the imports, blocked reading
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr
    assert b"Traceback" not in stderr


def test_diff_when_one_side_has_no_environments(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()

    def git(*args: str) -> None:
        subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True)

    git("init", "-q", "-b", "main")
    git("config", "user.email", "ci@example.com")
    git("config", "user.name", "CI")
    write(repo / "README.md", "fleet\n")
    git("add", ".")
    git("commit", "-qm", "empty")
    # The change adds the first fleet: everything is added.
    write(
        repo / "environments" / "dev.yaml",
        BASE + "workloads:\n  - {name: serve, kind: serving, image: r/s:1, "
        'ports: [{port: 80}], resources: {cpu: "1", memory: 1Gi}}\n',
    )
    added = run_cli("diff", "--base", "main", "--format", "text", cwd=repo)
    assert added.exit_code == 0, added.stderr
    assert added.stdout.splitlines()[1].startswith("dev: 2 added, 0 removed, 0 changed")
    git("add", ".")
    git("commit", "-qm", "fleet")
    # The change removes the whole fleet: everything is removed.
    for path in (repo / "environments").iterdir():
        path.unlink()
    (repo / "environments").rmdir()
    removed = run_cli("diff", "--base", "main", "--format", "text", cwd=repo)
    assert removed.exit_code == 0, removed.stderr
    assert removed.stdout.splitlines()[1].startswith("dev: 0 added, 2 removed, 0 changed")
    # Neither side has one: the hint names the real flag.
    missing = run_cli("diff", "--base", "main", "--environments-dir", "nowhere", cwd=repo)
    assert missing.exit_code == 2
    assert "--environments-dir DIR" in missing.stderr


def test_a_render_error_never_prints_a_secret_value(tmp_path: Path) -> None:
    write(
        tmp_path / "environments" / "dev.yaml",
        BASE + "workloads:\n  - name: train\n    kind: training\n    image: registry.example/t:1\n"
        "    env:\n      - {name: DB_PASSWORD, value: 0x5EC12E7}\n"
        '    resources: {cpu: "1", memory: 1Gi}\n',
    )
    result = run_forked("render", cwd=tmp_path)
    assert result.exit_code == 2
    assert "0x5EC12E7" not in result.stdout + result.stderr
    assert "5EC12E7" not in result.stdout + result.stderr


def test_redaction_hides_secret_values_and_nothing_else(tmp_path: Path) -> None:
    write(
        tmp_path / "pod.yaml",
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: ml}\nspec:\n  automountServiceAccountToken: true\n"
        "  containers:\n    - name: c\n      image: registry.example/c:1.0\n"
        "      env:\n        - {name: ENABLE_TOKEN_AUTH, value: 'true'}\n        - {name: API_TOKEN, value: 7e4}\n"
        "      resources: {requests: {cpu: '1', memory: 1Gi}, limits: {memory: 1Gi}}\n",
    )
    result = run_forked("lint", "pod.yaml", cwd=tmp_path)
    assert "7e4" not in result.stdout + result.stderr
    assert "<redacted>" in result.stdout  # the ambiguous API_TOKEN value
    assert "set runAsNonRoot: true or a non-zero runAsUser on the pod or the container" in result.stdout  # a switch is no secret


@pytest.mark.parametrize("length", [0, 1, 99, 100, 101, 5000])
def test_read_capped_reads_a_file_whole_up_to_the_cap_and_one_byte_past_it(tmp_path: Path, length: int) -> None:
    from mlgitops.yaml.text import read_capped

    path = tmp_path / "file.yaml"
    path.write_bytes(bytes(range(48, 58)) * (length // 10) + b"x" * (length % 10))
    raw, size = read_capped(path, 100)
    assert (raw, size) == (path.read_bytes()[:101], length)
    if Path("/dev/zero").exists():  # no size on the file system: read up to the cap, never more
        assert read_capped(Path("/dev/zero"), 100) == (b"\x00" * 101, 101)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are POSIX")
@pytest.mark.parametrize("length", [0, 7, 101, 250])
def test_read_capped_reads_a_pipe_written_in_pieces_up_to_the_cap(tmp_path: Path, length: int) -> None:
    import threading

    from mlgitops.yaml.text import read_capped

    pipe = tmp_path / "pipe.yaml"
    os.mkfifo(pipe)
    payload = b"k: v\n" * 60

    def write() -> None:
        with open(pipe, "wb", buffering=0) as stream:
            for start in range(0, length, 7):  # short writes: each read returns only what has arrived
                try:
                    stream.write(payload[start : min(start + 7, length)])
                except BrokenPipeError:
                    return

    writer = threading.Thread(target=write)
    writer.start()
    raw, size = read_capped(pipe, 100)
    writer.join()
    assert raw == payload[: min(length, 101)]
    assert size == len(raw)
