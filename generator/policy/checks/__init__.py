"""Built-in checks: rules that span several objects or need computation a JSON Schema cannot express.

A check registers itself, in the module that implements it, under the id of the rule whose policy
file (``policies/<id>.yaml``) names it with ``check: <id>``::

    @check("gpu-toleration")
    def gpu_toleration(manifests: list[Manifest], policy: Policy, context: PolicyContext) -> Found: ...

One implementation may serve several rules (``@check("secret-reference", "configmap-reference")``):
``policy.check`` then says which one it runs for. ``registered()`` imports every module of this
package once and answers every check by rule id; the test suite holds each registered check to
exactly one shipped policy file, and each policy file's ``check:`` to a registered check.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import cache
from types import MappingProxyType
from typing import TypeVar

from mlgitops.policy.model import SetCheck

_REGISTERED: dict[str, SetCheck] = {}
Check = TypeVar("Check", bound=SetCheck)


def check(*rules: str) -> Callable[[Check], Check]:
    """Register the decorated function as the built-in check of each rule id in ``rules``.

    Raises ValueError when a rule already has another check (two modules claiming one id).
    """

    def register(function: Check) -> Check:
        for rule in rules:
            if _REGISTERED.get(rule, function) is not function:
                raise ValueError(f"rule {rule!r} has two built-in checks")
            _REGISTERED[rule] = function
        return function

    return register


@cache
def registered() -> Mapping[str, SetCheck]:
    """Every built-in check by rule id, once every module that registers one is imported."""
    import pkgutil
    from importlib import import_module

    for module in pkgutil.iter_modules(__path__):
        import_module(f"{__name__}.{module.name}")
    # Invalid waivers are found while waivers are applied; their rule registers a check there.
    import_module("mlgitops.policy.waivers")
    return MappingProxyType(_REGISTERED)
