"""One registry entry per algorithm: `config.algorithms.ALGORITHMS`."""

from __future__ import annotations

import dataclasses

import pytest

from dom2_jax.algos.registry import builder
from dom2_jax.config import (
    ALGORITHMS,
    NETWORK_PRESETS,
    AlgoSpec,
    DOM2Config,
    algo_configs,
    algo_preset,
    default_reweight,
)

BUILDERS = {
    "dom2": "dom2_jax.algos.dom2:make_dom2",
    "bc": "dom2_jax.algos.bc:make_bc",
    "matd3bc": "dom2_jax.algos.matd3bc:make_matd3bc",
    "macql": "dom2_jax.algos.macql:make_macql",
    "omar": "dom2_jax.algos.omar:make_omar",
    "masfbc": "dom2_jax.algos.masfbc:make_masfbc",
    "madiffql": "dom2_jax.algos.madiffql:make_madiffql",
}


def test_registry__every_algorithm_once_dom2_first():
    assert list(ALGORITHMS)[0] == "dom2"
    assert {n: s.builder for n, s in ALGORITHMS.items()} == BUILDERS
    assert algo_configs() == {n: s.config_class for n, s in ALGORITHMS.items()}


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_registry__builder_imports_and_presets_match(name):
    assert callable(builder(name))
    spec = ALGORITHMS[name]
    assert tuple(spec.presets) == NETWORK_PRESETS
    for preset in NETWORK_PRESETS:
        assert type(algo_preset(name, preset)) is spec.config_class
    assert default_reweight(name) == (name == "dom2")


def test_registry__unknown_names_list_the_valid_ones():
    with pytest.raises(ValueError, match="valid algorithms"):
        algo_preset("nope", "cpu")
    with pytest.raises(ValueError, match="valid presets"):
        algo_preset("dom2", "huge")
    with pytest.raises(ValueError, match="valid algorithms"):
        builder("nope")


def test_algo_spec__name_must_match_the_config_class():
    presets = dict.fromkeys(NETWORK_PRESETS, DOM2Config())
    with pytest.raises(ValueError, match="config class"):
        AlgoSpec("other", DOM2Config, "m:f", presets)
    assert dataclasses.is_dataclass(AlgoSpec("dom2", DOM2Config, "m:f", presets))
