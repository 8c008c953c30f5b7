"""The xor game: reward at its modes, one-step episodes, the mixed level's joint modes, its data."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from dom2_jax.envs import make
from dom2_jax.envs.xor import joint_mode_fractions, mixed_behaviour, xor_reward


@pytest.fixture(scope="module")
def xor():
    return make("xor")


@pytest.fixture(scope="module")
def step(xor):
    env, params = xor
    _, state = env.reset(jax.random.key(0), params)
    return jax.jit(lambda a: env.step(jax.random.key(1), state, a, params))


@pytest.mark.parametrize(
    "joint, expected",
    [((1.0, -1.0), 1.0), ((-1.0, 1.0), 1.0), ((1.0, 1.0), 0.0), ((-0.7, -0.7), 0.0),
     ((0.0, 0.0), 0.5), ((0.0, 1.0), 0.5), ((0.7, -0.7), 0.998)],
)  # fmt: skip
def test_reward_is_one_at_the_modes_zero_on_same_sign_half_at_the_origin(step, joint, expected):
    _, _, rewards, _, _ = step(jnp.asarray(joint)[:, None])
    # k = 5: tanh(5) = 0.99991, tanh(3.5) = 0.99818, so the modes give 1 - 1e-4 and 0.998
    np.testing.assert_allclose(rewards, [expected, expected], atol=2e-3)
    assert float(xor_reward(jnp.asarray(joint))) == pytest.approx(float(rewards[0]), abs=1e-6)


def test_one_step_episode_terminates_with_a_constant_observation(xor, step):
    env, params = xor
    obs, _ = env.reset(jax.random.key(3), params)
    next_obs, state, _, dones, info = step(jnp.array([[0.3], [-0.2]]))
    assert int(params.max_steps) == 1 and int(state.t) == 1
    assert dones.tolist() == [True, True] and info["terminated"].tolist() == [True, True]
    assert info["truncated"].tolist() == [False, False]  # terminated, not cut off: no bootstrap
    np.testing.assert_array_equal(obs, np.ones((2, 1))) and np.testing.assert_array_equal(
        next_obs, obs
    )
    assert env.obs_sizes == (1, 1) and env.act_sizes == (1, 1)


def test_mixed_behaviour_plays_the_two_joint_modes_equally_and_correlated(xor):
    env, _ = xor
    act, meta = mixed_behaviour(env)
    n = 10_000
    actions = jax.jit(jax.vmap(act))(jax.random.split(jax.random.key(0), n), jnp.ones((n, 2, 1)))
    assert actions.shape == (n, 2, 1) and float(jnp.max(jnp.abs(actions))) <= 1.0
    f = {k: float(v) for k, v in joint_mode_fractions(actions[..., 0]).items()}
    # p_coord 0.8 in the modes (0.4 each), plus the uniform 20%: of those, 0.64 have both |a|
    # >= 0.2, split evenly over the four quadrants; 0.36 near the centre
    assert f["mode_a"] == pytest.approx(0.4 + 0.2 * 0.64 / 4, abs=0.015)
    assert f["mode_b"] == pytest.approx(0.4 + 0.2 * 0.64 / 4, abs=0.015)
    assert f["same_sign"] == pytest.approx(0.2 * 0.64 / 2, abs=0.01)
    assert f["centre"] == pytest.approx(0.2 * 0.36, abs=0.01)
    assert sum(f.values()) == pytest.approx(1.0)
    assert meta["id"] == "xor_mixed_joint_modes" and meta["p_coord"] == 0.8


def test_mixed_dataset_round_trip(tmp_path):
    from dom2_jax.data.dataset import episode_returns
    from dom2_jax.io import generation
    from dom2_jax.io.dataset_files import load_dataset

    path, meta = generation.generate(
        "xor", "mixed", size=400, out=tmp_path / "mixed.npz", progress=False
    )
    dataset, meta2 = load_dataset(path)
    assert meta == meta2 and meta["checksum"] and meta["level"] == "mixed"
    assert meta["behaviour_policy"]["id"] == "xor_mixed_joint_modes"
    assert meta["return_aggregation"] == "mean"
    assert dataset.n_transitions == 400 and dataset.n_episodes == 400  # one step each
    assert np.asarray(dataset.terminals).all()
    assert np.asarray(episode_returns(dataset)).mean() == pytest.approx(0.9, abs=0.05)
