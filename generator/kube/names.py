"""Kubernetes naming rules: DNS-1123 labels and subdomains, DNS-1035 labels, label keys, path segments, data keys, port names.

Every pattern is applied with ``fullmatch``: Python's ``$`` also matches before a final newline,
so ``re.fullmatch(r"^[a-z]+$", "serve\\n")`` succeeds, while the API server refuses the name.
Source: k8s.io/apimachinery/pkg/util/validation (IsDNS1123Label, IsDNS1123Subdomain,
IsQualifiedName, IsValidLabelValue, IsValidPortName, IsConfigMapKey) and
k8s.io/apimachinery/pkg/api/validation/path (ValidatePathSegmentName).
"""

from __future__ import annotations

import re
from functools import lru_cache

DNS1123_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
DNS1035_LABEL = re.compile(r"[a-z]([-a-z0-9]*[a-z0-9])?")
DNS1123_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
_LABEL_NAME = re.compile(r"([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]")
_LABEL_VALUE = re.compile(r"(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?")
_CONFIG_MAP_KEY = re.compile(r"[-._a-zA-Z0-9]+")
# IANA service names: lower-case letters, digits and '-', at least one letter, no '--', no '-' at either end.
_PORT_NAME = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")


def dns1123_label_problem(name: str, max_length: int = 63) -> str | None:
    """Why ``name`` is not a DNS-1123 label of at most ``max_length`` characters, or None."""
    if not name:
        return "a name must not be empty"
    if len(name) > max_length:
        return f"{name!r} is {len(name)} characters long; the limit here is {max_length}"
    if not DNS1123_LABEL.fullmatch(name):
        hint = name.lower().replace("_", "-").replace(".", "-").replace("/", "-").strip("-")
        suggestion = f" (did you mean {hint!r}?)" if hint and DNS1123_LABEL.fullmatch(hint) else ""
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
    if not DNS1035_LABEL.fullmatch(name):
        return f"{name!r} must start with a letter here (a DNS-1035 label, as Services require)"
    return None


# Label keys and values repeat across thousands of objects (app, team, version): each is judged once.
_JUDGED = 65536


@lru_cache(maxsize=_JUDGED)
def label_key_problem(key: str) -> str | None:
    """Why ``key`` is not a qualified name (``IsQualifiedName``): a label key, or an annotation key once lower-cased.

    A key is ``name`` or ``prefix/name``: the prefix a DNS-1123 subdomain of at most 253
    characters, the name at most 63 letters, digits, '-', '_' or '.', starting and ending
    with a letter or digit.
    """
    prefix, slash, name = key.rpartition("/")
    if slash and not prefix:
        return f"key {key!r} has nothing before its '/': write 'example.com/{name}' or drop the '/'"
    if "/" in prefix:
        return f"key {key!r} has more than one '/': a key is 'name' or 'prefix/name'"
    if len(prefix) > 253:
        return f"the prefix of key {key[:40]!r}... is {len(prefix)} characters long; a prefix is at most 253"
    if prefix and not DNS1123_SUBDOMAIN.fullmatch(prefix):
        return (
            f"the prefix of key {key!r} must be a DNS subdomain such as 'example.com' (lower-case letters, digits, '-' and '.')"
        )
    if len(name) > 63 and _LABEL_NAME.fullmatch(name):
        return f"the name part of key {key!r} is {len(name)} characters long; the limit is 63 (a longer prefix is fine)"
    if not name or len(name) > 63 or not _LABEL_NAME.fullmatch(name):
        return (
            f"key {key!r} must be at most 63 letters, digits, '-', '_' or '.', "
            "starting and ending with a letter or digit (optionally after a 'prefix/')"
        )
    return None


@lru_cache(maxsize=_JUDGED)
def label_value_problem(value: str) -> str | None:
    """Why ``value`` is not a valid label value, or None."""
    if len(value) > 63 or not _LABEL_VALUE.fullmatch(value):
        return (
            f"label value {value!r} must be at most 63 letters, digits, '-', '_' or '.', "
            "starting and ending with a letter or digit"
        )
    return None


def dns1123_subdomain_problem(name: str) -> str | None:
    """Why ``name`` is not a DNS-1123 subdomain (≤ 253 characters, dot-separated labels), or None."""
    if not name:
        return "a name must not be empty"
    if len(name) > 253:
        return f"{name[:40]!r}... is {len(name)} characters long; the limit is 253"
    if not DNS1123_SUBDOMAIN.fullmatch(name):
        return (
            f"{name!r} is not a DNS-1123 subdomain: use lower-case letters, digits, '-' and '.', "
            "starting and ending with a letter or digit"
        )
    return None


def path_segment_problem(name: str, prefix: bool = False) -> str | None:
    """Why ``name`` cannot be one segment of a URL path (``ValidatePathSegmentName``): no '/' or '%', not '.' or '..'.

    ``prefix``: a ``generateName``, which the API server completes, so '.' and '..' are allowed.
    """
    if not prefix and name in (".", ".."):
        return f"{name!r} cannot be a name: it means a step in a URL path"
    for character in ("/", "%"):
        if character in name:
            return f"{name!r} must not contain {character!r} (the name is one segment of the object's URL)"
    return None


def config_map_key_problem(key: str) -> str | None:
    """Why ``key`` is not a ConfigMap or Secret data key (``IsConfigMapKey``): at most 253 of
    letters, digits, '-', '_' and '.', not '.' or '..' and not starting with '..'."""
    if not key or len(key) > 253 or not _CONFIG_MAP_KEY.fullmatch(key):
        return (
            f"key {key!r} must be 1 to 253 letters, digits, '-', '_' or '.' "
            "(it becomes a file name when the ConfigMap or Secret is mounted)"
        )
    if key.startswith(".."):
        return f"key {key!r} must not be '.' or start with '..'"
    return None


def port_name_problem(name: str) -> str | None:
    """Why ``name`` is not a valid port name (an IANA service name, as the API server requires), or None."""
    if not name or len(name) > 15 or not _PORT_NAME.fullmatch(name) or "--" in name or not re.search("[a-z]", name):
        return (
            f"port name {name!r} must be 1 to 15 lower-case letters, digits and '-', with at least one letter, "
            "no '--', and no '-' at either end"
        )
    return None
