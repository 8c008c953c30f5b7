"""The diffusion baselines (madiffql, masfbc): configs, one update, the equivalence of
MA-Diffusion-QL with DOM2 minus CQL, SfBC's selection by Q on a bimodal toy, the trainer."""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from dom2_jax.algos.core import AgentSpec, agent_batch
from dom2_jax.algos.diffusion_policy import make_diffusion_policy
from dom2_jax.algos.dom2 import LossWeights, make_dom2
from dom2_jax.algos.masfbc import make_masfbc, select_candidates, soft_value
from dom2_jax.algos.registry import make_algorithm
from dom2_jax.config import DiffusionConfig, algo_preset, from_dict, preset, to_dict
from dom2_jax.config.diffusion_baselines import MADiffQLConfig, MASfBCConfig
from dom2_jax.train import batched_init, chunk_program, make_train_data, seed_keys

ALGOS = ("madiffql", "masfbc")
SPEC = AgentSpec(2, 3, 2, np.array([[True, True], [True, False]]))  # agent 1: 1 real action


def random_batch(key, spec=SPEC, batch=8):
    k = jax.random.split(key, 4)
    n, mask = spec.n_agents, spec.act_mask
    actions = jax.random.uniform(k[1], (batch, n, spec.act_dim), minval=-1, maxval=1) * mask
    return agent_batch(
        jax.random.normal(k[0], (batch, n, spec.obs_dim)),
        actions,
        jax.random.normal(k[2], (batch, n)),
        jax.random.normal(k[3], (batch, n, spec.obs_dim)),
        jnp.zeros((batch, n), bool),
    )


def leaves(tree):
    return [np.asarray(x) for x in jax.tree.leaves(tree)]


# ----- configs ----------------------------------------------------------------------------------
def test_presets_validation_and_round_trip():
    for name in ("paper", "cpu", "tiny"):
        dom2, diffql = algo_preset("dom2", name), algo_preset("madiffql", name)
        assert (diffql.cql_alpha, diffql.cql_samples, diffql.diffusion.sampler) == (0, 0, "ddpm")
        same = {f.name for f in dataclasses.fields(dom2)} - {"cql_alpha", "cql_samples"}
        assert all(getattr(dom2, f) == getattr(diffql, f) for f in same - {"diffusion"})
        assert dataclasses.replace(diffql.diffusion, sampler="dpm_solver1") == dom2.diffusion
        for algo in ALGOS:
            config = preset(name, env="mpe_tag", level="medium", algo=algo)
            assert from_dict(to_dict(config)) == config
    assert preset("paper", level="expert", algo="madiffql").algo.cql_alpha == 0.0  # no table
    sfbc = algo_preset("masfbc", "paper")
    assert (sfbc.alpha, sfbc.act_alpha, sfbc.target_samples, sfbc.act_samples) == (20, 100, 16, 32)
    assert (sfbc.batch_size, sfbc.diffusion.n_sample_steps) == (4096, 15)
    with pytest.raises(ValueError, match="MADiffQLConfig field 'cql_alpha'"):
        MADiffQLConfig(cql_alpha=1.0)
    with pytest.raises(ValueError, match="MASfBCConfig field 'act_select'"):
        MASfBCConfig(act_select=33)


def test_soft_value_and_selection():
    q = jnp.array([0.0, 1.0, 3.0, 2.0])
    np.testing.assert_allclose(soft_value(q, 0.0), 1.5)  # alpha 0: the mean
    np.testing.assert_allclose(soft_value(q, 100.0), 3.0, rtol=1e-6)  # alpha large: the max
    cands = jnp.arange(8.0).reshape(4, 2)
    keys = jax.random.split(jax.random.key(0), 200)
    greedy = jax.vmap(lambda k: select_candidates(k, cands, q, 100.0, 1))(keys)
    assert np.all(np.asarray(greedy) == np.asarray(cands[2]))
    top2 = select_candidates(jax.random.key(1), cands, q, 100.0, 2)  # candidates 2 and 3
    np.testing.assert_allclose(top2, (cands[2] + cands[3]) / 2)
    picks = jax.vmap(lambda k: select_candidates(k, cands, q, 1.0, 1))(keys)[:, 0] / 2
    freq = np.bincount(np.asarray(picks, int), minlength=4) / 200
    np.testing.assert_allclose(freq, jax.nn.softmax(q), atol=0.08)  # alpha 1: softmax draws


# ----- one update -------------------------------------------------------------------------------
def moved(before, after) -> bool:
    return all(not np.allclose(x, y) for x, y in zip(leaves(before), leaves(after), strict=True))


def test_madiffql_update_is_dom2_without_cql_with_the_ddpm_sampler():
    """One update, same key and batch: MA-Diffusion-QL (CQL not computed) moves actor and
    critics with finite metrics, and ends with the parameters of DOM2 run with CQL weight 0 and
    the DDPM sampler; DOM2 with CQL weight 5 (a traced weight: same program) ends elsewhere."""
    dom2_config = algo_preset("dom2", "tiny")
    dom2_config = dataclasses.replace(
        dom2_config,
        cql_alpha=0.0,
        diffusion=dataclasses.replace(dom2_config.diffusion, sampler="ddpm"),
    )
    assert dom2_config.cql_samples > 0
    batch, key = random_batch(jax.random.key(1)), jax.random.key(2)
    madiffql = make_algorithm(algo_preset("madiffql", "tiny"), SPEC)
    state = jax.jit(madiffql.init)(jax.random.key(0))  # one program, not op by op
    ours, metrics = jax.jit(madiffql.update)(state, batch, key)
    assert int(ours.step) == 1 and moved(state.agents.actor, ours.agents.actor)
    assert moved(state.agents.critic, ours.agents.critic)
    for name, value in metrics.items():
        assert value.shape == (2,) and np.all(np.isfinite(np.asarray(value))), name

    dom2 = make_dom2(dom2_config, SPEC)
    update = jax.jit(dom2.update)
    init = jax.jit(dom2.init)
    theirs, _ = update(init(jax.random.key(0)), batch, key)
    for x, y in zip(leaves(ours.agents), leaves(theirs.agents), strict=True):
        np.testing.assert_allclose(x, y, rtol=1e-6, atol=1e-7)
    with_cql = init(jax.random.key(0), LossWeights(jnp.float32(1.0), jnp.float32(5.0)))
    with_cql, _ = update(with_cql, batch, key)
    assert not np.allclose(leaves(ours.agents.critic)[0], leaves(with_cql.agents.critic)[0])


def test_masfbc_update_moves_every_network_with_finite_metrics():
    masfbc = make_algorithm(algo_preset("masfbc", "tiny"), SPEC)
    state = jax.jit(masfbc.init)(jax.random.key(0))
    new, metrics = jax.jit(masfbc.update)(state, random_batch(jax.random.key(1)), jax.random.key(2))
    assert int(new.step) == 1 and moved(state.agents.behavior, new.agents.behavior)
    assert moved(state.agents.critic, new.agents.critic)
    for name, value in metrics.items():
        assert value.shape == (2,) and np.all(np.isfinite(np.asarray(value))), name
    actions = np.asarray(jax.jit(masfbc.act)(new, jnp.ones((2, 3)), jax.random.key(3)))
    assert actions.shape == (2, 2) and actions[1, 1] == 0.0 and np.all(np.abs(actions) <= 1.0)


# ----- SfBC on a toy ----------------------------------------------------------------------------
def test_sfbc_selects_the_mode_its_critic_prefers(optimised_compiles):
    """One agent, one state, behaviour actions -0.6 or +0.6 (reward 1 for +0.6, 0 for -0.6,
    terminal). The behaviour model's own samples cover both modes; SfBC's chosen actions sit in
    the rewarded one, and its value backup at the state rates it by that mode."""
    config = MASfBCConfig(
        diffusion=DiffusionConfig(hidden=(32, 32), time_dim=8),
        critic_hidden=(32, 32),
        behavior_lr=3e-3,
        batch_size=128,
        target_samples=4,
        act_samples=16,
    )
    spec = AgentSpec(1, 1, 1, np.ones((1, 1), bool))
    algo = make_masfbc(config, spec)
    behaviour = make_diffusion_policy(config.diffusion, 1)  # the model SfBC samples from
    obs = jnp.zeros((128, 1, 1))

    def body(state, i):
        coin = jax.random.bernoulli(jax.random.fold_in(jax.random.key(0), i), 0.5, (128, 1, 1))
        batch = agent_batch(
            obs, jnp.where(coin, 0.6, -0.6), coin[..., 0] * 1.0, obs, jnp.ones((128, 1), bool)
        )
        return algo.update(state, batch, jax.random.fold_in(jax.random.key(1), i))

    @jax.jit
    def train_and_sample():
        state, metrics = jax.lax.scan(body, algo.init(jax.random.key(0)), jnp.arange(1500))
        keys = jax.random.split(jax.random.key(3), 400)
        behavior = jax.tree.map(lambda x: x[0], state.agents.behavior)
        raw = behaviour.sample(behavior, jnp.zeros((400, 1)), keys[0], jnp.ones((1,)))
        chosen = jax.vmap(lambda k: algo.act(state, jnp.zeros((1, 1)), k))(keys)
        return raw[:, 0], chosen[:, 0, 0], metrics["target_value"][-100:, 0]

    raw, chosen, next_value = (np.asarray(x) for x in train_and_sample())
    assert np.mean(raw > 0.3) > 0.25 and np.mean(raw < -0.3) > 0.25, raw
    assert np.mean((chosen > 0.3) & (chosen < 0.9)) > 0.95, chosen  # the mode, in support
    # the backup's V(o') is a soft max over behaviour samples (~1), not their mean (0.5)
    assert next_value.mean() > 0.75, next_value


# ----- the one trainer --------------------------------------------------------------------------
@pytest.mark.parametrize("algo", ALGOS)
def test_trainer_runs_each_diffusion_baseline(algo, tiny_dataset):
    """Tiny preset, one compiled chunk vmapped over 2 seeds: finite returns and metrics."""
    config = preset("tiny", level="random", algo=algo)
    fns, chunk = chunk_program(config)  # the host loop's program
    data = make_train_data(tiny_dataset, "mpe_spread", config)
    init = batched_init(fns.init)(seed_keys(0, 2))  # seeds
    states, out = chunk(init, data)  # seeds
    assert out.eval_returns.shape == (2, 1, 1, config.train.eval_episodes, 3)
    assert np.all(np.isfinite(np.asarray(out.eval_returns)))
    for name, value in out.metrics.items():
        assert value.shape == (2, 1, 3) and np.all(np.isfinite(np.asarray(value))), name
    assert np.all(np.asarray(states.algo.step) == config.train.chunk_updates)
