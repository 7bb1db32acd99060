"""The envelope of every machine-readable output (`lint -o json`, `diff -o json`, `policy list -o json`,
`explain -o json`): which format it is, at which version, from which mlgitops.

``schemaVersion`` is the format's version: it changes (and CHANGELOG.md says so) whenever a field is removed,
renamed or changes meaning, so a consumer can refuse a format it does not know instead of misreading it.
Added fields do not change it. ``mlgitopsVersion`` is the release that wrote the document.
"""

from __future__ import annotations

from typing import Any

from mlgitops import __version__
from mlgitops.output import inert

SCHEMA_VERSION = 1


def versioned(kind: str, body: dict[str, Any], **options: Any) -> str:
    """``body`` under the envelope, as inert JSON text: ``{"kind", "schemaVersion", "mlgitopsVersion", **body}``.

    ``kind`` names the document (``LintReport``, ``Review``, ``RuleList``, ``Rule``)."""
    document = {"kind": kind, "schemaVersion": SCHEMA_VERSION, "mlgitopsVersion": __version__, **body}
    return inert.json_document(document, **options)


__all__ = ["SCHEMA_VERSION", "versioned"]
