"""dom2-jax's DOM2 update == the PyTorch reference's (benchmarks/pytorch_reference) on equal inputs.

Same weights (PyTorch's initialisation copied into a fresh dom2-jax state), the same batches and
the same random numbers: the test takes every key one update uses from the library (the
scaffold's `update_keys`, DOM2's `draws`), draws from each what `cql_proposals`, the denoising
loss and the samplers draw, and hands the numbers to the torch update. Over three
updates (fresh Adam; the EMA copy phase, then skip and mix steps; clipped and unclipped gradients)
the losses and their parts, the gradient norms, the Adam moments (mu = 0.1 x the clipped gradient
after the first step) and every network (actor, EMA actor, twin critics, Polyak targets) agree to
float32 tolerance. Two agents with different action sizes (masked padding), three of five solver
steps, both samplers. Seen: largest differences ~1e-7 on parameters, ~2e-6 on losses.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from dom2_jax.algos import dom2
from dom2_jax.algos.core import AgentBatch as JaxBatch
from dom2_jax.algos.core import AgentSpec, update_keys
from dom2_jax.algos.dom2 import N_CRITICS, LossWeights, make_dom2
from dom2_jax.config import DiffusionConfig, DOM2Config

torch = pytest.importorskip(
    "torch", reason="PyTorch is not installed (pip install -e '.[bench]'); equivalence not checked"
)
from benchmarks.pytorch_reference import (  # noqa: E402  (needs torch)
    AgentBatch,
    AgentDraws,
    TorchDOM2,
    load_dom2_state,
    stacked_flax_agents,
    to_flax,
)

N_AGENTS, OBS_DIM, ACT_DIM, BATCH = 2, 5, 3, 8
ACT_MASK = np.array([[True, True, True], [True, True, False]])  # agent 1: 2 real action dims
SPEC = AgentSpec(N_AGENTS, OBS_DIM, ACT_DIM, ACT_MASK)


def config(sampler: str) -> DOM2Config:
    return DOM2Config(
        diffusion=DiffusionConfig(
            n_steps=5, n_sample_steps=3, sampler=sampler, hidden=(16, 16), time_dim=8
        ),
        critic_hidden=(16, 16),
        cql_alpha=2.0,
        cql_samples=4,
        batch_size=BATCH,
        ema_start=1,
        ema_every=2,
        actor_lr=1e-3,
        critic_lr=1e-3,
        actor_grad_clip=0.7,
        critic_grad_clip=0.5,
    )


def sampler_draws(cfg: DOM2Config, key, shape) -> jax.Array:
    """The Gaussian draws `nets.samplers` makes from `key` (torch layout, see nets.py)."""
    if cfg.diffusion.sampler == "dpm_solver1":
        return jax.random.normal(key, shape)
    init_key, key = jax.random.split(key)
    steps = jax.random.split(key, cfg.diffusion.n_steps)
    return jnp.stack([jax.random.normal(k, shape) for k in [init_key, *steps]])


def jax_draws(cfg: DOM2Config, key) -> list[dict[str, jax.Array]]:
    """Every random number `make_dom2(...).update(state, batch, key)` consumes, per agent: the
    keys come from the scaffold's `update_keys` and DOM2's `draws`, the numbers from each key
    as the library draws them (`cql_proposals`, `denoising_loss`, the samplers)."""
    _, agent_keys = update_keys(key, N_AGENTS, shared=True)  # DOM2 has a (joint-view) context
    draws = []
    for agent_key in agent_keys:
        d = dom2.draws(agent_key)
        cql = [
            jax.random.uniform(
                jax.random.fold_in(d.cql, k),
                (cfg.cql_samples, BATCH, ACT_DIM),
                minval=-1.0,
                maxval=1.0,
            )
            for k in range(N_CRITICS)
        ]
        draws.append(
            {
                "next_noise": sampler_draws(cfg, d.next_action, (BATCH, ACT_DIM)),
                "cql_actions": jnp.stack(cql),
                "t": jax.random.randint(d.t, (BATCH,), 0, cfg.diffusion.n_steps),
                "bc_noise": jax.random.normal(d.eps, (BATCH, ACT_DIM)),
                "sample_noise": sampler_draws(cfg, d.sample, (BATCH, ACT_DIM)),
                "coin": jax.random.bernoulli(d.coin),
            }
        )
    return draws


def to_torch_draws(draws: list[dict[str, jax.Array]]) -> list[AgentDraws]:
    out = []
    for d in draws:
        d = {k: np.array(v) for k, v in d.items()}
        coin = bool(d.pop("coin"))
        d["t"] = d["t"].astype(np.int64)
        out.append(AgentDraws(**{k: torch.as_tensor(v) for k, v in d.items()}, coin=coin))
    return out


def random_batch(seed: int) -> JaxBatch:
    rng = np.random.default_rng(seed)
    f32 = lambda *s: rng.normal(size=s).astype(np.float32)  # noqa: E731
    actions = rng.uniform(-1, 1, (N_AGENTS, BATCH, ACT_DIM)).astype(np.float32)
    return JaxBatch(
        obs=f32(N_AGENTS, BATCH, OBS_DIM),
        actions=actions * ACT_MASK[:, None],
        rewards=f32(N_AGENTS, BATCH),
        next_obs=f32(N_AGENTS, BATCH, OBS_DIM),
        terminals=rng.random((N_AGENTS, BATCH)) < 0.25,
    )


def close(ours, theirs, what: str, rtol=2e-5, atol=2e-6) -> float:
    """Assert two equally structured trees agree; returns the largest absolute difference."""
    flat_ours, tree = jax.tree.flatten(ours)
    flat_theirs = tree.flatten_up_to(theirs)
    worst = 0.0
    for a, b in zip(flat_ours, flat_theirs, strict=True):
        a, b = np.asarray(a), np.asarray(b)
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol, err_msg=what)
        worst = max(worst, float(np.max(np.abs(a - b), initial=0.0)))
    return worst


def take(tree, *index):
    return jax.tree.map(lambda x: np.asarray(x)[index], tree)


def initial_states(cfg: DOM2Config):
    """A fresh dom2-jax state and a `TorchDOM2` with the same networks.

    PyTorch initialises; its weights go into a zero-filled dom2-jax state (fresh Adam moments
    are zeros on both sides). This skips compiling the flax initialiser, the slowest part of
    the test; `load_dom2_state`, the other direction, is checked by the round trip.
    """
    algo = make_dom2(cfg, SPEC)
    abstract = jax.eval_shape(algo.init, jax.random.key(0))
    zeros = jax.tree.map(lambda x: jnp.zeros(x.shape, x.dtype), abstract)
    ref = TorchDOM2(cfg, N_AGENTS, OBS_DIM, ACT_DIM, ACT_MASK, seed=0)
    nets = jax.tree.map(jnp.asarray, stacked_flax_agents(ref))
    state = zeros.replace(
        agents=zeros.agents.replace(**nets),
        weights=LossWeights(jnp.float32(cfg.eta), jnp.float32(cfg.cql_alpha)),
    )
    copy = TorchDOM2(cfg, N_AGENTS, OBS_DIM, ACT_DIM, ACT_MASK, seed=1)
    load_dom2_state(copy, state.agents)
    close(stacked_flax_agents(copy), stacked_flax_agents(ref), "flax <-> torch round trip", 0, 0)
    return algo, state, ref


@pytest.mark.slow
@pytest.mark.parametrize("sampler", ["dpm_solver1", "ddpm"])
def test_update_matches_pytorch_reference(sampler):
    cfg = config(sampler)
    algo, state, ref = initial_states(cfg)

    def update_and_draws(state, batch, key):  # one program: the update and the draws it makes
        return *algo.update(state, batch, key), jax_draws(cfg, key)

    # LLVM optimisation level 0 halves XLA:CPU's compile time (the test's cost); same HLO.
    update = jax.jit(update_and_draws, compiler_options={"xla_backend_optimization_level": 0})

    for u in range(3):  # step 0: copy EMA; 1: EMA step (1 % 2 != 0 -> keep); 2: EMA mix
        batch = random_batch(u)
        key = jax.random.fold_in(jax.random.key(1), u)
        state, metrics, draws = update(state, jax.tree.map(jnp.asarray, batch), key)
        theirs = ref.update(
            AgentBatch(**{k: torch.as_tensor(v) for k, v in vars(batch).items()}),
            to_torch_draws(draws),
        )
        for name, value in metrics.items():
            close(value, theirs[name].numpy(), f"update {u}: metric {name}", rtol=1e-4, atol=1e-5)

        for j, agent in enumerate(ref.agents):
            a = take(state.agents, j)
            close(a.actor, to_flax(agent.actor), f"update {u}: agent {j} actor")
            close(a.actor_ema, to_flax(agent.actor_ema), f"update {u}: agent {j} EMA actor")
            adam, opt = a.actor_opt[1][0], agent.actor_opt
            for moment, slot in (("mu", "exp_avg"), ("nu", "exp_avg_sq")):
                theirs_m = to_flax(agent.actor, lambda p, s=slot, o=opt: o.state[p][s])
                close(getattr(adam, moment), theirs_m, f"update {u}: agent {j} actor {moment}")
            for k, name in enumerate(("q1", "q2")):
                net = getattr(agent.critic, name)
                close(take(a.critic, k), to_flax(net), f"update {u}: agent {j} critic {k}")
                close(
                    take(a.critic_target, k),
                    to_flax(getattr(agent.critic_target, name)),
                    f"update {u}: agent {j} target critic {k}",
                )
                adam = a.critic_opt[1][0]
                opt = agent.critic_opt
                theirs_mu = to_flax(net, lambda p, o=opt: o.state[p]["exp_avg"])
                close(take(adam.mu, k), theirs_mu, f"update {u}: agent {j} critic {k} mu")
