"""Rollouts into datasets: whole episodes, continuity, returns, subsampling, determinism."""

from __future__ import annotations

import jax
import numpy as np
import pytest

from dom2_jax.data.dataset import (
    episode_lengths,
    episode_returns,
    subsample_episodes,
    take,
)
from dom2_jax.data.generate import concatenate, make_collect, to_dataset
from dom2_jax.data.reweight import sample_from_cdf, sampling_cdf
from dom2_jax.envs.rollout import random_policy


def test_whole_episodes_and_boundaries(tiny_dataset):
    d = tiny_dataset
    assert d.n_transitions == 4 * 50 and d.n_episodes == 8  # the unfinished tails are dropped
    assert np.all(episode_lengths(d) == 25)
    ends = np.asarray(d.truncations).all(axis=1)
    starts = np.r_[True, np.diff(np.asarray(d.episode_ids)) == 1]
    assert np.array_equal(np.flatnonzero(ends) + 1, np.r_[np.flatnonzero(starts)[1:], 200])
    assert not np.asarray(d.terminals).any()


def test_next_obs_continues_within_episodes(tiny_dataset):
    d = tiny_dataset
    ids = np.asarray(d.episode_ids)
    same = ids[1:] == ids[:-1]
    np.testing.assert_array_equal(np.asarray(d.obs)[1:][same], np.asarray(d.next_obs)[:-1][same])
    # at a boundary the next episode starts elsewhere
    assert not np.allclose(np.asarray(d.obs)[1:][~same], np.asarray(d.next_obs)[:-1][~same])


def test_returns_are_sums_of_rewards(tiny_dataset):
    r = episode_returns(tiny_dataset)
    assert r.shape == (8, 3)
    np.testing.assert_allclose(r[0], np.asarray(tiny_dataset.rewards)[:25].sum(0), rtol=1e-5)


def test_max_transitions_keeps_whole_episodes(tiny_traj):
    d = to_dataset(tiny_traj, max_transitions=60)
    assert d.n_transitions == 50 and d.n_episodes == 2


def test_collection_is_deterministic(spread):
    env, params = spread
    collect = jax.jit(make_collect(env, params, random_policy(env), n_envs=2, n_steps=25))
    a, b = collect(jax.random.key(5)), collect(jax.random.key(5))
    jax.tree.map(np.testing.assert_array_equal, a, b)


def test_subsample_whole_episodes_deterministic_and_nested(tiny_dataset):
    half = subsample_episodes(tiny_dataset, 0.5, seed=1)
    assert half.n_episodes == 4 and half.n_transitions == 100
    again = subsample_episodes(tiny_dataset, 0.5, seed=1)
    np.testing.assert_array_equal(half.obs, again.obs)
    quarter = subsample_episodes(tiny_dataset, 0.25, seed=1)
    firsts = {tuple(np.asarray(x.obs)[i * 25, 0]) for x in [half] for i in range(4)}
    assert {tuple(np.asarray(quarter.obs)[i * 25, 0]) for i in range(2)} <= firsts
    assert subsample_episodes(tiny_dataset, 0.01).n_episodes == 1
    with pytest.raises(ValueError, match="fraction"):
        subsample_episodes(tiny_dataset, 0.0)


def test_sampling_and_concatenate(tiny_dataset):
    uniform = sampling_cdf(np.ones(tiny_dataset.n_transitions))
    idx = sample_from_cdf(jax.random.key(0), uniform, 32)
    batch = take(tiny_dataset, idx)
    assert batch.obs.shape == (32, 3, 18)
    weights = np.zeros(tiny_dataset.n_transitions, np.float32)
    weights[:25] = 1.0  # only episode 0
    idx = np.asarray(sample_from_cdf(jax.random.key(0), sampling_cdf(weights), 64))
    assert idx.max() < 25
    both = concatenate([tiny_dataset, tiny_dataset])
    assert both.n_episodes == 16 and int(both.episode_ids[-1]) == 15
