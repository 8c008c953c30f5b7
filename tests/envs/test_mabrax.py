"""Multi-agent MuJoCo on Brax: partitions, observations, shared reward, params shifts, rollouts.

Reference tables (`PUBLISHED`), cited from gymnasium-robotics 1.4 MaMuJoCo (`mamujoco_v1`;
gymnasium_robotics/envs/multiagent_mujoco/obsk.py `get_parts_and_edges`, default
`global_categories=("qpos", "qvel")` and `agent_obsk=1` in mujoco_multi.py), whose partition order
is each agent's action order:
  HalfCheetah 2x3: (bthigh, bshin, bfoot) / (fthigh, fshin, ffoot); 6x1: one joint each.
  Hopper 3x1: thigh_joint / leg_joint / foot_joint.
  Walker2d 2x3: (foot_joint, leg_joint, thigh_joint) / (foot_left_joint, leg_left_joint,
  thigh_left_joint).
  Ant 2x4: (hip1, ankle1, hip2, ankle2) / (hip3, ankle3, hip4, ankle4); 4x2: one leg each.
Observation sizes are MaMuJoCo's for our defaults (Ant without its `cfrc_ext` category, which brax
cannot provide); halfcheetah_2x3 uses OMAR's protocol (original MaMuJoCo, `agent_obsk=0`, no
global categories): 6 numbers per agent, (qpos, qvel) of its joints sorted by name.
When gymnasium-robotics is installed, `test_matches_gymnasium_robotics` compares values too.
"""

from __future__ import annotations

import inspect

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from dom2_jax.envs import mabrax, make

PUBLISHED = {  # name -> (agent -> joints in action order, obs sizes at our default obsk/globals)
    "halfcheetah_2x3": ([("bthigh", "bshin", "bfoot"), ("fthigh", "fshin", "ffoot")], (6, 6)),
    "halfcheetah_6x1": (
        [("bthigh",), ("bshin",), ("bfoot",), ("fthigh",), ("fshin",), ("ffoot",)],
        (9, 9, 8, 9, 9, 8),
    ),
    "hopper_3x1": ([("thigh_joint",), ("leg_joint",), ("foot_joint",)], (8, 9, 8)),
    "walker2d_2x3": (
        [
            ("foot_joint", "leg_joint", "thigh_joint"),
            ("foot_left_joint", "leg_left_joint", "thigh_left_joint"),
        ],
        (12, 12),
    ),
    "ant_2x4": (
        [("hip1", "ankle1", "hip2", "ankle2"), ("hip3", "ankle3", "hip4", "ankle4")],
        (21, 21),
    ),
    "ant_4x2": (
        [("hip1", "ankle1"), ("hip2", "ankle2"), ("hip3", "ankle3"), ("hip4", "ankle4")],
        (18, 18, 18, 18),
    ),
}
# brax/gymnasium actuator order, per robot
ACTUATORS = {
    "halfcheetah": ["bthigh", "bshin", "bfoot", "fthigh", "fshin", "ffoot"],
    "hopper": ["thigh_joint", "leg_joint", "foot_joint"],
    "walker2d": [
        "thigh_joint",
        "leg_joint",
        "foot_joint",
        "thigh_left_joint",
        "leg_left_joint",
        "foot_left_joint",
    ],
    "ant": ["hip4", "ankle4", "hip1", "ankle1", "hip2", "ankle2", "hip3", "ankle3"],
}


@pytest.fixture(scope="module")
def splits():
    return {name: make(name)[0] for name in PUBLISHED}


@pytest.fixture(scope="module")
def cheetah():
    env, params = make("halfcheetah_2x3")
    return env, params, jax.jit(env.step), jax.jit(env.reset)


def random_pose(env, seed=0):
    rng = np.random.default_rng(seed)
    sys = env.base_sys
    return rng.normal(size=sys.q_size()) * 3, rng.normal(size=sys.qd_size()) * 8


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(PUBLISHED))
def test_partitions_and_obs_sizes_match_published_tables(splits, name):
    env = splits[name]
    parts, obs_sizes = PUBLISHED[name]
    assert [tuple(p) for p in env.robot.partitions[env.split]] == parts
    assert env.n_agents == len(parts) and env.act_sizes == tuple(len(p) for p in parts)
    assert env.obs_sizes == obs_sizes
    order = ACTUATORS[env.robot.brax_name]
    for i, part in enumerate(parts):  # agent i's action entry k drives joint part[k]
        assert list(env.agent_actuators[i, : len(part)]) == [order.index(j) for j in part]
    sys = env.base_sys
    for joint in env.robot.joints:  # the joint table agrees with brax's actuator wiring
        assert int(sys.actuator.q_id[joint.act]) == joint.q
        assert int(sys.actuator.qd_id[joint.act]) == joint.qd
    covered = sorted(int(a) for a in env.agent_actuators.reshape(-1) if a >= 0)
    assert covered == list(range(sys.act_size()))  # every actuator has exactly one agent
    q, qd = random_pose(env)
    obs = np.asarray(env.observe_q(jnp.asarray(q), jnp.asarray(qd)))
    assert obs.shape == (env.n_agents, max(obs_sizes)) and obs.dtype == np.float32
    assert np.all(obs[~env.obs_mask] == 0.0)
    actions = jnp.asarray(np.random.default_rng(1).uniform(-1, 1, sys.act_size()), jnp.float32)
    local = env.local_actions(actions)
    assert local.shape == (env.n_agents, env.act_dim)
    np.testing.assert_array_equal(env.global_action(local), actions)


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(PUBLISHED))
def test_matches_gymnasium_robotics(splits, name):
    mamujoco = pytest.importorskip(
        "gymnasium_robotics.envs.multiagent_mujoco.mujoco_multi",
        reason="gymnasium-robotics (MaMuJoCo v1) not installed; the cited tables still run",
    )
    env = splits[name]
    robot = env.robot
    ref = mamujoco.MultiAgentMujocoEnv(
        robot.mamujoco_name,
        env.split,
        agent_obsk=env.obsk,
        global_categories=("qpos", "qvel") if env.global_obs else (),
        # brax has no contact forces: compare Ant with MaMuJoCo's categories minus cfrc_ext
        local_categories=[
            list(robot.k_categories[min(d, len(robot.k_categories) - 1)])
            for d in range(env.obsk + 1)
        ],
    )
    ref_parts = ref.agent_action_partitions
    assert [tuple(n.label for n in p) for p in ref_parts] == list(robot.partitions[env.split])
    assert [[n.act_ids for n in p] for p in ref_parts] == [
        list(a[a >= 0]) for a in env.agent_actuators
    ]
    default_cats = ref._generate_local_categories(robot.mamujoco_name)
    assert [[c for c in cats if c not in robot.omitted] for cats in default_cats] == [
        list(robot.k_categories[min(d, len(robot.k_categories) - 1)]) for d in range(env.obsk + 1)
    ]
    ref.reset(seed=0)
    data = ref.single_agent_env.unwrapped.data
    data.qpos[:], data.qvel[:] = random_pose(env, seed=2)
    ours = np.asarray(env.observe_q(jnp.asarray(data.qpos), jnp.asarray(data.qvel)))
    for i in range(env.n_agents):
        expected = ref._get_obs_agent(i)
        assert len(expected) == env.obs_sizes[i]
        np.testing.assert_allclose(ours[i, : len(expected)], expected, rtol=1e-5, atol=1e-5)


@pytest.mark.slow
def test_make_halfcheetah_2x3_and_factory_signatures():
    env, params = make("halfcheetah_2x3", obsk=1, mass_scale=np.full(7, 2.0))
    assert (
        env.n_agents == 2 and env.act_sizes == (3, 3) and env.obs_sizes == (7, 7)
    )  # + fthigh qpos (back leg)
    np.testing.assert_allclose(params.mass_scale, 2.0)
    assert int(params.max_steps) == 1000
    for name in PUBLISHED:
        assert list(inspect.signature(getattr(mabrax, name)).parameters) == [
            "obsk",
            "global_obs",
            "backend",
        ]
    with pytest.raises(ValueError, match="backend"):
        make("halfcheetah_2x3", backend="nope")


@pytest.mark.slow
def test_halfcheetah_protocol_observations(cheetah):
    env, params, _, reset = cheetah
    assert env.obs_sizes == (6, 6) and env.obs_dim == 6 and env.act_dim == 3
    obs, state = reset(jax.random.key(1), params)
    q = np.asarray(state.brax.pipeline_state.q)
    qd = np.asarray(state.brax.pipeline_state.qd)
    # agent 0 sees (bfoot, bshin, bthigh) each as (qpos, qvel); agent 1 the front leg likewise
    np.testing.assert_allclose(obs[0], [q[5], qd[5], q[4], qd[4], q[3], qd[3]], rtol=1e-6)
    np.testing.assert_allclose(obs[1], [q[8], qd[8], q[7], qd[7], q[6], qd[6]], rtol=1e-6)
    state_obs = env.global_state(state, params)
    assert state_obs.shape == (17,)  # MuJoCo HalfCheetah's observation: qpos[1:], qvel
    np.testing.assert_allclose(state_obs, np.concatenate([q[1:], qd]), rtol=1e-6)
    assert env.observation_spec().shape == (2, 6) and env.action_spec().shape == (2, 3)


@pytest.mark.slow
def test_team_reward_is_the_single_agent_brax_reward(cheetah):
    from brax import envs as brax_envs

    env, params, step, reset = cheetah
    single = brax_envs.get_environment("halfcheetah", backend=env.backend)
    _, state = reset(jax.random.key(2), params)
    actions = jnp.array([[0.9, -0.5, 0.3], [0.1, 0.4, -0.2]])  # agent 0: bthigh, bshin, bfoot
    joint_action = jnp.array([0.9, -0.5, 0.3, 0.1, 0.4, -0.2])  # brax order: bthigh..ffoot
    single_step = jax.jit(single.step)
    s_multi, s_single = state, state.brax
    for _ in range(3):
        _, s_multi, rewards, dones, info = step(jax.random.key(0), s_multi, actions, params)
        s_single = single_step(s_single, joint_action)
        np.testing.assert_allclose(rewards, [s_single.reward] * 2, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(
            s_multi.brax.pipeline_state.q, s_single.pipeline_state.q, rtol=1e-5, atol=1e-6
        )
        assert not np.asarray(dones).any() and not np.asarray(info["truncated"]).any()
    with pytest.raises(ValueError, match="actions must have shape"):
        env.step(jax.random.key(0), state, jnp.zeros((6,)), params)


@pytest.mark.slow
def test_vmap_over_params_changes_dynamics_without_recompiling(cheetah):
    env, params, _, _ = cheetah
    variants = [
        params,
        params.replace(mass_scale=params.mass_scale * 3.0),
        env.scale_agent(params, 0, gear=0.2),  # a weak back leg
        params.replace(gravity=jnp.array([0.0, 0.0, -3.0])),
    ]
    batch = jax.tree.map(lambda *xs: jnp.stack(xs), *variants)
    keys = jnp.stack([jax.random.key(3)] * len(variants))
    traces = []

    def ten_steps(key, params):
        traces.append(1)
        _, state = env.reset(key, params)
        act = jnp.ones((2, 3))

        def body(s, _):
            return env.step(jax.random.key(0), s, act, params)[1], None

        return jax.lax.scan(body, state, None, length=10)[0].brax.pipeline_state.q

    run = jax.jit(jax.vmap(ten_steps))  # params batch
    q = np.asarray(run(keys, batch))
    assert np.all(np.isfinite(q))
    for i in range(len(variants)):
        for j in range(i):
            assert not np.allclose(q[i], q[j], atol=1e-3), (i, j)
    q2 = np.asarray(run(keys, batch.replace(mass_scale=batch.mass_scale * 0.5)))
    assert len(traces) == 1 and not np.allclose(q2[1], q[1], atol=1e-3)


@pytest.mark.slow
def test_thousand_step_scan_rollout_truncates(cheetah):
    env, params, _, reset = cheetah
    _, state = reset(jax.random.key(4), params)

    def body(s, t):
        a = 0.5 * jnp.sin(0.3 * t + jnp.arange(6.0)).reshape(2, 3)
        _, s, r, d, info = env.step(jax.random.key(0), s, a, params)
        return s, (r, d, info["truncated"], info["terminated"])

    final, (rewards, dones, truncated, terminated) = jax.jit(
        lambda s: jax.lax.scan(body, s, jnp.arange(1000, dtype=jnp.float32))
    )(state)
    assert rewards.shape == (1000, 2) and np.all(np.isfinite(rewards))
    np.testing.assert_array_equal(rewards[:, 0], rewards[:, 1])  # shared team reward
    assert int(final.t) == 1000 and not np.asarray(terminated).any()
    assert np.asarray(truncated[-1]).all() and not np.asarray(truncated[:-1]).any()
    np.testing.assert_array_equal(dones, truncated)
