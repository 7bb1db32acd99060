"""Rule placeholder: values that are templates to fill in (``kube.placeholders``), reported once per object.

The engine drops other rules' findings about such values (``policy.placeholder_filter``): judging
``<namespace>`` as a namespace or ``$HF_TOKEN`` as a plaintext secret reports what nobody will apply.
"""

from __future__ import annotations

from collections.abc import Iterator

from mlgitops.kube.manifest import Manifest
from mlgitops.kube.pods import dotted
from mlgitops.policy.checks import check
from mlgitops.policy.model import Policy, PolicyContext, Violation

Found = Iterator[tuple[Manifest, Violation]]
SHOWN = 3
"""Placeholders a message names; the rest are counted."""


@check("placeholder")
def unfilled_placeholders(manifests: list[Manifest], policy: Policy, context: PolicyContext) -> Found:
    for manifest in manifests:
        found = manifest.placeholders
        if not found:
            continue
        shown = ", ".join(f"{dotted(path)}: {_short(value)!r}" for path, value in found[:SHOWN])
        more = f" and {len(found) - SHOWN} more" if len(found) > SHOWN else ""
        yield (
            manifest,
            Violation(
                f"{manifest.ref.kind or 'object'} holds unfilled placeholders ({shown}{more}): substitute them "
                "(envsubst, kustomize, a person or the operator that owns the asset) before applying; they are "
                "not judged as values",
                found[0][0],
            ),
        )


def _short(value: str) -> str:
    line = value.strip().splitlines()[0] if value.strip() else value
    return line if len(line) <= 60 else f"{line[:57]}..."
