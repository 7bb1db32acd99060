"""`kubectl kustomize` of a root `lint` reads: the built stream, read capped, with kubectl's own error message.

A kustomization that transforms its objects (patches, prefixes, generators) is linted as it builds.
The root is built through kustomize_origin's wrapper, so that each object names the file it was
written in; where the wrapper cannot build it, the root itself is built and its errors reported.
"""

from __future__ import annotations

import json
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


def build(folder: Path, shown: str, max_bytes: int) -> tuple[bytes, str | None]:
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
                return _run(kubectl, scratch, shown, max_bytes), scratch
            except UserError:
                pass  # the plain build below says what is wrong, in the user's own terms
    return _run(kubectl, str(folder), shown, max_bytes), None


def _run(kubectl: str, target: str, shown: str, max_bytes: int) -> bytes:
    """``kubectl kustomize target``'s output, read capped; errors name ``shown``, the root the user gave."""
    with (
        tempfile.TemporaryFile() as errors,
        subprocess.Popen([kubectl, "kustomize", target], stdout=subprocess.PIPE, stderr=errors) as built,
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
