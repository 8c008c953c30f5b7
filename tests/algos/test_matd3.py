"""MATD3 behaviour trainer: compiled chunk, replay buffer, determinism, chunking, TD3 target,
a learning check on a one-step bandit; the all-agents wrapper and the frozen-prey network;
HalfCheetah's preset (global-state shared critic, states in the replay buffer)."""

from __future__ import annotations

import dataclasses

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import struct

from dom2_jax.algos.online import (
    MATD3Config,
    behaviour_policy,
    make_matd3,
    replay,
    smoothed_target_actions,
    td3_target,
)
from dom2_jax.algos.online.config import behaviour_preset
from dom2_jax.algos.online.networks import actor_apply, critic_inputs, init_actors, joint_actions
from dom2_jax.assets import POLICY_ROOT
from dom2_jax.envs import make
from dom2_jax.envs.core import EnvParams, EnvState, MultiAgentEnv
from dom2_jax.envs.mpe.all_agents import AllAgentsEnv
from dom2_jax.envs.mpe.opponents import mlp_opponent

TINY = MATD3Config(
    n_envs=2,
    chunk_iterations=4,
    updates_per_iteration=1,
    batch_size=8,
    buffer_capacity=64,
    warmup_steps=4,
    hidden=(16,),
)


@pytest.fixture(scope="module")
def spread_fns(spread):
    env, params = spread
    fns = make_matd3(env, params, TINY, eval_episodes=2)
    return fns, jax.jit(chex.assert_max_traces(fns.train_chunk, n=1))


def run(fns, chunk, seed, n_chunks):
    state = fns.init(jax.random.key(seed))
    for _ in range(n_chunks):
        state, metrics = chunk(state)
    return state, metrics


def test_chunk__compiles_once_and_is_finite(spread_fns):
    fns, chunk = spread_fns
    state, metrics = run(fns, chunk, 0, 3)  # 24 transitions: learning starts after warm-up
    chex.assert_tree_all_finite((state.actor, state.critic, state.critic_target, metrics))
    assert int(state.iteration) == 12 and int(state.buffer.size) == 24
    assert int(state.n_updates) > 0
    assert np.all(np.abs(np.asarray(state.buffer.data["actions"])) <= 1.0)


def test_chunk__same_seed_same_params(spread_fns):
    fns, chunk = spread_fns
    a, _ = run(fns, chunk, 3, 2)
    b, _ = run(fns, chunk, 3, 2)
    c, _ = run(fns, chunk, 4, 2)
    chex.assert_trees_all_equal(a.actor, b.actor)
    chex.assert_trees_all_equal(a.critic, b.critic)
    assert not np.allclose(a.actor["w0"], c.actor["w0"])


def test_chunk__two_chunks_equal_one_double_chunk(spread):
    env, params = spread
    half = make_matd3(env, params, TINY)
    whole = make_matd3(env, params, dataclasses.replace(TINY, chunk_iterations=8))
    a, _ = run(half, jax.jit(half.train_chunk), 5, 2)
    b, _ = run(whole, jax.jit(whole.train_chunk), 5, 1)
    chex.assert_trees_all_close(a.actor, b.actor, atol=1e-6, rtol=1e-5)
    chex.assert_trees_all_close(a.critic_target, b.critic_target, atol=1e-6, rtol=1e-5)
    chex.assert_trees_all_close(a.buffer.data, b.buffer.data, atol=1e-6, rtol=1e-5)
    assert int(a.n_updates) == int(b.n_updates)


def test_replay__wraps_around_and_reads_newest_in_order():
    buf = replay.init_buffer(5, {"x": jnp.zeros((2,))})
    buf = replay.insert(buf, {"x": jnp.arange(3.0)[:, None].repeat(2, 1)})  # 0 1 2
    assert int(buf.ptr) == 3 and int(buf.size) == 3
    buf = replay.insert(buf, {"x": jnp.arange(3.0, 7.0)[:, None].repeat(2, 1)})  # 3 4 5 6
    assert int(buf.ptr) == 2 and int(buf.size) == 5
    np.testing.assert_array_equal(buf.data["x"][:, 0], [5, 6, 2, 3, 4])
    newest = buf.data["x"][replay.newest_indices(buf.ptr, 4, buf.capacity), 0]
    np.testing.assert_array_equal(newest, [3, 4, 5, 6])
    sample = replay.sample(buf, jax.random.key(0), 100)["x"][:, 0]
    assert set(np.asarray(sample).tolist()) <= {2.0, 3.0, 4.0, 5.0, 6.0}


def test_td3_target__min_of_twins_and_terminal_cut():
    # y = r + gamma (1 - d) min(Q1', Q2'): [1 + 0.9 * min(5, 4), 2 + 0] = [4.6, 2.0]
    y = td3_target(
        jnp.array([1.0, 2.0]), jnp.array([False, True]), jnp.array([[5.0, 3.0], [4.0, 7.0]]), 0.9
    )
    np.testing.assert_allclose(y, [4.6, 2.0], rtol=1e-6)


def test_td3_target__smoothing_noise_is_clipped():
    key = jax.random.key(1)
    target = jnp.array([[0.9, -0.2], [0.0, 0.3]])
    mask = jnp.array([[1.0, 1.0], [1.0, 0.0]])
    # a huge std saturates every noise sample at +-clip: a' = clip(a +- 0.5, -1, 1), masked
    out = smoothed_target_actions(target, key, noise_std=100.0, noise_clip=0.5, act_mask=mask)
    sign = np.sign(np.asarray(jax.random.normal(key, target.shape)))
    expected = np.clip(np.asarray(target) + 0.5 * sign, -1, 1) * np.asarray(mask)
    np.testing.assert_allclose(out, expected, rtol=1e-6)
    assert out[1, 1] == 0.0  # padded action dimension stays zero
    # zero std: the target actions themselves
    np.testing.assert_allclose(smoothed_target_actions(target, key, 0.0, 0.5, 1.0), target)


def test_noise__distrax_draws_are_the_hand_written_draws_bit_for_bit():
    # the shipped policies were trained and their datasets generated with
    # `clip(mu + s * normal(key, mu.shape), -1, 1) * mask`; the distrax draw must give the same bits
    with np.load(POLICY_ROOT / "mpe_spread" / "expert.npz") as f:
        actor = {k: jnp.asarray(v) for k, v in f.items()}
    mask = jnp.ones((3, 2)).at[2, 1].set(0.0)
    obs = jax.random.normal(jax.random.key(0), (64, 3, 18))
    keys = jax.random.split(jax.random.key(1), 64)

    def hand_written(key, o):
        mu = joint_actions(actor, o, mask)
        return jnp.clip(mu + 0.1 * jax.random.normal(key, mu.shape), -1.0, 1.0) * mask

    ours = jax.jit(jax.vmap(behaviour_policy(actor, mask, 0.1)))(keys, obs)
    theirs = jax.jit(jax.vmap(hand_written))(keys, obs)
    np.testing.assert_array_equal(
        np.asarray(ours).view(np.uint32), np.asarray(theirs).view(np.uint32)
    )

    def hand_written_smoothing(key, o):
        noise = jnp.clip(0.2 * jax.random.normal(key, (3, 2)), -0.5, 0.5)
        return jnp.clip(joint_actions(actor, o, mask) + noise, -1.0, 1.0) * mask

    def smoothing(key, o):
        return smoothed_target_actions(joint_actions(actor, o, mask), key, 0.2, 0.5, mask)

    ours = jax.jit(jax.vmap(smoothing))(keys, obs)
    theirs = jax.jit(jax.vmap(hand_written_smoothing))(keys, obs)
    np.testing.assert_array_equal(
        np.asarray(ours).view(np.uint32), np.asarray(theirs).view(np.uint32)
    )


# ----- learning check: a one-step two-agent bandit, best action 0.5 for both -------------------
@struct.dataclass
class BanditParams(EnvParams):
    best: jax.Array  # () the rewarded action


class Bandit(MultiAgentEnv):
    name, n_agents, obs_sizes, act_sizes = "bandit", 2, (1, 1), (1, 1)

    def default_params(self):
        return BanditParams(max_steps=jnp.int32(1), best=jnp.float32(0.5))

    def _reset(self, key, params):
        return EnvState(t=jnp.int32(0))

    def _step(self, key, state, actions, params):
        rewards = 1.0 - (actions[:, 0] - params.best) ** 2
        return state, rewards, jnp.ones((2,), bool), {}

    def observe(self, state, params):
        return jnp.ones((2, 1), jnp.float32)


def test_learning__bandit_actor_moves_to_the_better_action():
    env = Bandit()
    params = env.default_params()
    config = MATD3Config(
        n_envs=8, chunk_iterations=100, updates_per_iteration=2, batch_size=32,
        buffer_capacity=2000, warmup_steps=64, hidden=(16, 16), actor_lr=3e-3, critic_lr=3e-3,
    )  # fmt: skip
    fns = make_matd3(env, params, config, eval_episodes=1)
    state, _ = run(fns, jax.jit(fns.train_chunk), 0, 5)
    before = joint_actions(fns.init(jax.random.key(0)).actor, jnp.ones((2, 1)), jnp.ones((2, 1)))
    after = joint_actions(state.actor, jnp.ones((2, 1)), jnp.ones((2, 1)))
    assert np.all(np.abs(np.asarray(before) - 0.5) > 0.4)
    np.testing.assert_allclose(after, 0.5, atol=0.15)


# ----- predator-prey: all agents learn; the frozen prey's network ------------------------------
def test_all_agents__shapes_rewards_and_padding():
    env, params = make("mpe_tag")
    wrapped = AllAgentsEnv(env)
    assert wrapped.n_agents == 4 and wrapped.obs_sizes == (16, 16, 16, 14)
    obs, state = wrapped.reset(jax.random.key(0), params)
    assert obs.shape == (4, 16)
    np.testing.assert_array_equal(obs[3, 14:], 0.0)
    np.testing.assert_allclose(obs[3, :14], env.observe_opponents(state, params)[0])
    actions = jnp.full((4, 2), 0.3)
    obs2, state2, rewards, dones, info = wrapped.step(jax.random.key(1), state, actions, params)
    assert obs2.shape == (4, 16) and rewards.shape == (4,) and dones.shape == (4,)
    np.testing.assert_allclose(rewards[:3], env.learner_rewards(state2, params))
    np.testing.assert_allclose(rewards[3:], env.opponent_rewards(state2, params))
    np.testing.assert_allclose(state2.pos, env.step_all_agents(state, actions, params).pos)


def test_mlp_opponent__equals_the_actor_forward_pass():
    actor = init_actors(jax.random.key(2), 1, 16, 2, (8, 8))  # leaves [1, ...], one prey
    actor = jax.tree.map(lambda w: w * 30.0, actor)  # leave tanh's linear range
    obs = jax.random.normal(jax.random.key(3), (1, 14))
    expected = actor_apply(jax.tree.map(lambda w: w[0], actor), jnp.pad(obs[0], (0, 2)))
    policy = mlp_opponent(actor)
    np.testing.assert_allclose(
        policy.apply(policy.default_params(), obs, None)[0], expected, rtol=1e-6
    )
    shared = mlp_opponent(jax.tree.map(lambda w: w[0], actor))
    np.testing.assert_allclose(
        shared.apply(shared.default_params(), obs, None)[0], expected, rtol=1e-6
    )
    env, params = make("mpe_tag", opponent=policy)  # plugs into the env as data
    obs0, state = env.reset(jax.random.key(4), params)
    env.step(jax.random.key(5), state, jnp.zeros((3, 2)), params)


# ----- MaMuJoCo: global-state critic, one shared critic, states in the buffer ------------------
def test_critic_inputs__global_state_replaces_concatenated_obs():
    obs = jnp.zeros((5, 2, 6))  # [B, n, d_o]
    actions = jnp.arange(5 * 2 * 3, dtype=jnp.float32).reshape(5, 2, 3)
    state = jnp.ones((5, 17))
    x_obs, x_act = critic_inputs(obs, actions, True, state)
    assert x_obs.shape == (2, 5, 17) and x_act.shape == (2, 5, 6)
    np.testing.assert_array_equal(x_obs[1], state)
    np.testing.assert_array_equal(x_act[0], actions.reshape(5, 6))  # joint action a_1..a_n


def test_behaviour_presets__mpe_defaults_kept_halfcheetah_has_its_own():
    assert behaviour_preset("mpe_tag").config == MATD3Config()
    hc = behaviour_preset("halfcheetah_2x3")
    assert hc.config.critic_state and hc.config.shared_critic and hc.config.gamma == 0.99
    assert hc.config.grad_clip is None and hc.final_eval_episodes >= 10
    with pytest.raises(ValueError, match="preset"):
        behaviour_preset("ant_4x2")
    with pytest.raises(ValueError, match="shared_critic"):
        MATD3Config(centralized_critic=False, shared_critic=True)


@pytest.mark.slow(seconds=90)
def test_halfcheetah_chunk__state_critic_shared_and_states_stored():
    env, params = make("halfcheetah_2x3")
    config = dataclasses.replace(
        behaviour_preset("halfcheetah_2x3").config, n_envs=2, chunk_iterations=100,
        updates_per_iteration=1, batch_size=16, buffer_capacity=400, warmup_steps=50,
        hidden=(16,), actor_hidden=(8,),
    )  # fmt: skip
    fns = make_matd3(env, params, config, eval_episodes=1)
    # init and the chunk in one program: one MuJoCo XLA compile, the costly part of this test
    # (an eager mjx reset would share buffers that the host loop's donation refuses)
    state, metrics = jax.jit(lambda key: fns.train_chunk(fns.init(key)))(jax.random.key(0))
    chex.assert_tree_all_finite((state.actor, state.critic, metrics))
    assert state.actor["w0"].shape == (2, 6, 8)  # per agent: own 6-D obs
    assert state.critic["w0"].shape == (1, 2, 17 + 2 * 3, 16)  # one twin critic on (s, a_1, a_2)
    data = state.buffer.data
    assert data["states"].shape == (400, 17) and int(state.buffer.size) == 200
    # within an env's episode the next step's state is this step's next state
    per_env = data["states"][:200].reshape(100, 2, 17)
    np.testing.assert_allclose(per_env[1:], data["next_states"][:200].reshape(100, 2, 17)[:-1])
    assert int(state.n_updates) > 0
