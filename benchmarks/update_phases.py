"""Where one DOM2 update's time goes: each phase timed alone, dom2-jax vs the PyTorch reference.

The phases (`benchmarks.flops.PHASES`) cover one update of every agent (3 agents, 1 seed, the
preset's networks and batch, one fixed batch): the TD target (EMA-actor sampler + target critics),
the critic loss (TD on the data action and the CQL penalty, one batched critic call), the actor's
denoising loss, the actor's Q term (sampler with gradients through every step) and the optimiser /
target updates. Each phase calls DOM2's own losses (`dom2.bootstrap_target`, `dom2.critic_loss`,
the policy's `denoising_loss`, `dom2.q_term`, `dom2.optimisers`, `ema_update`, `soft_update`)
with the keys of `dom2.draws`; each is also timed in its pre-issue-15 form (`<phase>_before`:
XLA's Mish, one critic call per critic and action set, the noise net with a per-row time
embedding, rebuilt here because the library no longer has them), and on a quarter of the batch,
which tells launch-bound phases from work-bound ones.

- dom2-jax: one program per phase, `jit` of a `fori_loop` over iterations of the phase vmapped over
  agents, a fresh key per iteration; gradient phases write `params - 1e-6 grad` so that iterations
  chain (one elementwise pass over the parameters, a small part of the optim phase);
- PyTorch: the same phase written with the reference's modules, agents looped in Python, fresh
  draws per iteration, the same `params - 1e-6 grad` write.

Also the whole update on the same batch (`algo.update` in a `fori_loop`; `TorchDOM2.update`), so
the table shows what fusing the phases into one program saves. `--reps` interleaved A/B timings,
each ~`--seconds` long; median per phase.

    python -m benchmarks.update_phases [--write benchmarks/RESULTS.md] [--presets cpu,paper]
"""

from __future__ import annotations

import argparse
from functools import partial

import numpy as np

from benchmarks.common import (
    DEFAULT_TORCH_THREADS,
    header,
    jax_device,
    jax_matmul_gflops,
    load_average,
    package_versions,
    pick_torch_threads,
    require_torch,
    timed,
    torch_device,
    torch_sync,
    write_section,
)
from benchmarks.flops import PHASES, phase_flops

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


# -- dom2-jax -------------------------------------------------------------------------------------


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


# -- PyTorch --------------------------------------------------------------------------------------


def torch_sides(cfg, arrays, state, device):
    """`{phase: run(n)}` on a `TorchDOM2` holding the same weights as `state`."""
    import torch

    from benchmarks.pytorch_reference import AgentBatch, TorchDOM2, load_dom2_state
    from benchmarks.pytorch_reference.dom2 import clip_and_apply
    from benchmarks.pytorch_reference.nets import q_sample, sampler_noise_shape

    ref = TorchDOM2(cfg, N_AGENTS, OBS_DIM, ACT_DIM, device=device)
    load_dom2_state(ref, state.agents)
    t = {k: torch.as_tensor(v, device=device) for k, v in arrays.items()}
    batch = AgentBatch(**t)
    g, d = ref.generator, cfg.diffusion
    n_batch = t["obs"].shape[1]
    noise_shape = sampler_noise_shape(d.sampler, d.n_steps, n_batch, ACT_DIM)

    def sgd(params, loss):
        grads = torch.autograd.grad(loss, params)
        with torch.no_grad():
            torch._foreach_add_(params, grads, alpha=-SGD_LR)

    def td():
        with torch.no_grad():
            for j, ag in enumerate(ref.agents):
                noise = torch.randn(noise_shape, generator=g, device=device)
                next_a = ref.sample_actions(ag.actor_ema, t["next_obs"][j], noise, ag.mask)
                next_q = torch.min(*ag.critic_target(t["next_obs"][j], next_a))
                (t["rewards"][j] + cfg.gamma * (1.0 - t["terminals"][j].float()) * next_q).mean()

    def critic():  # TD on the data action and the CQL term, one backward (as the reference)
        for j, ag in enumerate(ref.agents):
            obs, actions, target = t["obs"][j], t["actions"][j], t["rewards"][j]
            shape = (2, cfg.cql_samples, n_batch, ACT_DIM)
            random = torch.rand(shape, generator=g, device=device) * 2.0 - 1.0
            log_density = ag.mask.sum() * np.log(0.5)
            obs_rep = obs.expand(cfg.cql_samples, *obs.shape)
            loss = 0.0
            for k, q_net in enumerate((ag.critic.q1, ag.critic.q2)):
                q_data = q_net(obs, actions)
                q_random = q_net(obs_rep, random[k] * ag.mask)
                lse = torch.logsumexp(q_random - log_density, dim=0)
                loss = loss + ((q_data - target) ** 2).mean() + (lse - q_data).mean()
            sgd(list(ag.critic.parameters()), loss)

    def actor_bc():
        for j, ag in enumerate(ref.agents):
            obs, actions = t["obs"][j], t["actions"][j]
            steps = torch.randint(0, d.n_steps, (n_batch,), generator=g, device=device)
            noise = torch.randn((n_batch, ACT_DIM), generator=g, device=device) * ag.mask
            noisy = q_sample(ref.schedule, actions, steps, noise) * ag.mask
            pred = ag.actor(noisy, steps, obs) * ag.mask
            loss = ((pred - noise) ** 2).sum() / (n_batch * ag.mask.sum())
            sgd(list(ag.actor.parameters()), loss)

    def actor_q():
        for j, ag in enumerate(ref.agents):
            obs = t["obs"][j]
            noise = torch.randn(noise_shape, generator=g, device=device)
            q1, q2 = ag.critic(obs, ref.sample_actions(ag.actor, obs, noise, ag.mask))
            loss = -q1.mean() / (q2.abs().mean().detach() + 1e-6)
            sgd(list(ag.actor.parameters()), loss)

    def optim():
        for ag in ref.agents:
            actor_params = list(ag.actor.parameters())
            critic_params = list(ag.critic.parameters())
            with torch.no_grad():
                g_actor = torch._foreach_mul(actor_params, 1e-3)
                g_critic = torch._foreach_mul(critic_params, 1e-3)
            clip_and_apply(ag.actor_opt, actor_params, g_actor, cfg.actor_grad_clip)
            clip_and_apply(ag.critic_opt, critic_params, g_critic, cfg.critic_grad_clip)
            with torch.no_grad():
                ref._ema(ag)
                torch._foreach_lerp_(list(ag.critic_target.parameters()), critic_params, cfg.tau)

    phases = {
        "td_target": td,
        "critic": critic,
        "actor_bc": actor_bc,
        "actor_q": actor_q,
        "optim": optim,
        "update": lambda: ref.update(batch),
    }

    def looped(fn):
        def run(n):
            for _ in range(n):
                fn()
            torch_sync(device)

        return run

    return {k: looped(fn) for k, fn in phases.items()}


# -- the benchmark --------------------------------------------------------------------------------


def calibrate(run, seconds: float) -> int:
    """Iterations of `run` that take about `seconds`."""
    per = timed(lambda: run(2)) / 2
    return max(1, min(10_000, round(seconds / max(per, 1e-7))))


def measure(name: str, reps: int, seconds: float, device) -> dict:
    cfg = algo_config(name)
    arrays = random_batch(cfg.batch_size)
    ours, state = jax_sides(cfg, arrays)
    # the same phases on a quarter of the batch: time that does not shrink with the rows is
    # per-op overhead (launch-bound), not work
    quarter = {k: v[:, : cfg.batch_size // 4] for k, v in arrays.items()}
    small, _ = jax_sides(cfg, quarter, only=set(PHASES))
    theirs = torch_sides(cfg, arrays, state, device)
    threads, _ = pick_torch_threads(lambda: theirs["update"](1))
    sides = {
        "ours": {k: run for k, (run, _) in ours.items()},
        "small": {k: run for k, (run, _) in small.items()},
        "theirs": theirs,
    }
    n_iters = {s: {k: calibrate(f, seconds) for k, f in runs.items()} for s, runs in sides.items()}
    times = {s: {k: [] for k in runs} for s, runs in sides.items()}
    ceilings = []
    for _ in range(reps):  # interleaved A/B, phase by phase; the ceiling under the same load
        ceilings.append(jax_matmul_gflops(repeats=3)[0])
        for k in ours:
            for side, runs in sides.items():
                if k in runs:
                    n = n_iters[side][k]
                    times[side][k].append(timed(lambda run=runs[k], n=n: run(n)) / n)
    med = {s: {k: float(np.median(v)) for k, v in ts.items()} for s, ts in times.items()}
    return {
        "preset": name,
        "batch": cfg.batch_size,
        "threads": threads,
        "flops": phase_flops(cfg, N_AGENTS, OBS_DIM, ACT_DIM),
        "plain_flops": phase_flops(cfg, N_AGENTS, OBS_DIM, ACT_DIM, reuse=False),
        "compile_s": {k: s for k, (_, s) in ours.items()},
        "ceiling": float(np.median(ceilings)),
        **med,
    }


def bound(r: dict, k: str) -> str:
    """What limits a phase, from two measurements: how its time grows with 4x the rows, and the
    share of its time its matmuls would take at the measured ceiling."""
    growth = r["ours"][k] / r["small"][k]
    floor = r["flops"].get(k, 0) / 1e9 / r["ceiling"] / r["ours"][k]
    if growth < 2.0:
        kind = "launch-bound"
    elif floor >= 0.4:
        kind = "matmul-bound"
    else:
        kind = "elementwise-bound" if r["flops"].get(k, 0) else "memory/elementwise-bound"
    return f"{kind} (4x rows: {growth:.1f}x time; matmuls at the ceiling: {100 * floor:.0f}%)"


def table(r: dict) -> list[str]:
    ours, theirs, ceiling = r["ours"], r["theirs"], r["ceiling"]
    flops, plain = r["flops"], r["plain_flops"]
    phases = [k for k in PHASES if k in ours]
    sums = {side: sum(r[side][k] for k in phases) for side in ("ours", "theirs")} | {
        "before": sum(ours[f"{k}_before"] for k in phases)
    }
    lines = [
        f"**{r['preset']} preset** (batch {r['batch']}, PyTorch threads {r['threads']}, matmul "
        f"ceiling during these timings {ceiling:,.0f} GFLOP/s):",
        "",
        "| phase | GFLOP dom2-jax / plain | before ms | dom2-jax ms | speed-up | share "
        "| dom2-jax GFLOP/s (% of ceiling) | PyTorch ms | PyTorch GFLOP/s "
        "| ratio (PyTorch / dom2-jax time) | what limits it now |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]

    def rate(f, s):
        return f"{f / 1e9 / s:,.1f}" if f else "-"

    for k in phases:
        f, a, b, old = flops.get(k, 0), ours[k], theirs[k], ours[f"{k}_before"]
        pct = f" ({100 * f / 1e9 / a / ceiling:.0f}%)" if f else ""
        lines.append(
            f"| {k}: {PHASES[k]} | {f / 1e9:.3f} / {plain[k] / 1e9:.3f} | {1e3 * old:,.2f} "
            f"| {1e3 * a:,.2f} | {old / a:.2f}x | {100 * a / sums['ours']:.0f}% "
            f"| {rate(f, a)}{pct} | {1e3 * b:,.2f} | {rate(plain[k], b)} | {b / a:,.1f}x "
            f"| {bound(r, k)} |"
        )
    total, total_plain = sum(flops.values()), sum(plain.values())
    for label, old, a, b in (
        ("sum of the phases", sums["before"], sums["ours"], sums["theirs"]),
        ("whole update (one program / `TorchDOM2.update`)", None, ours["update"], theirs["update"]),
    ):
        pct = f" ({100 * total / 1e9 / a / ceiling:.0f}%)"
        before = ("-", "-") if old is None else (f"{1e3 * old:,.2f}", f"{old / a:.2f}x")
        lines.append(
            f"| **{label}** | {total / 1e9:.3f} / {total_plain / 1e9:.3f} | {before[0]} "
            f"| {1e3 * a:,.2f} | {before[1]} | | {rate(total, a)}{pct} | {1e3 * b:,.2f} "
            f"| {rate(total_plain, b)} | {b / a:,.1f}x | |"
        )
    a, b = ours["critic"], ours["critic_relu"]
    lines += [
        "",
        f"dom2-jax's critic phase with ReLU critics instead of Mish: {1e3 * b:,.2f} ms vs "
        f"{1e3 * a:,.2f} ms ({rate(flops['critic'], b)} GFLOP/s): Mish's elementwise work "
        f"(forward and backward) is still ~{100 * (1 - b / a):.0f}% of the phase.",
    ]
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--write", help="RESULTS.md to update")
    parser.add_argument("--presets", default="cpu,paper")
    parser.add_argument("--reps", type=int, default=5, help="interleaved A/B timings per phase")
    parser.add_argument("--seconds", type=float, default=0.3, help="length of one timing")
    parser.add_argument("--quick", action="store_true", help="cpu preset, 2 short reps")
    args = parser.parse_args()
    require_torch()
    if args.quick:
        args.presets, args.reps, args.seconds = "cpu", 2, 0.1
    device = torch_device()
    load = load_average()
    ceiling, n = jax_matmul_gflops()  # at the start; each preset measures its own too
    results = []
    for name in args.presets.split(","):
        results.append(measure(name, args.reps, args.seconds, device))
        r = results[-1]
        print(
            f"{name}: "
            + ", ".join(
                f"{k} {1e3 * v:.2f}/{1e3 * r['theirs'].get(k, np.nan):.2f} ms"
                for k, v in r["ours"].items()
            ),
            flush=True,
        )

    lines = header("Where a DOM2 update's time goes: phases timed alone, dom2-jax vs PyTorch")
    lines += [
        f"- versions: {package_versions('jax', 'jaxlib', 'flax', 'optax', 'torch')}",
        f"- devices: dom2-jax {jax_device()}; PyTorch {device} (intra-op threads: the faster of "
        f"its default {DEFAULT_TORCH_THREADS.get('n', '?')} and 1)",
        f"- load average at start (1/5/15 min; other processes share the CPU): {load}",
        "- one update of 3 agents (mpe_spread sizes), 1 seed, one fixed random batch; each phase "
        "alone (dom2-jax: one jitted `fori_loop` per phase, agents vmapped; PyTorch: the "
        "reference's modules, agents looped); gradient phases include a `params - 1e-6 grad` "
        f"write; {args.reps} interleaved timings of ~{args.seconds:g} s per side (before, "
        "dom2-jax, dom2-jax on a quarter of the batch, PyTorch), median ms per iteration",
        "- before: the phase as dom2-jax ran it before issue 15 (XLA's `x * tanh(softplus(x))`, "
        "one `QNetwork.apply` per critic and action set, `NoiseNet.apply` with a per-row time "
        "embedding); speed-up = before / dom2-jax; what limits it: launch-bound when 4x the "
        "rows takes under 2x the time, else matmul-bound when its matmuls at the ceiling would "
        "fill >= 40% of its time, else elementwise-bound",
        f"- matmul ceiling (JAX, float32 {n}x{n} @ {n}x{n}): {ceiling:,.1f} GFLOP/s at the start "
        "(best of 5); the percentages use the ceiling measured between each preset's "
        "repetitions (best of 3 each, median), under the same load; "
        "GFLOP: analytic matmul count (`benchmarks/flops.py`): dom2-jax's as executed "
        "(observation and time features shared), then the plain form (PyTorch's, and "
        "the before column's); each side's rate uses its own; elementwise work not counted",
        "",
    ]
    for r in results:
        lines += table(r) + [""]
        slow = ", ".join(f"{k} {s:.1f}" for k, s in r["compile_s"].items())
        lines += [f"dom2-jax compile s ({r['preset']}): {slow}", ""]
    print("\n".join(lines))
    if args.write:
        write_section(args.write, "update_phases", lines)


if __name__ == "__main__":
    main()
