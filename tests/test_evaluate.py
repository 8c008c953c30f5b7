"""Shifted evaluation: episodes vmapped over a batch of params (unshifted + shifts), one compile."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from dom2_jax.envs import shifts
from dom2_jax.envs.rollout import batch_returns, random_policy
from dom2_jax.evaluate import agent_returns, evaluate_params, evaluate_shifts

N_EPISODES = 3


@pytest.fixture(scope="module")
def spread_eval(spread):
    """Random-policy evaluation of mpe_spread over every shift, compiled once."""
    env, params = spread
    rollout_act = random_policy(env)  # (key, obs), rollout's order
    traces = []

    def act(obs, key):  # an algorithm's order: act(obs, key)
        traces.append(1)
        return rollout_act(key, obs)

    key = jax.random.key(5)
    result = jax.jit(lambda k: evaluate_shifts(env, params, act, k, N_EPISODES, n_steps=25))(key)
    return env, params, act, key, result, traces


def test_returns_per_params_and_episode_in_one_trace(spread_eval):
    env, _, _, _, result, traces = spread_eval
    n = 1 + len(shifts.shifts_for("mpe_spread"))
    assert result.returns.shape == (n, N_EPISODES) and len(traces) == 1
    assert np.all(np.isfinite(result.returns))
    assert result.names[0] == shifts.UNSHIFTED and len(result.names) == n
    assert result.families[0] == shifts.UNSHIFTED and result.magnitudes[0] == 1.0
    assert result.families[result.names.index("landmark_spawn_x1.5")] == "landmark_spawn"
    assert result.magnitudes[result.names.index("learner0_immobilised")] == 0.0


def test_unshifted_entry_equals_batch_returns_with_the_same_key(spread_eval):
    env, params, act, key, result, _ = spread_eval
    reference = batch_returns(env, params, lambda k, o: act(o, k), key, N_EPISODES, 25)
    np.testing.assert_allclose(result.returns[0], env.team_return(reference), rtol=1e-5, atol=1e-4)


def test_immobilised_learner_changes_returns(spread_eval):
    _, _, _, _, result, _ = spread_eval
    returns = np.asarray(result.returns)
    immobile = returns[result.names.index("learner0_immobilised")]
    assert not np.allclose(immobile, returns[0], atol=1e-3)


def test_evaluate_params_takes_any_stacked_batch(spread):
    """A hand-made batch, per-agent returns, and n_steps read from the params by default."""
    env, params = spread
    batch = shifts.stack_params([params, params.replace(dt=jnp.float32(0.05))])

    def zero(obs, key):
        del key
        return jnp.zeros((env.n_agents, env.act_dim))

    per_agent = agent_returns(env, batch, zero, jax.random.key(0), 2)
    team = evaluate_params(env, batch, zero, jax.random.key(0), 2)
    assert per_agent.shape == (2, 2, env.n_agents) and team.shape == (2, 2)
    np.testing.assert_allclose(team, per_agent.mean(axis=-1), rtol=1e-6)  # spread: mean
