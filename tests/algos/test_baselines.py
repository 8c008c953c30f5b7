"""The non-diffusion baselines (bc, matd3bc, macql, omar): configs, behaviour on toys, trainer.

Toys are one agent with a 1-D observation and a 2-D action whose second dimension is padding
(masked out of the losses, zeroed in actions); each toy is one compiled `lax.scan`.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from dom2_jax.algos.bc import make_bc
from dom2_jax.algos.core import AgentSpec, agent_batch
from dom2_jax.algos.macql import CQLWeights, make_macql
from dom2_jax.algos.matd3bc import TD3BCWeights, make_matd3bc
from dom2_jax.algos.omar import rectified_actions, zeroth_order_search
from dom2_jax.config import from_dict, preset, to_dict
from dom2_jax.config.baselines import BCConfig, MACQLConfig, MATD3BCConfig, OMARConfig
from dom2_jax.nets.critics import QNetwork, apply_ensemble
from dom2_jax.train import batched_init, chunk_program, make_train_data, seed_keys

ALGOS = ("bc", "matd3bc", "macql", "omar")
SPEC = AgentSpec(1, 1, 2, np.array([[True, False]]))  # 1 agent, obs 1-D, action 1 real + 1 pad
B = 64


def toy_batch(key, actions_fn, rewards=0.0, terminal=True):
    """`B` transitions of SPEC's agent: obs ~ U[-1, 1], actions `actions_fn(obs, key)` in dim 0
    and noise in the padded dim (which must be ignored)."""
    k_obs, k_pad, k_act = jax.random.split(key, 3)
    obs = jax.random.uniform(k_obs, (B, 1, 1), minval=-1, maxval=1)
    pad = jax.random.uniform(k_pad, (B, 1, 1), minval=-1, maxval=1)
    actions = jnp.concatenate([actions_fn(obs, k_act), pad], axis=-1)
    rewards = jnp.full((B, 1), rewards)
    return agent_batch(obs, actions, rewards, obs, jnp.full((B, 1), terminal))


def train_toy(algo, state, actions_fn, n_updates, rewards=0.0):
    def body(s, i):
        batch = toy_batch(jax.random.fold_in(jax.random.key(1), i), actions_fn, rewards)
        s, metrics = algo.update(s, batch, jax.random.fold_in(jax.random.key(2), i))
        return s, metrics

    return jax.lax.scan(body, state, jnp.arange(n_updates))  # updates


def policy_on(algo, state, obs):
    return jax.vmap(lambda o: algo.act(state, o.reshape(1, 1), jax.random.key(0))[0])(obs)


# ----- configs ----------------------------------------------------------------------------------
def test_presets_tables_and_round_trip():
    omar = preset("paper", env="mpe_tag", level="medium", algo="omar").algo
    assert (omar.cql_alpha, omar.omar_coe, omar.hidden, omar.batch_size) == (
        5.0,
        0.7,
        (64, 64),
        1024,
    )
    cheetah = preset("paper", env="halfcheetah_2x3", level="expert", algo="omar").algo
    assert (cheetah.hidden, cheetah.actor_lr, cheetah.batch_size, cheetah.tau) == (
        (256, 256),
        3e-4,
        256,
        0.005,
    )
    assert (cheetah.omar_update, cheetah.omar_samples, cheetah.omar_coe) == ("elites", 20, 0.5)
    cpu = preset("cpu", env="halfcheetah_2x3", level="random", algo="macql").algo
    assert (cpu.hidden, cpu.batch_size, cpu.cql_alpha) == ((64, 64), 256, 1.0)
    td3bc = preset("paper", algo="matd3bc").algo
    assert (td3bc.alpha, td3bc.target_noise, td3bc.policy_delay, td3bc.action_reg) == (
        2.5,
        0.2,
        2,
        0.0,
    )
    for algo in ALGOS:
        for name in ("paper", "cpu", "tiny"):
            config = preset(name, env="mpe_world", level="medium-replay", algo=algo)
            assert from_dict(to_dict(config)) == config
    with pytest.raises(ValueError, match="OMARConfig field 'omar_elites'"):
        OMARConfig(omar_update="elites", omar_elites=30)
    with pytest.raises(ValueError, match="MATD3BCConfig field 'policy_delay'"):
        MATD3BCConfig(policy_delay=0)
    with pytest.raises(ValueError, match="BCConfig field 'batch_size'"):
        BCConfig(batch_size=0)
    assert MACQLConfig().for_task("mpe_spread", "random").cql_alpha == 0.5


# ----- behaviour on toys ------------------------------------------------------------------------
def test_bc_matches_the_data_mean_and_ignores_padding():
    """Constant observation, actions 0.3 + noise: the MSE minimiser is the data mean, 0.3."""
    algo = make_bc(BCConfig(hidden=(16,), batch_size=B), SPEC)

    def noisy(obs, key):
        return 0.3 + 0.3 * jax.random.normal(key, obs.shape)

    def body(s, i):
        batch = toy_batch(jax.random.fold_in(jax.random.key(3), i), noisy)
        batch = batch.replace(obs=jnp.zeros_like(batch.obs))  # constant observation
        return algo.update(s, batch, jax.random.key(0))

    state, metrics = jax.jit(lambda s: jax.lax.scan(body, s, jnp.arange(400)))(
        algo.init(jax.random.key(0))
    )
    action = np.asarray(algo.act(state, jnp.zeros((1, 1)), jax.random.key(0)))[0]
    assert abs(action[0] - 0.3) < 0.04 and action[1] == 0.0, action
    assert np.all(np.isfinite(np.asarray(metrics["bc_loss"])))


def test_td3bc_bc_term_pulls_toward_data_actions():
    """alpha ~ 0 (a traced weight, no recompilation): the policy becomes the data's a = 0.5 o."""
    algo = make_matd3bc(MATD3BCConfig(hidden=(32, 32), batch_size=B), SPEC)
    state = algo.init(jax.random.key(0), TD3BCWeights(jnp.float32(1e-4)))
    state, metrics = jax.jit(lambda s: train_toy(algo, s, lambda o, k: 0.5 * o, 300, rewards=1.0))(
        state
    )
    grid = jnp.linspace(-0.9, 0.9, 7)
    actions = np.asarray(policy_on(algo, state, grid))
    np.testing.assert_allclose(actions[:, 0], 0.5 * np.asarray(grid), atol=0.06)
    assert np.all(actions[:, 1] == 0.0)
    assert all(np.all(np.isfinite(np.asarray(v))) for v in metrics.values())


@pytest.mark.slow
def test_cql_lowers_q_off_data_relative_to_data():
    """Data actions at 0.5, reward 1, terminal: CQL's critic ranks the data action above others
    by a clear margin, and by more than the same critic trained without CQL (alpha 0)."""
    config = MACQLConfig(
        hidden=(32, 32), batch_size=B, actor_lr=3e-3, critic_lr=3e-3, critic_input_norm=False
    )  # without batch statistics, Q of single actions is defined
    algo = make_macql(config, SPEC)

    def run(alpha):
        state = algo.init(jax.random.key(0), CQLWeights(alpha))
        return train_toy(algo, state, lambda o, k: jnp.full_like(o, 0.5), 300, rewards=1.0)[0]

    states = jax.jit(jax.vmap(run))(jnp.array([0.0, 2.0], jnp.float32))  # alphas
    net = QNetwork((32, 32), activation="relu")
    obs = jnp.zeros((5, 1))
    acts = jnp.array([[0.5, 0.0], [-0.9, 0.0], [-0.4, 0.0], [0.0, 0.0], [0.95, 0.0]])
    gaps = []
    for s in range(2):
        critic = jax.tree.map(lambda x, s=s: x[s, 0], states.agents.critic)  # alpha s, agent 0
        q = np.asarray(apply_ensemble(net, critic, obs, acts)).mean(axis=0)  # twins
        gaps.append(q[0] - q[1:].max())
    no_cql, cql = gaps
    assert cql > 0.5 and cql > no_cql + 0.5, gaps


@pytest.mark.parametrize("update", ["softmax", "elites"])
def test_omar_search_beats_the_actor_on_a_quadratic(update):
    """Q(o, a) = -||a - a*(o)||^2 with a*(o) = (0.6 o, -0.5): from pi(o) = 0 the search finds
    actions of higher Q, close to a*."""
    obs = jnp.linspace(-1, 1, 32)[:, None]
    target = jnp.concatenate([0.6 * obs, jnp.full_like(obs, -0.5)], axis=1)

    def q_fn(o, a):
        return -jnp.sum((a - jnp.concatenate([0.6 * o, jnp.full_like(o, -0.5)], 1)) ** 2, -1)

    mask = jnp.ones(2)
    best, best_q = jax.jit(
        lambda k: zeroth_order_search(q_fn, obs, k, mask, 3, 64, 8, update=update)
    )(jax.random.key(0))
    pi = jnp.zeros_like(target)
    assert np.all(np.asarray(best_q) > np.asarray(q_fn(obs, pi)))
    np.testing.assert_allclose(best_q, q_fn(obs, best), rtol=1e-6)
    assert float(jnp.mean(jnp.abs(best - target))) < 0.1
    # the imitation target: the search's action where it beats pi, pi where pi is better
    pi = pi.at[16:].set(target[16:])  # rows >= 16: the actor sits at the optimum
    rectified = rectified_actions(pi, q_fn(obs, pi), best, best_q)
    np.testing.assert_array_equal(rectified[:16], best[:16])
    np.testing.assert_array_equal(rectified[16:], target[16:])
    # a padded action dimension stays zero
    best_pad, _ = zeroth_order_search(
        q_fn, obs, jax.random.key(1), jnp.array([1.0, 0.0]), 2, 16, 4, update=update
    )
    assert np.all(np.asarray(best_pad[:, 1]) == 0.0)


# ----- the one trainer --------------------------------------------------------------------------
@pytest.mark.slow
@pytest.mark.parametrize("algo", ALGOS)
def test_trainer_runs_each_baseline(algo, tiny_dataset):
    """Tiny preset, one compiled chunk vmapped over 2 seeds: params move, all finite."""
    config = preset("tiny", level="random", algo=algo)
    fns, chunk = chunk_program(config)  # the host loop's program
    data = make_train_data(tiny_dataset, "mpe_spread", config)
    init = batched_init(fns.init)(seed_keys(0, 2))  # seeds
    states, out = chunk(init, data)  # seeds
    assert out.eval_returns.shape == (2, 1, 1, config.train.eval_episodes, 3)
    assert np.all(np.isfinite(np.asarray(out.eval_returns)))
    for name, value in out.metrics.items():
        assert value.shape == (2, 1, 3) and np.all(np.isfinite(np.asarray(value))), name
    assert np.all(np.asarray(states.algo.step) == 4)
    before, after = init.algo.agents.actor, states.algo.agents.actor
    moved = [
        not np.allclose(x, y)
        for x, y in zip(jax.tree.leaves(before), jax.tree.leaves(after), strict=True)
    ]
    assert all(moved)
