"""Trajectory reweighting: the DOM2 authors' rule against hand-made episode returns."""

from __future__ import annotations

import dataclasses

import jax
import numpy as np
import pytest

from dom2_jax.config import AUTHORS_THRESHOLDS, ReweightConfig, levels_for
from dom2_jax.data.dataset import Dataset, episode_returns
from dom2_jax.data.reweight import (
    agent_episode_copies,
    effective_sample_size,
    sample_from_cdf,
    sampling_cdf,
    threshold_copies,
    transition_weights,
)


def test_one_extra_copy_per_absolute_threshold_strictly_exceeded():
    returns = np.array([500.0, 525.0, 530.0, 560.0, 610.0, 700.0])
    thresholds = AUTHORS_THRESHOLDS["mpe_spread"]["expert"][1]  # 525, 550, ..., 625
    np.testing.assert_array_equal(
        threshold_copies(returns, "absolute", thresholds), [1, 1, 2, 3, 5, 6]
    )


def test_quantile_thresholds_repeat_the_top_eighth():
    returns = np.arange(8.0)  # quantiles 0.5, 0.75, 0.875, 0.875 -> 3.5, 5.25, 6.125, 6.125
    copies = threshold_copies(returns, "quantile", (0.5, 0.75, 0.875, 0.875))
    np.testing.assert_array_equal(copies, [1, 1, 1, 1, 2, 2, 3, 5])


def test_random_data_is_never_replicated():
    returns = np.random.default_rng(0).normal(size=(10, 3))
    config = ReweightConfig()
    thresholds = config.authors_thresholds("mpe_spread", "random")
    assert np.all(agent_episode_copies(returns, config, thresholds) == 1)


def test_each_agent_is_weighted_by_its_own_return():
    # 2 agents, 3 episodes: agent 0 clears 550 in episode 1, agent 1 in episode 2
    returns = np.array([[500.0, 500.0], [560.0, 500.0], [500.0, 630.0]])
    thresholds = ReweightConfig().authors_thresholds("mpe_spread", "expert")
    copies = agent_episode_copies(returns, ReweightConfig(), thresholds)
    np.testing.assert_array_equal(copies, [[1, 1], [3, 1], [1, 6]])
    team = dataclasses.replace(ReweightConfig(), team_returns=True)
    mean = returns.mean(axis=-1)  # spread's team return: 500, 530, 565
    np.testing.assert_array_equal(
        agent_episode_copies(returns, team, thresholds, mean), [[1, 1], [2, 2], [3, 3]]
    )
    with pytest.raises(ValueError, match="team="):
        agent_episode_copies(returns, team, thresholds)
    off = ReweightConfig(enabled=False)
    assert np.all(agent_episode_copies(returns, off, thresholds) == 1)


def _dataset(episode_rewards: np.ndarray, length: int = 5) -> Dataset:
    """Episodes of `length` steps whose per-agent rewards sum to `episode_rewards [E, A]`."""
    n_episodes, n_agents = episode_rewards.shape
    t = n_episodes * length
    rewards = np.repeat(episode_rewards / length, length, axis=0).astype(np.float32)
    terminals = np.zeros((t, n_agents), bool)
    truncations = np.zeros((t, n_agents), bool)
    truncations[length - 1 :: length] = True
    return Dataset.from_arrays(
        {
            "obs": np.zeros((t, n_agents, 2), np.float32),
            "actions": np.zeros((t, n_agents, 2), np.float32),
            "rewards": rewards,
            "next_obs": np.zeros((t, n_agents, 2), np.float32),
            "terminals": terminals,
            "truncations": truncations,
            "episode_ids": np.repeat(np.arange(n_episodes), length).astype(np.int32),
        }
    )


def test_transition_weights_per_agent_and_their_sampling():
    episode_rewards = np.array([[500.0, 500.0], [560.0, 500.0], [500.0, 630.0]])
    dataset = _dataset(episode_rewards)
    np.testing.assert_allclose(episode_returns(dataset), episode_rewards, rtol=1e-5)
    weights = transition_weights(dataset, "mpe_spread", ReweightConfig(), "expert")
    assert weights.shape == (2, 15)
    np.testing.assert_allclose(weights.sum(axis=1), 1.0, rtol=1e-6)
    np.testing.assert_allclose(weights[0, :5] * 3, weights[0, 5:10], rtol=1e-6)
    np.testing.assert_allclose(weights[1, :5] * 6, weights[1, 10:], rtol=1e-6)
    idx = np.asarray(sample_from_cdf(jax.random.key(0), sampling_cdf(weights[1]), 40_000))
    share = np.bincount(idx // 5, minlength=3) / len(idx)
    np.testing.assert_allclose(share, [1 / 8, 1 / 8, 6 / 8], atol=0.01)
    quantile = ReweightConfig(rule="quantile")
    assert transition_weights(dataset, "mpe_spread", quantile, "expert").shape == (15,)


def test_effective_sample_size():
    assert effective_sample_size(np.ones(10)) == pytest.approx(1.0)
    w = np.array([1.0, 1.0, 1.0, 1.0, 4.0])  # (8^2 / 20) / 5
    assert effective_sample_size(w) == pytest.approx(0.64)
    np.testing.assert_allclose(effective_sample_size(np.ones((2, 4))), [1.0, 1.0])


def test_config_refuses_per_agent_sampling_with_a_centralised_critic():
    from dom2_jax.config import preset, with_algo_fields

    with pytest.raises(ValueError, match="team_returns=True"):
        with_algo_fields(preset("tiny"), centralized_critic=True)
    config = preset("tiny")
    config = dataclasses.replace(
        config, reweight=dataclasses.replace(config.reweight, team_returns=True)
    )
    assert with_algo_fields(config, centralized_critic=True).reweight.team_returns


def test_every_level_of_every_env_in_the_table_has_thresholds():
    for env in AUTHORS_THRESHOLDS:
        for level in levels_for(env):
            ReweightConfig().authors_thresholds(env, level)  # no KeyError: a clear rule
    with pytest.raises(ValueError, match="no authors' thresholds for mpe_spread/mixed"):
        ReweightConfig().authors_thresholds("mpe_spread", "mixed")
