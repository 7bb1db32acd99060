"""`kubectl kustomize` of a root `lint` reads: the built stream, read capped, with kubectl's own error message.

A kustomization that transforms its objects (patches, prefixes, generators) is linted as it builds.
The root is built through kustomize_origin's wrapper, so that each object names the file it was
written in; where the wrapper cannot build it, the root itself is built and its errors reported.

Every entry that would make kustomize fetch, run a program or read outside the repository is refused
before the build (``kustomize_sources``). As a second wall, kubectl runs without helm and plugins
(neither ``--enable-helm`` nor ``--enable-alpha-plugins``), with kustomize's root-only load restrictor
named explicitly, and, unless ``--allow-remote`` was given, with git allowed no transport and HTTP(S)
sent to a proxy that does not exist.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from mlgitops.errors import UserError
from mlgitops.yaml.text import read_stream_capped

_KLOG_ERROR = re.compile(r'\berr="((?:[^"\\]|\\.)*)"', re.DOTALL)
# klog writes a multi-line value as `err=<`, its lines indented by a tab, and ` >` alone on the last line.
_KLOG_BLOCK = re.compile(r"\berr=<\n((?:\t[^\n]*\n?)*)")
# A proxy address nothing listens on: kustomize's HTTP client (Go's, which honours *_PROXY) cannot reach out.
_NOWHERE = "http://127.0.0.1:9"


def build(folder: Path, shown: str, max_bytes: int, allow_remote: bool = False) -> tuple[bytes, str | None]:
    """The built stream (at most ``max_bytes``), and the scratch folder its origin annotations are relative to.

    The scratch folder is None when the objects carry no origins (the root was built directly).
    Errors name the root as ``shown``: kubectl missing, a failed build, a stream over ``max_bytes``.
    """
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        raise UserError(f"{shown} uses kustomize transformers; install kubectl to lint what it builds")
    from mlgitops.kube.kustomize_origin import wrapper

    with wrapper(folder) as scratch:
        if scratch is not None:
            try:
                return _run(kubectl, scratch, shown, max_bytes, allow_remote), scratch
            except UserError:
                pass  # the plain build below says what is wrong, in the user's own terms
    return _run(kubectl, str(folder), shown, max_bytes, allow_remote), None


def sealed_environment(allow_remote: bool) -> dict[str, str]:
    """The environment kubectl kustomize runs in: without ``allow_remote``, git may use no transport
    (``GIT_ALLOW_PROTOCOL``) and HTTP(S) goes to a proxy that does not exist."""
    environment = dict(os.environ)
    if not allow_remote:
        environment.update({"GIT_ALLOW_PROTOCOL": "none", "GIT_TERMINAL_PROMPT": "0", "NO_PROXY": "", "no_proxy": ""})
        environment.update({name: _NOWHERE for name in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy")})
    return environment


def _run(kubectl: str, target: str, shown: str, max_bytes: int, allow_remote: bool) -> bytes:
    """``kubectl kustomize target``'s output, read capped; errors name ``shown``, the root the user gave."""
    command = [kubectl, "kustomize", "--load-restrictor=LoadRestrictionsRootOnly", target]
    with (
        tempfile.TemporaryFile() as errors,
        subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=errors, stdin=subprocess.DEVNULL, env=sealed_environment(allow_remote)
        ) as built,
    ):
        assert built.stdout is not None
        # Capped like any file: a kustomization can generate without bound (repeated bases, generators).
        output = read_stream_capped(built.stdout, max_bytes)
        if len(output) > max_bytes:
            built.kill()
            built.wait()
            raise UserError(f"kubectl kustomize {shown} builds more than {max_bytes:,} bytes; lint its parts instead")
        try:
            built.wait(timeout=600)
        except subprocess.TimeoutExpired:
            built.kill()
            raise UserError(f"kubectl kustomize {shown} did not finish within 10 minutes") from None
        errors.seek(0)
        message_bytes = errors.read(64_000)
    if built.returncode != 0:
        message = kubectl_message(message_bytes.decode("utf-8", errors="replace"))
        raise UserError(f"kubectl kustomize {shown} failed: {message}")
    return output


def kubectl_message(stderr: str) -> str:
    """kubectl's own error message, on one line: the ``err="…"`` of its log line (kubectl 1.30+) or its
    multi-line ``err=<`` block, or its ``error:`` lines, or its last line."""
    found = _KLOG_ERROR.search(stderr)
    block = None if found else _KLOG_BLOCK.search(stderr)
    if block:
        message = block.group(1)
    elif found:
        try:
            message = json.loads(f'"{found.group(1)}"')
        except ValueError:
            message = found.group(1)
    else:
        lines = [line.strip() for line in stderr.splitlines() if line.strip()]
        errors = [line.split(":", 1)[1].strip() for line in lines if line.lower().startswith("error:")]
        message = " ".join(errors) if errors else (lines[-1] if lines else "")
    return " ".join(str(message).split()) or "kubectl kustomize failed without a message"


__all__ = ["build", "kubectl_message"]
