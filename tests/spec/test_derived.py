"""Environment-wide values derived once per environment model: shared while the model lives, never stale."""

from __future__ import annotations

from mlgitops.load.environments import load_environments
from mlgitops.render.config_maps import config_map_names
from mlgitops.spec import derived
from mlgitops.spec.derived import config_map_positions, volumes_by_name
from tests.support import REPO


def test_a_derived_value_is_computed_once_per_environment_and_follows_a_changed_copy() -> None:
    prod = next(loaded.spec for loaded in load_environments(REPO / "environments") if loaded.name == "prod")
    volumes = volumes_by_name(prod)
    assert volumes is volumes_by_name(prod)  # one index per model, not one per workload
    assert list(volumes) == [volume.name for volume in prod.volumes]
    fewer = prod.model_copy(update={"volumes": prod.volumes[1:]})
    assert list(volumes_by_name(fewer)) == [volume.name for volume in prod.volumes[1:]]
    assert list(volumes_by_name(prod)) == [volume.name for volume in prod.volumes]
    assert config_map_positions(prod) == {spec.name: index for index, spec in enumerate(prod.config_maps)}
    assert config_map_names(prod) is config_map_names(prod)


def test_the_memory_of_environments_is_bounded() -> None:
    environments = [next(iter(load_environments(REPO / "environments"))).spec.model_copy() for _ in range(derived.REMEMBERED + 5)]
    for environment in environments:
        assert volumes_by_name(environment) == {volume.name: volume for volume in environment.volumes}
    # Every value is still right after the memory was cleared and refilled.
    assert all(volumes_by_name(e) == {v.name: v for v in e.volumes} for e in environments)
