"""Fixtures shared by the suite: the repository, a scratch copy of the example fleet, the shipped catalog; Hypothesis profiles."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from mlgitops.fleet.build import EnvironmentOutput
from mlgitops.fleet.run import RenderedFleet, render_fleet
from mlgitops.load.environments import load_environments
from mlgitops.policy import Catalog, load_catalog
from tests import support
from tests.support import NEEDS_SHARED, REPO, require_shared

# Hypothesis. In CI (CI=true) every property test tries the same examples on every run and every clean
# clone: derandomize seeds each test from its own code, no example database carries failures from one
# run to the next, and nothing depends on the machine's speed (no deadline, no too-slow check). Elsewhere
# ("dev") each run explores new examples and replays failures from .hypothesis/. HYPOTHESIS_PROFILE picks
# one by name. Loaded here, before any test module is imported: a test's @settings inherits from the
# profile loaded when it is decorated. tests/test_hypothesis_profile.py checks every property test does.
TIMING_HEALTH_CHECKS = (HealthCheck.too_slow,)
settings.register_profile(
    "ci", derandomize=True, database=None, max_examples=100, deadline=None, suppress_health_check=TIMING_HEALTH_CHECKS
)
settings.register_profile("dev", deadline=None, suppress_health_check=TIMING_HEALTH_CHECKS)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") == "true" else "dev"))


@pytest.fixture(autouse=True)
def _needs_shared(request: pytest.FixtureRequest) -> Iterator[None]:
    """Tests marked needs_shared skip or fail (tests.support.require_shared) before they start; only they may read ../shared."""
    marked = request.node.get_closest_marker(NEEDS_SHARED) is not None
    if marked:
        require_shared()
    support.shared_allowed = marked
    yield
    support.shared_allowed = False


@pytest.fixture
def repo_root() -> Path:
    return REPO


@pytest.fixture
def fleet(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A copy of the example environments/ and rendered/ in a temporary working directory."""
    shutil.copytree(REPO / "environments", tmp_path / "environments")
    shutil.copytree(REPO / "rendered", tmp_path / "rendered")
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    """The shipped catalog, loaded once: tests must not change it (copy policies before editing them)."""
    return load_catalog()


@pytest.fixture(scope="session")
def rendered_example_fleet() -> RenderedFleet:
    """The example fleet (environments/) rendered and checked once per test process: tests must not change it."""
    return render_fleet(load_environments(REPO / "environments"), REPO / "rendered", [])


@pytest.fixture(scope="session")
def example_fleet(rendered_example_fleet: RenderedFleet) -> dict[str, EnvironmentOutput]:
    """What each environment of the example fleet renders to, by environment name (shared: do not change it)."""
    return {output.name: output for output in rendered_example_fleet.outputs}
