"""The env contract on every MPE scenario: make, specs, shapes, errors, jit/vmap, determinism."""

from __future__ import annotations

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from dom2_jax.envs import make, registered_names
from dom2_jax.envs.mpe.opponents import still
from dom2_jax.envs.rollout import batch_returns, random_policy

MPE = {"mpe_spread": 18, "mpe_tag": 16, "mpe_world": 24}


@pytest.fixture(scope="module", params=sorted(MPE))
def env_params(request):
    return make(request.param)


def test_unknown_name_lists_valid_names():
    with pytest.raises(ValueError, match="mpe_spread") as err:
        make("mpe_spred")
    assert "valid names" in str(err.value)
    assert set(MPE) <= set(registered_names())


def test_unknown_override_names_fields():
    with pytest.raises(ValueError, match="dampng") as err:
        make("mpe_spread", dampng=0.3)
    assert "damping" in str(err.value)


def test_wrong_param_shape_is_refused():
    with pytest.raises(ValueError, match=r"'size'.*\(6,\)"):
        make("mpe_spread", size=jnp.ones(5))
    env, params = make("mpe_spread", damping=0.5, size=jnp.full(6, 0.1))
    assert float(params.damping) == 0.5


def test_shapes_and_specs(env_params):
    env, params = env_params
    obs, state = env.reset(jax.random.key(0), params)
    assert obs.shape == (3, MPE[env.name]) and obs.dtype == jnp.float32
    assert env.obs_sizes == (MPE[env.name],) * 3 and env.act_sizes == (2, 2, 2)
    env.observation_spec().validate(obs)
    actions = env.action_spec().generate_value()
    assert actions.shape == (3, 2)
    obs, state, rewards, dones, info = env.step(jax.random.key(1), state, actions, params)
    assert rewards.shape == dones.shape == (3,)
    assert info["terminated"].shape == info["truncated"].shape == (3,)
    assert env.obs_mask.all()


def test_bad_actions_fail_at_trace_time(env_params):
    env, params = env_params
    _, state = env.reset(jax.random.key(0), params)
    step = jax.jit(env.step)
    with pytest.raises(ValueError, match=r"\(3, 2\)"):
        step(jax.random.key(0), state, jnp.zeros((3, 5)), params)
    with pytest.raises(TypeError, match="float"):
        step(jax.random.key(0), state, jnp.zeros((3, 2), jnp.int32), params)


def test_episode_truncates_at_25_steps_and_is_finite(env_params):
    env, params = env_params
    obs, state = env.reset(jax.random.key(0), params)
    policy = random_policy(env)

    def body(carry, key):
        obs, state = carry
        obs, state, rew, dones, info = env.step(key, state, policy(key, obs), params)
        return (obs, state), (rew, dones, info["truncated"], info["terminated"])

    _, (rew, dones, trunc, term) = jax.jit(
        lambda s: jax.lax.scan(body, s, jax.random.split(jax.random.key(1), 25))
    )((obs, state))
    chex.assert_tree_all_finite(rew)
    assert not np.asarray(term).any()
    assert np.asarray(trunc)[-1].all() and not np.asarray(trunc)[:-1].any()
    assert np.array_equal(np.asarray(dones), np.asarray(trunc))


def test_step_compiles_once(env_params):
    env, params = env_params
    _, state = env.reset(jax.random.key(0), params)
    chex.clear_trace_counter()  # the counter is keyed by the (shared) method, not the env
    step = jax.jit(chex.assert_max_traces(env.step, n=1))
    for k in range(3):
        _, state, *_ = step(jax.random.key(k), state, jnp.zeros((3, 2)), params)


def test_vmap_over_params_changes_dynamics(env_params):
    """A batch of different params (here the integration step) is one vmapped call."""
    env, params = env_params
    batch = jax.tree.map(lambda x: jnp.stack([x, x]), params)
    batch = batch.replace(dt=jnp.array([0.1, 0.05], jnp.float32))
    keys = jax.random.split(jax.random.key(0), 2)
    _, states = jax.vmap(env.reset)(jnp.stack([keys[0], keys[0]]), batch)
    actions = jnp.ones((2, 3, 2))
    _, new, *_ = jax.vmap(env.step, in_axes=(0, 0, 0, 0))(keys, states, actions, batch)
    moved = np.linalg.norm(np.asarray(new.pos - states.pos)[:, :3], axis=-1)
    assert np.all(moved[0] > moved[1] * 1.5)


def test_same_key_same_result(env_params):
    env, params = env_params
    run = jax.jit(lambda k: batch_returns(env, params, random_policy(env), k, 4, 25))
    np.testing.assert_array_equal(run(jax.random.key(3)), run(jax.random.key(3)))
    assert not np.array_equal(run(jax.random.key(3)), run(jax.random.key(4)))


@pytest.mark.parametrize("name", ["mpe_tag", "mpe_world"])
def test_prey_policies_flee_or_approach_and_are_pluggable(name):
    env, params = make(name)
    assert env.opponent.name == "toward_predators"  # the calibrated scripted prey by default
    _, state = env.reset(jax.random.key(0), params)
    prey = env.n_agents
    # Put predator 0 just left of the prey, everyone else far away.
    pos = state.pos.at[prey].set(jnp.array([0.0, 0.0])).at[0].set(jnp.array([-0.3, 0.0]))
    pos = pos.at[1].set(jnp.array([0.0, 5.0])).at[2].set(jnp.array([0.0, -5.0]))
    state = state.replace(pos=pos)
    for opponent in ("co-trained", "heuristic"):
        env, params = make(name, opponent=opponent)
        _, moved, _, _, info = env.step(jax.random.key(0), state, jnp.zeros((3, 2)), params)
        assert float(info["opponent_actions"][0, 0]) > 0.3, opponent  # away from predator 0
        assert float(moved.pos[prey, 0]) > 0.0
    # the calibrated prey drifts toward the predators' centroid (-0.1, 0), at its gain
    env, params = make(name)
    _, moved, _, _, info = env.step(jax.random.key(0), state, jnp.zeros((3, 2)), params)
    gain = float(params.opponent["gain"])
    np.testing.assert_allclose(info["opponent_actions"][0], [-0.1 * gain, 0.0], atol=1e-6)
    env_still, params_still = make(name, opponent=still())
    _, moved, _, _, info = env_still.step(jax.random.key(0), state, jnp.zeros((3, 2)), params_still)
    assert np.all(np.asarray(info["opponent_actions"]) == 0.0)
    with pytest.raises(ValueError, match="unknown opponent"):
        make(name, opponent="sleepy")


def test_whole_params_object_is_validated():
    env, params = make("mpe_tag")
    make("mpe_tag", params=params.replace(dt=jnp.float32(0.05)))
    with pytest.raises(ValueError, match=r"accel.*\(4,\)"):
        make("mpe_tag", params=params.replace(accel=jnp.ones(3)))
    _, spread_params = make("mpe_spread")
    with pytest.raises(TypeError, match="TagParams"):
        make("mpe_tag", params=spread_params)


def test_auto_reset_starts_a_new_episode_and_keeps_final_obs():
    from dom2_jax.envs.wrappers import AutoReset

    env, params = make("mpe_spread")
    wrapped = AutoReset(env)
    obs, state = wrapped.reset(jax.random.key(0), params)

    def body(carry, key):
        obs, state = carry
        obs, state, rew, dones, info = wrapped.step(key, state, jnp.ones((3, 2)), params)
        return (obs, state), (obs, state.t, dones, info["final_obs"])

    _, (obs, t, dones, final_obs) = jax.jit(
        lambda c: jax.lax.scan(body, c, jax.random.split(jax.random.key(1), 60))
    )((obs, state))
    t, dones = np.asarray(t), np.asarray(dones)
    assert list(np.flatnonzero(dones[:, 0])) == [24, 49]
    assert t[24] == 0 and t[25] == 1 and t[23] == 24
    # The first obs of the new episode replaces the last one, which stays in final_obs.
    assert not np.allclose(obs[24], final_obs[24])
    np.testing.assert_array_equal(obs[23], final_obs[23])
