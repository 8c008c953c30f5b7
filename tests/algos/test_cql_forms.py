"""OMAR's two CQL forms: uniform proposals (MPE) and uniform + noisy policy proposals (MuJoCo).

The mixed form is checked on toy critics against values worked out here: with a constant Q the
penalty is the logsumexp of the proposals' negative log-densities alone.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.special import logsumexp
from scipy.stats import norm

from dom2_jax.algos.common import (
    CQL_POLICY_NOISE,
    cql_penalty,
    noisy_policy_actions,
    twin_cql_penalty,
)
from dom2_jax.algos.core import AgentSpec, agent_batch
from dom2_jax.algos.dom2 import make_dom2
from dom2_jax.algos.macql import make_macql
from dom2_jax.algos.omar import make_omar
from dom2_jax.config import DOM2Config, preset
from dom2_jax.config.baselines import MACQLConfig, OMARConfig

B, N = 32, 10
MASK = jnp.array([True, True, False])  # 2 real action dimensions + 1 padded


def toy_inputs(seed=0):
    k_obs, k_act, k_pi, k_next = jax.random.split(jax.random.key(seed), 4)
    obs = jax.random.normal(k_obs, (B, 2))
    data = jax.random.uniform(k_act, (B, 3), minval=-1, maxval=1) * MASK
    pi_obs = jax.random.uniform(k_pi, (B, 3), minval=-0.5, maxval=0.5) * MASK
    pi_next = jax.random.uniform(k_next, (B, 3), minval=-0.5, maxval=0.5) * MASK
    return obs, data, pi_obs, pi_next


def test_noisy_policy_actions_density_clip_and_padding():
    centre = jnp.tile(jnp.array([[0.0, 0.95, 0.0]]), (B, 1))
    noisy, log_pdf = noisy_policy_actions(centre, jax.random.key(1), N, MASK)
    noisy, log_pdf = np.asarray(noisy), np.asarray(log_pdf)
    assert noisy.shape == (N, B, 3) and log_pdf.shape == (N, B)
    assert np.all(noisy[..., 2] == 0.0) and np.all(np.abs(noisy) <= 1.0)
    assert np.any(noisy[..., 1] == 1.0)  # centre 0.95 + noise: clipped as in OMAR's release
    # dimension 0 is never clipped here (|noise| < 5 std), so its noise is readable: the density of
    # the noise, as OMAR's release, over the real dimensions; dimension 1's from the total
    noise0 = noisy[..., 0]
    expected0 = norm.logpdf(noise0, scale=CQL_POLICY_NOISE)
    unclipped = noisy[..., 1] < 1.0
    noise1 = noisy[..., 1] - 0.95
    expected = expected0 + norm.logpdf(noise1, scale=CQL_POLICY_NOISE)
    np.testing.assert_allclose(log_pdf[unclipped], expected[unclipped], rtol=1e-5, atol=1e-5)


def test_mixed_form_with_constant_q_is_the_lse_of_the_corrections():
    """`Q = c`: penalty = mean_b logsumexp(-log p(a_i)) over the 3N proposals (c cancels)."""
    obs, data, pi_obs, pi_next = toy_inputs()
    key = jax.random.key(5)

    def q_const(o, a):
        return jnp.full(a.shape[:-1], 3.0)

    got = cql_penalty(q_const, obs, data, key, N, MASK, (pi_obs, pi_next))
    _, lp_obs = noisy_policy_actions(pi_obs, jax.random.fold_in(key, 1), N, MASK)
    _, lp_next = noisy_policy_actions(pi_next, jax.random.fold_in(key, 2), N, MASK)
    neg_log_p = np.concatenate(
        [np.full((N, B), -2 * np.log(0.5)), -np.asarray(lp_obs), -np.asarray(lp_next)]
    )
    np.testing.assert_allclose(got, logsumexp(neg_log_p, axis=0).mean(), rtol=1e-5)
    # the uniform form alone: log N + |A| log 2
    uniform = cql_penalty(q_const, obs, data, key, N, MASK)
    np.testing.assert_allclose(uniform, np.log(N) + 2 * np.log(2.0), rtol=1e-5)


def test_uniform_form_is_the_previous_formula_bit_for_bit():
    obs, data, pi_obs, _ = toy_inputs(1)
    w = jax.random.normal(jax.random.key(2), (5,))

    def q_fn(o, a):
        return jnp.tanh(o @ w[:2]) * 3.0 + a @ w[2:]

    key = jax.random.key(9)
    random = jax.random.uniform(key, (N, B, 3), minval=-1.0, maxval=1.0) * MASK
    q_random = jax.vmap(q_fn, in_axes=(None, 0))(obs, random)
    lse = jax.scipy.special.logsumexp(q_random - jnp.sum(MASK) * jnp.log(0.5), axis=0)
    previous = jnp.mean(lse - q_fn(obs, data))
    np.testing.assert_array_equal(cql_penalty(q_fn, obs, data, key, N, MASK), previous)
    np.testing.assert_array_equal(cql_penalty(q_fn, obs, data, key, N, MASK, ()), previous)
    # a critic that rates the policy's region highest: the mixed form's penalty is larger
    # (the policy proposals add terms to the same logsumexp)
    mixed = cql_penalty(q_fn, obs, data, key, N, MASK, (pi_obs, pi_obs))
    assert float(mixed) > float(previous)

    def twin(k):
        return lambda o, a: q_fn(o, a) + k

    def q_sets(actions):  # [2, S, B, A] -> [2, S, B]: critic k on its own sets
        return jnp.stack([jax.vmap(twin(k), in_axes=(None, 0))(obs, actions[k]) for k in (0, 1)])

    for proposals in ((), (pi_obs, pi_obs)):  # both forms: one batched call == per-critic calls
        penalty, q_data = twin_cql_penalty(q_sets, data, key, N, MASK, proposals)
        expected = sum(
            cql_penalty(twin(k), obs, data, jax.random.fold_in(key, k), N, MASK, proposals)
            for k in (0, 1)
        )
        np.testing.assert_allclose(penalty, expected, rtol=1e-6)
        np.testing.assert_array_equal(q_data, jnp.stack([twin(k)(obs, data) for k in (0, 1)]))


@pytest.mark.parametrize("algo", ["dom2", "macql", "omar"])
def test_for_task_sets_the_form_per_env(algo):
    for name in ("paper", "tiny"):
        cheetah = preset(name, env="halfcheetah_2x3", level="medium", algo=algo).algo
        spread = preset(name, env="mpe_spread", level="medium", algo=algo).algo
        assert (cheetah.cql_form, spread.cql_form) == ("mujoco", "uniform")
        assert (cheetah.cql_alpha, spread.cql_alpha) == (1.0, 5.0)  # OMAR's table unchanged
    config = {"dom2": DOM2Config, "macql": MACQLConfig, "omar": OMARConfig}[algo]
    assert config().cql_form == "uniform"
    assert config().for_task("halfcheetah_2x3", "expert").cql_form == "mujoco"
    assert config(cql_form="mujoco").for_task("mpe_tag", "expert").cql_form == "uniform"
    with pytest.raises(ValueError, match="cql_form"):
        config(cql_form="gaussian")


SPEC = AgentSpec(2, 3, 2, np.array([[True, True], [True, False]]))


def tiny_batch(size: int):
    k_obs, k_act, k_next = jax.random.split(jax.random.key(3), 3)
    obs = jax.random.normal(k_obs, (size, 2, 3))
    actions = jax.random.uniform(k_act, (size, 2, 2), minval=-1, maxval=1) * SPEC.act_mask
    next_obs = jax.random.normal(k_next, (size, 2, 3))
    return agent_batch(obs, actions, jnp.ones((size, 2)), next_obs, jnp.zeros((size, 2), bool))


@pytest.mark.parametrize(
    ("algo", "make"), [("dom2", make_dom2), ("macql", make_macql), ("omar", make_omar)]
)
@pytest.mark.slow
def test_one_update_with_the_mujoco_form_is_finite(algo, make):
    """One tiny update with the mixed form (init and update one program): finite, Q on data
    logged, a positive-size CQL penalty per agent."""
    tiny = preset("tiny", env="halfcheetah_2x3", level="expert", algo=algo).algo
    assert tiny.cql_form == "mujoco"
    built = make(tiny, SPEC)
    batch = tiny_batch(tiny.batch_size)
    state, metrics = jax.jit(lambda k: built.update(built.init(k), batch, jax.random.key(1)))(
        jax.random.key(0)
    )
    assert all(np.all(np.isfinite(v)) for v in jax.tree.leaves(metrics))
    assert all(np.all(np.isfinite(v)) for v in jax.tree.leaves(state.agents))
    assert metrics["q_data"].shape == metrics["cql_penalty"].shape == (2,)  # agents
