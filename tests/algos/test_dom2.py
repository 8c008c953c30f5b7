"""DOM2's pieces on toy problems: CQL sign, reweighting, the Q term, the denoising loss."""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from dom2_jax.algos.common import cql_penalty, ema_update, td_target
from dom2_jax.algos.core import AgentSpec, agent_batch
from dom2_jax.algos.dom2 import make_dom2
from dom2_jax.config import DiffusionConfig, DOM2Config, ReweightConfig
from dom2_jax.data.reweight import episode_copies, sample_from_cdf, sampling_cdf

TOY = DOM2Config(
    diffusion=DiffusionConfig(n_steps=5, n_sample_steps=5, hidden=(32, 32), time_dim=8),
    critic_hidden=(32, 32),
    batch_size=64,
    ema_start=0,
    actor_lr=3e-3,
    critic_lr=3e-3,
)


def test_cql_penalty_sign():
    """Positive when Q prefers random actions to the data's; lower when Q rates data highest."""
    obs = jnp.zeros((32, 1))
    data = jnp.full((32, 1), 0.5)
    mask = jnp.array([True])
    likes_data = lambda o, a: -10.0 * jnp.abs(a[..., 0] - 0.5)  # noqa: E731
    likes_edges = lambda o, a: 10.0 * jnp.abs(a[..., 0] - 0.5)  # noqa: E731
    low = cql_penalty(likes_data, obs, data, jax.random.key(0), 10, mask)
    high = cql_penalty(likes_edges, obs, data, jax.random.key(0), 10, mask)
    assert float(high) > float(low) and float(high) > 0.0
    # gradient of the penalty w.r.t. a constant shift of Q is zero (CQL only ranks actions)
    flat = cql_penalty(lambda o, a: jnp.zeros(a.shape[:-1]), obs, data, jax.random.key(0), 10, mask)
    np.testing.assert_allclose(flat, np.log(10) + np.log(2.0), rtol=1e-5)


def test_td_target_bootstraps_truncations_not_terminals():
    r, q = jnp.array([1.0, 1.0]), jnp.array([10.0, 10.0])
    np.testing.assert_allclose(td_target(r, jnp.array([False, True]), q, 0.9), [10.0, 1.0])


def test_ema_schedule():
    online, ema = jnp.ones(()), jnp.zeros(())
    assert float(ema_update(ema, online, jnp.int32(3), 0.9, 5, 10)) == 1.0  # before start: copy
    assert float(ema_update(ema, online, jnp.int32(15), 0.9, 5, 10)) == pytest.approx(0.1)
    assert float(ema_update(ema, online, jnp.int32(16), 0.9, 5, 10)) == 0.0  # not this step


def test_reweighting_probabilities():
    returns = np.arange(100, dtype=np.float64)  # episode e has return e
    copies = episode_copies(returns, ReweightConfig())
    assert copies[0] == 1 and copies[60] == 2 and copies[85] == 5 and copies[99] == 10
    assert np.all(episode_copies(returns, ReweightConfig(enabled=False)) == 1)
    weights = copies / copies.sum()
    idx = np.asarray(sample_from_cdf(jax.random.key(0), sampling_cdf(weights), 200_000))
    freq = np.bincount(idx, minlength=100) / len(idx)
    np.testing.assert_allclose(freq, weights, atol=3e-3)


def one_agent(config=TOY, act_dim=1):
    return make_dom2(config, AgentSpec(1, 1, act_dim, np.ones((1, act_dim), bool)))


def test_q_term_moves_actions_toward_higher_q():
    """A frozen critic that prefers a = +0.8: the pure Q term (no data, eta large) gets there."""
    algo = one_agent(dataclasses.replace(TOY, eta=1.0, critic_lr=0.0, cql_alpha=0.0))
    state = jax.jit(algo.init)(jax.random.key(0))  # one program, not op by op

    # Replace the critics by a fixed function of the action: Q = -(a - 0.8)^2 + 2 (both copies),
    # written into the first layer-free path by training them briefly on that target.
    def critic_target(a):
        return 2.0 - (a - 0.8) ** 2

    obs = jnp.zeros((64, 1, 1))
    acts = jax.random.uniform(jax.random.key(1), (64, 1, 1), minval=-1, maxval=1)
    # Offline data sits at a = -0.5 with rewards equal to the critic's preference: the critic
    # learns Q(a) ~ critic_target(a) only if trained, so fit the critic first (critic_lr > 0).
    fit = one_agent(dataclasses.replace(TOY, eta=0.0, cql_alpha=0.0, gamma=0.01))
    fstate = jax.jit(fit.init)(jax.random.key(0))
    fupdate = jax.jit(fit.update)
    for i in range(300):
        a = jax.random.uniform(jax.random.key(100 + i), (64, 1, 1), minval=-1, maxval=1)
        b = agent_batch(obs, a, critic_target(a[..., 0]), obs, jnp.ones((64, 1), bool))
        fstate, _ = fupdate(fstate, b, jax.random.key(i))
    state = state.replace(agents=state.agents.replace(critic=fstate.agents.critic))
    update = jax.jit(algo.update)
    data = agent_batch(
        obs, jnp.full_like(acts, -0.5), jnp.zeros((64, 1)), obs, jnp.ones((64, 1), bool)
    )
    keys = jax.random.split(jax.random.key(7), 64)
    actions = jax.jit(jax.vmap(lambda s, k: algo.act(s, jnp.zeros((1, 1)), k), in_axes=(None, 0)))
    before = np.asarray(actions(state, keys)).mean()
    for i in range(150):
        state, _ = update(state, data, jax.random.key(1000 + i))
    after = np.asarray(actions(state, keys)).mean()
    assert after > before + 0.3 and after > 0.3, (before, after)


@pytest.mark.slow
def test_denoising_loss_falls_and_samples_are_bimodal(optimised_compiles):
    """BC only (eta 0): data at -0.6 and +0.6; the samples pile up at both modes, not between.

    Five diffusion steps cannot separate modes this close completely (the last step's x0
    prediction is a posterior mean), so the check is on densities: each mode's neighbourhood
    holds clearly more samples than the same width around the midpoint.
    """
    config = dataclasses.replace(
        TOY,
        eta=0.0,
        cql_alpha=0.0,
        actor_lr=2e-3,  # 1500 updates: the margins of 3000 at 1e-3, in two thirds of the time
        diffusion=DiffusionConfig(n_steps=5, n_sample_steps=5, hidden=(64, 64), time_dim=8),
    )
    algo = one_agent(config)
    obs = jnp.zeros((256, 1, 1))

    def body(state, i):
        coin = jax.random.bernoulli(jax.random.fold_in(jax.random.key(0), i), 0.5, (256, 1, 1))
        b = agent_batch(
            obs, jnp.where(coin, 0.6, -0.6), jnp.zeros((256, 1)), obs, jnp.ones((256, 1), bool)
        )
        state, m = algo.update(state, b, jax.random.fold_in(jax.random.key(1), i))
        return state, m["bc_loss"][0]

    state, losses = jax.jit(lambda s: jax.lax.scan(body, s, jnp.arange(1500)))(
        algo.init(jax.random.key(0))
    )
    losses = np.asarray(losses)
    assert losses[-200:].mean() < 0.8 * losses[:50].mean()
    samples = np.asarray(
        jax.jit(jax.vmap(lambda k: algo.act(state, jnp.zeros((1, 1)), k)))(
            jax.random.split(jax.random.key(3), 1000)
        )
    )[:, 0, 0]
    mass = lambda lo, hi: np.mean((samples >= lo) & (samples < hi))  # noqa: E731
    middle = mass(-0.15, 0.15)
    assert mass(0.45, 0.75) > 1.5 * middle and mass(-0.75, -0.45) > 1.5 * middle
    assert mass(-1.0, -0.3) > 0.25 and mass(0.3, 1.01) > 0.25


def test_centralized_critic_sees_the_other_agents_actions():
    config = dataclasses.replace(TOY, centralized_critic=True, batch_size=16)
    algo = make_dom2(config, AgentSpec(2, 3, 1, np.ones((2, 1), bool)))
    state = jax.jit(algo.init)(jax.random.key(0))
    obs = jax.random.normal(jax.random.key(1), (16, 2, 3))

    def q_data(actions):
        b = agent_batch(obs, actions, jnp.zeros((16, 2)), obs, jnp.zeros((16, 2), bool))
        _, m = jax.jit(algo.update)(state, b, jax.random.key(2))
        assert all(np.all(np.isfinite(v)) for v in m.values())
        return np.asarray(m["q_data"])

    base = q_data(jnp.zeros((16, 2, 1)))
    moved = q_data(jnp.zeros((16, 2, 1)).at[:, 1].set(0.9))  # only agent 1's action changes
    assert not np.isclose(base[0], moved[0])  # agent 0's critic noticed
    critic_in = state.agents.critic["params"]["MLP_0"]["Dense_0"]["kernel"].shape
    assert critic_in == (2, 2, 2 * 3 + 2 * 1, 32)  # agents, twins, joint obs + joint actions


# ----- best-of-K evaluation (Diffusion-QL's softmax over the target critics' min-Q) ---------------
BEST_OF_SPEC = AgentSpec(2, 3, 2, np.array([[True, True], [True, False]]))  # agent 1: 1 pad dim


def q_of_first_action_dim(critic, obs_dim: int, scale: float):
    """Critic params (leaves `[n_agents, twins, ...]`, one hidden layer) with
    `Q(o, a) = scale * mish(a[0] + 2)`: strictly increasing in `a[0]` on [-1, 1], blind to the rest.
    """
    mlp = critic["params"]["MLP_0"]
    hidden, out = mlp["Dense_0"], mlp["Dense_1"]
    toy = {
        "Dense_0": {
            "kernel": jnp.zeros_like(hidden["kernel"]).at[..., obs_dim, 0].set(1.0),
            "bias": jnp.zeros_like(hidden["bias"]).at[..., 0].set(2.0),
        },
        "Dense_1": {
            "kernel": jnp.zeros_like(out["kernel"]).at[..., 0, 0].set(scale),
            "bias": jnp.zeros_like(out["bias"]),
        },
    }
    return {"params": {"MLP_0": toy}}


def tiny_dom2(**changes):
    from dom2_jax.config import preset

    config = dataclasses.replace(preset("tiny").algo, **changes)
    assert config.critic_hidden == (16,)  # q_of_first_action_dim's one hidden layer
    return make_dom2(config, BEST_OF_SPEC)


@pytest.fixture(scope="module")
def best_of_dom2():
    algo = tiny_dom2()
    return algo, jax.jit(algo.init)(jax.random.key(0))


def test_best_of_picks_by_the_target_critics(best_of_dom2):
    """Target critics love a[0] > 0 (Q spans ~200 over [-1, 1], so softmax ~ argmax); the online
    critics love a[0] < 0 and must be ignored. k = 50 picks near the top of the policy's samples."""
    algo, state = best_of_dom2
    agents = state.agents.replace(
        critic=q_of_first_action_dim(state.agents.critic, 3, -100.0),
        critic_target=q_of_first_action_dim(state.agents.critic, 3, 100.0),
    )
    state = state.replace(agents=agents)
    obs = jax.random.normal(jax.random.key(1), (2, 3))
    keys = jax.random.split(jax.random.key(2), 16)
    picked = np.asarray(jax.jit(jax.vmap(lambda k: algo.best_of(state, obs, k, 50)))(keys))
    plain = np.asarray(jax.jit(jax.vmap(lambda k: algo.act(state, obs, k)))(keys))
    for j in range(2):  # agents
        top = np.quantile(plain[:, j, 0], 0.9)
        assert np.all(picked[:, j, 0] >= top - 1e-6), (j, picked[:, j, 0], top)
        assert picked[:, j, 0].mean() > plain[:, j, 0].mean() + 0.3


@pytest.mark.parametrize("k", [1, 50])
def test_best_of_shape_range_and_padding(best_of_dom2, k):
    algo, state = best_of_dom2
    obs = jax.random.normal(jax.random.key(1), (2, 3))
    actions = np.asarray(jax.jit(algo.best_of, static_argnums=3)(state, obs, jax.random.key(3), k))
    assert actions.shape == (2, 2)
    assert np.all(np.abs(actions) <= 1.0) and np.all(np.isfinite(actions))
    assert actions[1, 1] == 0.0  # agent 1's padded action dimension


def test_best_of_centralized_critic_and_bad_k():
    algo = tiny_dom2(centralized_critic=True)
    state = jax.jit(algo.init)(jax.random.key(0))
    obs = jax.random.normal(jax.random.key(1), (2, 3))
    actions = np.asarray(jax.jit(algo.best_of, static_argnums=3)(state, obs, jax.random.key(3), 8))
    assert actions.shape == (2, 2) and np.all(np.abs(actions) <= 1.0) and actions[1, 1] == 0.0
    with pytest.raises(ValueError, match="k must be"):
        algo.best_of(state, obs, jax.random.key(3), 0)
