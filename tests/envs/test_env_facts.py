"""Env facts live on the env class: aggregation, family, opponents, episode length."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np
import pytest

from dom2_jax.config import tables
from dom2_jax.envs import env_class, make, registered_names
from dom2_jax.envs.core import AGGREGATIONS, aggregate_returns

# OMAR's protocol (its paper, Appendix B.1): spread averages the agents' returns, tag and world
# report predator 0's, HalfCheetah's reward is shared.
EXPECTED = {
    "mpe_spread": ("mpe", "mean", 0, 25),
    "mpe_tag": ("mpe", "agent0", 1, 25),
    "mpe_world": ("mpe", "agent0", 1, 25),
    "xor": ("matrix", "mean", 0, 1),
    "halfcheetah_2x3": ("mabrax", "agent0", 0, 1000),
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_env_class__facts_without_building(name):
    cls = env_class(name)
    family, aggregation, n_opponents, length = EXPECTED[name]
    assert (cls.family, cls.return_aggregation, cls.n_opponents, cls.episode_length) == (
        family,
        aggregation,
        n_opponents,
        length,
    )
    assert cls.return_aggregation in AGGREGATIONS


@pytest.mark.parametrize("name", ["mpe_spread", "mpe_tag", "xor"])
def test_env_facts__instance_agrees_with_default_params(name):
    env, params = make(name)
    assert int(params.max_steps) == env.episode_length
    assert env.n_opponents == env_class(name).n_opponents
    returns = jnp.asarray([[1.0, 2.0], [3.0, 5.0]])
    expected = returns[:, 0] if env.return_aggregation == "agent0" else returns.mean(-1)
    np.testing.assert_array_equal(env.team_return(returns), expected)


def test_scripted_opponents_are_named_where_they_exist():
    assert "calibrated" in env_class("mpe_tag").opponents
    assert env_class("mpe_spread").opponents == ()


def test_aggregate_returns__refuses_an_unknown_rule():
    with pytest.raises(ValueError, match="valid"):
        aggregate_returns("median", jnp.zeros((2, 3)))


def test_env_class__unknown_name_lists_valid_names():
    with pytest.raises(ValueError, match="valid names"):
        env_class("nope")


def test_omar_settings_table__agrees_with_the_env_family():
    light = [n for n in registered_names() if n in EXPECTED and n != "halfcheetah_2x3"]
    for name in light:
        assert (tables.omar_settings(name) == "mpe") == (env_class(name).family == "mpe")
