"""Multi-agent MuJoCo on Brax: partitions, observations, shared reward, params shifts, rollouts.

Partition reference: gymnasium-robotics' MaMuJoCo (`mamujoco_v1`, `obsk.get_parts_and_edges`)
and OMAR's MaMuJoCo: HalfCheetah 2x3 = back leg {bthigh, bshin, bfoot} / front leg {fthigh,
fshin, ffoot}; 6x1 one joint each; Hopper 3x1; Walker2d 2x3 = right / left leg; Ant 2x4 =
{hip1, ankle1, hip2, ankle2} / {hip3, ankle3, hip4, ankle4}; Ant 4x2 one leg each. With obsk=0
and no global categories (OMAR's HalfCheetah protocol) an agent sees qpos and qvel of its joints.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from dom2_jax.envs import make

PUBLISHED = {
    "halfcheetah_2x3": [{"bthigh", "bshin", "bfoot"}, {"fthigh", "fshin", "ffoot"}],
    "halfcheetah_6x1": [{"bthigh"}, {"bshin"}, {"bfoot"}, {"fthigh"}, {"fshin"}, {"ffoot"}],
    "hopper_3x1": [{"thigh_joint"}, {"leg_joint"}, {"foot_joint"}],
    "walker2d_2x3": [
        {"thigh_joint", "leg_joint", "foot_joint"},
        {"thigh_left_joint", "leg_left_joint", "foot_left_joint"},
    ],
    "ant_2x4": [{"hip1", "ankle1", "hip2", "ankle2"}, {"hip3", "ankle3", "hip4", "ankle4"}],
    "ant_4x2": [{"hip1", "ankle1"}, {"hip2", "ankle2"}, {"hip3", "ankle3"}, {"hip4", "ankle4"}],
}


@pytest.fixture(scope="module")
def cheetah():
    env, params = make("halfcheetah_2x3")
    return env, params, jax.jit(env.step)


@pytest.mark.parametrize("name", sorted(PUBLISHED))
def test_partitions_match_mamujoco_and_brax(name):
    env, params = make(name)
    parts = env.robot.partitions[env.split]
    assert [set(p) for p in parts] == PUBLISHED[name]
    sys = env.base_sys
    for joint in env.robot.joints:  # our joint table agrees with brax's actuator wiring
        assert int(sys.actuator.q_id[joint.act]) == joint.q
        assert int(sys.actuator.qd_id[joint.act]) == joint.qd
    covered = sorted(int(a) for a in env.agent_actuators.reshape(-1) if a >= 0)
    assert covered == list(range(sys.act_size()))  # every actuator has exactly one agent
    assert env.act_sizes == tuple(len(p) for p in parts)
    obs, _ = env.reset(jax.random.key(0), params)
    assert obs.shape == (env.n_agents, max(env.obs_sizes))
    assert np.all(np.asarray(obs)[~env.obs_mask] == 0.0)


def test_halfcheetah_protocol_observations(cheetah):
    env, params, _ = cheetah
    assert env.n_agents == 2 and env.act_sizes == (3, 3) and env.obs_sizes == (6, 6)
    obs, state = env.reset(jax.random.key(1), params)
    q = np.asarray(state.brax.pipeline_state.q)
    qd = np.asarray(state.brax.pipeline_state.qd)
    # agent 0: (bfoot, bshin, bthigh) each as (qpos, qvel); agent 1 the front leg
    np.testing.assert_allclose(obs[0], [q[5], qd[5], q[4], qd[4], q[3], qd[3]], rtol=1e-6)
    np.testing.assert_allclose(obs[1], [q[8], qd[8], q[7], qd[7], q[6], qd[6]], rtol=1e-6)
    np.testing.assert_allclose(env.global_state(state, params), state.brax.obs)
    assert env.global_state(state, params).shape == (17,)


def test_team_reward_is_the_single_agent_reward(cheetah):
    env, params, step = cheetah
    _, state = env.reset(jax.random.key(2), params)
    actions = jnp.array([[0.3, -0.5, 0.9], [-0.2, 0.4, 0.1]])  # agent 0: bfoot, bshin, bthigh
    _, new, rewards, dones, _ = step(jax.random.key(0), state, actions, params)
    joint_action = jnp.array([0.9, -0.5, 0.3, 0.1, 0.4, -0.2])  # brax order: bthigh..ffoot
    single = jax.jit(env.brax_env.step)(state.brax, joint_action)
    np.testing.assert_allclose(rewards, [single.reward] * 2, rtol=1e-6)
    np.testing.assert_allclose(new.brax.pipeline_state.q, single.pipeline_state.q, rtol=1e-6)
    assert not np.asarray(dones).any()


def test_vmap_over_params_changes_dynamics(cheetah):
    env, params, _ = cheetah
    batch = jax.tree.map(lambda x: jnp.stack([x, x]), params)
    batch = batch.replace(mass_scale=batch.mass_scale.at[1].multiply(3.0))
    keys = jnp.stack([jax.random.key(3)] * 2)
    _, states = jax.vmap(env.reset)(keys, batch)
    actions = jnp.ones((2, 2, 3))

    def ten_steps(state, params, act):
        def body(s, _):
            return env.step(jax.random.key(0), s, act, params)[1], None

        return jax.lax.scan(body, state, None, length=10)[0]

    out = jax.jit(jax.vmap(ten_steps))(states, batch, actions)
    q = np.asarray(out.brax.pipeline_state.q)
    assert np.all(np.isfinite(q)) and not np.allclose(q[0], q[1], atol=1e-3)


def test_thousand_step_scan_rollout_truncates(cheetah):
    env, params, _ = cheetah
    obs, state = env.reset(jax.random.key(4), params)

    def body(carry, t):
        s = carry
        a = 0.5 * jnp.sin(0.3 * t + jnp.arange(6.0)).reshape(2, 3)
        _, s, r, d, info = env.step(jax.random.key(0), s, a, params)
        return s, (r[0], info["truncated"][0])

    _, (rewards, truncated) = jax.jit(
        lambda s: jax.lax.scan(body, s, jnp.arange(1000, dtype=jnp.float32))
    )(state)
    assert np.all(np.isfinite(rewards))
    assert bool(truncated[-1]) and not np.asarray(truncated[:-1]).any()
