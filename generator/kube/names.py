"""Kubernetes naming rules (DNS-1123 labels and subdomains, DNS-1035 labels, label keys)."""

from __future__ import annotations

import re

DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
DNS1035_LABEL = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_LABEL_NAME = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")
_LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")


def dns1123_label_problem(name: str, max_length: int = 63) -> str | None:
    """Why ``name`` is not a DNS-1123 label of at most ``max_length`` characters, or None."""
    if not name:
        return "a name must not be empty"
    if len(name) > max_length:
        return f"{name!r} is {len(name)} characters long; the limit here is {max_length}"
    if not DNS1123_LABEL.match(name):
        hint = name.lower().replace("_", "-").replace(".", "-").replace("/", "-").strip("-")
        suggestion = f" (did you mean {hint!r}?)" if hint and DNS1123_LABEL.match(hint) else ""
        return (
            f"{name!r} is not a DNS-1123 label: use lower-case letters, digits and '-', "
            f"starting and ending with a letter or digit{suggestion}"
        )
    return None


def dns1035_label_problem(name: str, max_length: int = 63) -> str | None:
    """Why ``name`` is not a DNS-1035 label (a DNS-1123 label that starts with a letter)."""
    problem = dns1123_label_problem(name, max_length)
    if problem:
        return problem
    if not DNS1035_LABEL.match(name):
        return f"{name!r} must start with a letter here (a DNS-1035 label, as Services require)"
    return None


def label_key_problem(key: str) -> str | None:
    """Why ``key`` is not a valid label or annotation key (optional DNS prefix, then a name)."""
    prefix, _, name = key.rpartition("/")
    if prefix and (len(prefix) > 253 or not DNS1123_SUBDOMAIN.match(prefix)):
        return f"the prefix of key {key!r} must be a DNS subdomain such as 'example.com'"
    if not name or len(name) > 63 or not _LABEL_NAME.match(name):
        return (
            f"key {key!r} must be at most 63 letters, digits, '-', '_' or '.', "
            "starting and ending with a letter or digit (optionally after a 'prefix/')"
        )
    return None


def label_value_problem(value: str) -> str | None:
    """Why ``value`` is not a valid label value, or None."""
    if len(value) > 63 or not _LABEL_VALUE.match(value):
        return (
            f"label value {value!r} must be at most 63 letters, digits, '-', '_' or '.', "
            "starting and ending with a letter or digit"
        )
    return None
