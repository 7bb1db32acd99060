"""Every property test runs under the suite's Hypothesis profile: in CI, the same examples on every run."""

from __future__ import annotations

import importlib
import os
from typing import Any

from hypothesis import HealthCheck, settings

from tests.support import REPO


def property_tests() -> dict[str, Any]:
    """Every Hypothesis test in tests/, by module and name (importing the modules pytest has not yet)."""
    found: dict[str, Any] = {}
    for path in sorted((REPO / "tests").rglob("test_*.py")):
        module = importlib.import_module(".".join(path.relative_to(REPO).with_suffix("").parts))
        for name, value in vars(module).items():
            if getattr(value, "is_hypothesis_test", False):
                found[f"{module.__name__}::{name}"] = value
    return found


def test_the_ci_profile_is_seeded_and_independent_of_the_machine() -> None:
    ci = settings.get_profile("ci")
    assert (ci.derandomize, ci.database, ci.deadline) == (True, None, None)
    assert HealthCheck.too_slow in ci.suppress_health_check
    if os.environ.get("CI") == "true" and not os.environ.get("HYPOTHESIS_PROFILE"):
        assert settings.default == ci


def test_every_property_test_inherits_the_profile() -> None:
    tests = property_tests()
    assert len(tests) >= 13
    profile = settings.default
    for name, test in tests.items():
        chosen = test._hypothesis_internal_use_settings
        assert chosen.derandomize == profile.derandomize, name
        assert chosen.database == profile.database, name
        assert chosen.deadline is None, name
        assert HealthCheck.too_slow in chosen.suppress_health_check, name  # a slow machine never fails a test
