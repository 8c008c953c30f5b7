"""The dom2-jax side of `update_phases`: the benchmark's problem (sizes, config, random batch)
and each phase of one DOM2 update as its own compiled program.

Each phase calls DOM2's own losses (`dom2.bootstrap_target`, `dom2.critic_loss`, the policy's
`denoising_loss`, `dom2.q_term`, `dom2.optimisers`, `ema_update`, `soft_update`) with the keys
of `dom2.draws`; `<phase>_before` is the phase in its pre-issue-15 form, rebuilt here.
"""

from __future__ import annotations

from functools import partial

import numpy as np

from benchmarks.common import timed

ENV, N_AGENTS, OBS_DIM, ACT_DIM = "mpe_spread", 3, 18, 2
SGD_LR = 1e-6  # chains the iterations of a gradient phase (params - lr * grad)


def algo_config(name: str):
    from dom2_jax.config import preset

    return preset(name, env=ENV, level="random").algo


def random_batch(batch_size: int, seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    shape = (N_AGENTS, batch_size)
    return {
        "obs": rng.normal(size=(*shape, OBS_DIM)).astype(np.float32),
        "actions": rng.uniform(-1, 1, (*shape, ACT_DIM)).astype(np.float32),
        "rewards": rng.normal(size=shape).astype(np.float32),
        "next_obs": rng.normal(size=(*shape, OBS_DIM)).astype(np.float32),
        "terminals": rng.random(shape) < 0.05,
    }


def jax_sides(cfg, arrays, only=None):
    """`({phase: (run(n), compile_s)}, state)`: run(n) does n iterations and blocks.

    Phases without a suffix are dom2-jax as `dom2.py` runs them (its losses: `ensemble_q`,
    `twin_cql_penalty`, the conditioned noise net, the exact cheaper Mish); `<phase>_before` is
    the same phase in the form used before issue 15 (XLA's `x * tanh(softplus(x))`, every critic
    and action set applied separately through `QNetwork`, the noise net through `NoiseNet.apply`
    with a per-row time embedding), timed in the same run for a before/after ratio.
    """
    import jax
    import jax.numpy as jnp
    import optax

    from dom2_jax.algos import dom2
    from dom2_jax.algos.centralized import joint_view
    from dom2_jax.algos.common import cql_penalty, ema_update, soft_update, td_target
    from dom2_jax.algos.core import AgentBatch, AgentContext, AgentSpec
    from dom2_jax.algos.diffusion_policy import make_diffusion_policy
    from dom2_jax.algos.dom2 import N_CRITICS, make_dom2
    from dom2_jax.nets.critics import QNetwork, apply_ensemble
    from dom2_jax.nets.denoiser import NoiseNet
    from dom2_jax.nets.samplers import get_sampler
    from dom2_jax.nets.schedules import q_sample

    spec = AgentSpec(N_AGENTS, OBS_DIM, ACT_DIM, np.ones((N_AGENTS, ACT_DIM), bool))
    algo = make_dom2(cfg, spec)
    state = jax.jit(algo.init)(jax.random.key(0))
    policy = make_diffusion_policy(cfg.diffusion, ACT_DIM)
    net = QNetwork(tuple(cfg.critic_hidden))
    masks = jnp.ones((N_AGENTS, ACT_DIM))
    batch = AgentBatch(**{k: jnp.asarray(v) for k, v in arrays.items()})
    actor_opt, critic_opt = dom2.optimisers(cfg)
    nets = dom2.DOM2Nets(policy, net, cfg)
    joint = joint_view(policy.sample, spec, False, None, jax.tree.map(lambda x: x[:1], batch), None)

    def context(mask):  # one agent's view (decentralised critics), as the scaffold builds it
        return AgentContext(mask, 0, state.step, state.weights, (joint, 0))

    # the pre-issue-15 forms: plain module application, XLA's Mish, per-row time embedding
    d = cfg.diffusion
    net_before = QNetwork(tuple(cfg.critic_hidden), activation="mish_xla")
    noise_before = NoiseNet(ACT_DIM, tuple(d.hidden), d.time_dim, activation="mish_xla")
    sampler = get_sampler(d.sampler)

    def sample_before(params, obs, key, mask):
        def eps_fn(x, t, o):
            return noise_before.apply(params, x, jnp.full(x.shape[:-1], t), o)

        shape = (obs.shape[0], ACT_DIM)
        return sampler(eps_fn, policy.schedule, obs, key, shape, d.n_sample_steps) * mask

    def denoising_before(params, obs, actions, t_key, noise_key, mask):
        t = jax.random.randint(t_key, (obs.shape[0],), 0, policy.schedule.n_steps)
        noise = jax.random.normal(noise_key, actions.shape) * mask
        noisy = q_sample(policy.schedule, actions, t, noise) * mask
        pred = noise_before.apply(params, noisy, t, obs) * mask
        return jnp.sum((pred - noise) ** 2) / (obs.shape[0] * jnp.sum(mask))

    def sgd(params, grads):
        return jax.tree.map(lambda p, g: p - SGD_LR * g, params, grads)

    def td(acc, learner, b, mask, key, i):
        target = dom2.bootstrap_target(nets, learner, b, dom2.draws(key), context(mask))
        return acc + jnp.mean(target)

    def td_before(acc, learner, b, mask, key, i):
        next_a = sample_before(learner.actor_ema, b.next_obs, key, mask)
        next_q = jnp.min(apply_ensemble(net_before, learner.critic_target, b.next_obs, next_a), 0)
        return acc + jnp.mean(td_target(b.rewards, b.terminals, next_q, cfg.gamma))

    def critic(params, learner, b, mask, key, i, nets=nets):
        def loss(c):  # the rewards stand in for the (stop-gradient) TD target
            d, ctx = dom2.draws(key), context(mask)
            return dom2.critic_loss(c, learner, b, b.rewards, d, ctx, nets=nets)[0]

        return sgd(params, jax.grad(loss)(params))

    def critic_before(params, learner, b, mask, key, i):
        def loss(c):
            q = apply_ensemble(net_before, c, b.obs, b.actions)
            td = jnp.sum(jnp.mean((q - b.rewards) ** 2, 1))

            def q_member(k):
                member = jax.tree.map(lambda x: x[k][None], c)
                return lambda o, a: apply_ensemble(net_before, member, o, a)[0]

            keys = [jax.random.fold_in(key, k) for k in range(N_CRITICS)]
            return td + sum(
                cql_penalty(q_member(k), b.obs, b.actions, keys[k], cfg.cql_samples, mask > 0)
                for k in range(N_CRITICS)
            )

        return sgd(params, jax.grad(loss)(params))

    def actor_bc(actor, learner, b, mask, key, i, loss_fn=policy.denoising_loss):
        k_t, k_eps = jax.random.split(key)
        return sgd(actor, jax.grad(loss_fn)(actor, b.obs, b.actions, k_t, k_eps, mask))

    def actor_q(actor, learner, b, mask, key, i):
        def loss(p):
            return dom2.q_term(p, learner.critic, b, dom2.draws(key), context(mask), nets=nets)[0]

        return sgd(actor, jax.grad(loss)(actor))

    def actor_q_before(actor, learner, b, mask, key, i):
        def loss(p):
            a0 = sample_before(p, b.obs, key, mask)
            q = apply_ensemble(net_before, learner.critic, b.obs, a0)
            return -jnp.mean(q[0]) / jax.lax.stop_gradient(jnp.mean(jnp.abs(q[1])) + 1e-6)

        return sgd(actor, jax.grad(loss)(actor))

    def optim(carry, learner, b, mask, key, i):
        # gradient-shaped inputs that change every iteration (so nothing is hoisted out)
        g_actor = jax.tree.map(lambda p: 1e-3 * p, carry.actor)
        g_critic = jax.tree.map(lambda p: 1e-3 * p, carry.critic)
        up, actor_state = actor_opt.update(g_actor, carry.actor_opt, carry.actor)
        actor = optax.apply_updates(carry.actor, up)
        up, critic_state = critic_opt.update(g_critic, carry.critic_opt, carry.critic)
        critic = optax.apply_updates(carry.critic, up)
        return carry.replace(
            actor=actor,
            actor_opt=actor_state,
            actor_ema=ema_update(
                carry.actor_ema, actor, i, cfg.ema_decay, cfg.ema_every, cfg.ema_start
            ),
            critic=critic,
            critic_opt=critic_state,
            critic_target=soft_update(carry.critic_target, critic, cfg.tau),
        )

    agents = state.agents
    phases = {
        "td_target": (td, jnp.zeros(N_AGENTS)),
        "critic": (critic, agents.critic),
        "actor_bc": (actor_bc, agents.actor),
        "actor_q": (actor_q, agents.actor),
        "optim": (optim, agents),
        "td_target_before": (td_before, jnp.zeros(N_AGENTS)),
        "critic_before": (critic_before, agents.critic),
        "actor_bc_before": (partial(actor_bc, loss_fn=denoising_before), agents.actor),
        "actor_q_before": (actor_q_before, agents.actor),
        "optim_before": (optim, agents),  # unchanged by issue 15: the same program
        # the critic phase with ReLU critics: what Mish's elementwise work still costs
        "critic_relu": (
            partial(critic, nets=nets._replace(critic=QNetwork(tuple(cfg.critic_hidden), "relu"))),
            agents.critic,
        ),
    }

    def program(per_agent):
        def run(carry, agents, batch, key, n):
            def body(i, c):
                keys = jax.random.split(jax.random.fold_in(key, i), N_AGENTS)
                step = jax.vmap(per_agent, in_axes=(0, 0, 0, 0, 0, None))  # agents
                return step(c, agents, batch, masks, keys, i)

            return jax.lax.fori_loop(0, n, body, carry)

        return run

    def full(s, agents, batch, key, n):
        def body(i, s):
            return algo.update(s, batch, jax.random.fold_in(key, i))[0]

        return jax.lax.fori_loop(0, n, body, s)

    out = {}
    key = jax.random.key(1)
    items = [(k, program(fn), c) for k, (fn, c) in phases.items()]
    for name, fn, carry in [*items, ("update", full, state)]:
        if only is not None and name not in only:
            continue
        args = (carry, agents, batch, key)
        compiled = None

        def compile_(fn=fn, args=args):
            nonlocal compiled
            compiled = jax.jit(fn).lower(*args, jnp.int32(1)).compile()

        seconds = timed(compile_)

        def run(n, compiled=compiled, args=args):
            jax.block_until_ready(compiled(*args, jnp.int32(n)))

        run(1)  # warm-up
        out[name] = (run, seconds)
    return out, state
