"""Who containers run as (spec/run_as.py): runAsNonRoot never together with uid 0, and always a numeric uid."""

from __future__ import annotations

from pathlib import Path

from tests.rendering import SERVER, _findings, _obj, _refused, _render


def test_a_root_workload_with_a_waiver_renders_a_pod_the_kubelet_starts(tmp_path: Path) -> None:
    text = SERVER + "    security: {runAsUser: 0}\n    annotations: {mlgitops.io/waive.security-non-root: 'binds port 80'}\n"
    output = _render(tmp_path, text)
    pod = _obj(output, "Deployment", "web")["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsUser"] == 0
    assert pod["securityContext"]["runAsNonRoot"] is False
    assert pod["containers"][0]["securityContext"]["runAsNonRoot"] is False
    # The finding says it runs as root; the waiver is what lets it.
    [finding] = _findings(tmp_path, text, "security-non-root")
    assert finding.message == "container 'web' runs as root (runAsUser: 0)"
    assert finding.waiver == "binds port 80"


def test_run_as_non_root_with_uid_zero_is_refused_at_its_line(tmp_path: Path) -> None:
    line = _refused(tmp_path, SERVER + "    security:\n      runAsUser: 0\n      runAsNonRoot: true\n")
    assert line.startswith(f"{tmp_path / 'environments' / 'dev.yaml'}:11:21: ")
    assert "runAsNonRoot: true with runAsUser: 0: the kubelet refuses to start the pod" in line


def test_a_root_sidecar_in_a_non_root_pod_is_refused_unless_it_drops_run_as_non_root(tmp_path: Path) -> None:
    sidecar = (
        SERVER + "    sidecars:\n      - name: tool\n        image: busybox:1.36\n        resources: {cpu: 100m, memory: 64Mi}\n"
    )
    line = _refused(tmp_path, sidecar + "        security: {runAsUser: 0, runAsNonRoot: true}\n")
    assert ":13:48: workloads[web].sidecars[tool].security.runAsNonRoot: runAsNonRoot: true with runAsUser: 0" in line
    output = _render(tmp_path, sidecar + "        security: {runAsUser: 0}\n")
    [tool] = _obj(output, "Deployment", "web")["spec"]["template"]["spec"]["initContainers"]
    assert tool["securityContext"]["runAsUser"] == 0
    assert tool["securityContext"]["runAsNonRoot"] is False  # over the pod's true: the kubelet would refuse otherwise


def test_a_non_root_pod_always_gets_a_numeric_uid(tmp_path: Path) -> None:
    # The kubelet cannot verify an image whose USER is a name ("non-numeric user"): give it a number.
    pod = _obj(_render(tmp_path, SERVER), "Deployment", "web")["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] == 1000
    allowed = _obj(_render(tmp_path, SERVER + "    security: {runAsNonRoot: false}\n"), "Deployment", "web")
    assert "runAsUser" not in allowed["spec"]["template"]["spec"]["securityContext"]
