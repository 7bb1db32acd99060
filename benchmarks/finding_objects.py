"""Objects with K findings each, for the findings shape of the benchmark and the tests that count lint's work.

Each text is one object whose findings all quote or sit on its own values: what the step that words a finding
against its object (placeholders, redaction) must do in time linear in the findings.
"""

from __future__ import annotations


def yes_values(count: int) -> str:
    """A ConfigMap of ``count`` plain ``kN: yes`` values (two findings each: ambiguity and type)."""
    body = "".join(f"  k{index}: yes\n" for index in range(count))
    return f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n  namespace: a\ndata:\n{body}"


def invalid_secret_keys(count: int) -> str:
    """A Secret of ``count`` keys that are not valid key names (a finding each, worded with every value redacted)."""
    body = "".join(f"  'bad key {index}': value{index}abc\n" for index in range(count))
    return f"apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\n  namespace: a\nstringData:\n{body}"


def labels_to_fill(count: int) -> str:
    """A ConfigMap of ``count`` labels left as ``<fill-me-N>`` (each invalid value gives way to the placeholder note)."""
    body = "".join(f"    k{index}: '<fill-me-{index}>'\n" for index in range(count))
    return f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n  namespace: a\n  labels:\n{body}"
