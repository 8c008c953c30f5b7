"""Analytic matmul FLOPs of one DOM2 update, per phase (XLA's cost analysis counts a `scan` body
once, so it undercounts the sampler; PyTorch's `FlopCounterMode` is the cross-check).

Only Dense-layer matmuls are counted (forward, plus the backward products each loss needs);
elementwise work (Mish, Adam, the sampler's arithmetic) is not, so rates built on these counts
are lower bounds. Two counts (`reuse`):

- `reuse=True`, what dom2-jax executes: a first layer over `[a, o]` (critics) or `[a, emb(t), o]`
  (noise net) computes its observation part once per batch (`nets.critics.ensemble_q`,
  `nets.denoiser.conditioned_noise_net`), the time part once per diffusion step (a table of N
  rows through the time MLP), and the critics score the data action in the CQL term's call;
- `reuse=False`, the plain form the PyTorch reference executes (every row through every layer).
"""

from __future__ import annotations

PHASES = {
    "td_target": "TD target: EMA-actor sampler (no grad) + twin target critics",
    "critic": "critic loss, forward + backward: TD on the data action and the CQL penalty "
    "(twin Q on cql_samples x batch uniform actions)",
    "actor_bc": "actor denoising loss, forward + backward",
    "actor_q": "actor Q term: sampler with gradients through every step + Q, forward + backward",
    "optim": "grad norms, clipping, Adam (actor and critics), EMA actor, Polyak critics",
}


def dense_flops(rows: int, d_in: int, d_out: int, weight_grad: bool, input_grad: bool) -> int:
    """One Dense layer on `rows` rows: forward, plus the backward products asked for."""
    f = 2 * rows * d_in * d_out
    return f * (1 + int(weight_grad) + int(input_grad))


def mlp_flops(batch: int, dims, weight_grad: bool, input_grad: bool) -> int:
    """Matmul FLOPs of Dense layers `dims[0] -> ... -> dims[-1]` on `batch` rows: the forward pass,
    plus the backward products needed for weight and/or input gradients."""
    total = 0
    for i, (a, b) in enumerate(zip(dims[:-1], dims[1:], strict=True)):
        total += dense_flops(batch, a, b, weight_grad, input_grad or (i > 0 and weight_grad))
    return total


def phase_flops(
    algo, n_agents: int, obs_dim: int, act_dim: int, reuse: bool = True
) -> dict[str, int]:
    """Matmul FLOPs of each phase of one DOM2 update of every agent (one seed), per `PHASES`."""
    d = algo.diffusion
    batch, samples = algo.batch_size, algo.cql_samples
    steps = d.n_sample_steps if d.sampler == "dpm_solver1" else d.n_steps
    time_mlp = [d.time_dim, 2 * d.time_dim, d.time_dim]
    h_actor, h_critic = d.hidden[0], algo.critic_hidden[0]

    def actor(calls: int, b: int, weight_grad: bool, input_grad: bool = False) -> int:
        """`calls` noise-net evaluations on the same `b` observations (one per sampler step)."""
        rest = mlp_flops(b, [*d.hidden, act_dim], weight_grad, weight_grad or input_grad)
        if not reuse:
            plain = mlp_flops(b, time_mlp, weight_grad, False) + mlp_flops(
                b,
                [act_dim + d.time_dim + obs_dim, *d.hidden, act_dim],
                weight_grad,
                weight_grad or input_grad,
            )
            return calls * plain
        shared = dense_flops(b, obs_dim, h_actor, weight_grad, False)  # o @ W_o, once
        table = mlp_flops(d.n_steps, time_mlp, weight_grad, False) + dense_flops(
            d.n_steps, d.time_dim, h_actor, weight_grad, False
        )  # emb(t) @ W_t for the N steps, once
        per_call = dense_flops(b, act_dim, h_actor, weight_grad, input_grad) + rest
        return shared + table + calls * per_call

    def critic(sets: int, b: int, weight_grad: bool, input_grad: bool = False) -> int:
        """One critic scoring `sets` action sets at the same `b` observations."""
        if not reuse:
            dims = [obs_dim + act_dim, *algo.critic_hidden, 1]
            return sets * mlp_flops(b, dims, weight_grad, input_grad)
        rest = mlp_flops(sets * b, [*algo.critic_hidden, 1], weight_grad, weight_grad or input_grad)
        return (
            dense_flops(b, obs_dim, h_critic, weight_grad, False)
            + dense_flops(sets * b, act_dim, h_critic, weight_grad, input_grad)
            + rest
        )

    per_agent = {
        "td_target": actor(steps, batch, False) + 2 * critic(1, batch, False),
        # twin critics on the data action (TD and the CQL term share its Q) and the uniform ones
        "critic": 2 * critic(1 + samples, batch, True),
        "actor_bc": actor(1, batch, True),
        # sampler with gradients through every step, then both critics (input gradients only)
        "actor_q": actor(steps, batch, True, input_grad=True) + 2 * critic(1, batch, False, True),
        "optim": 0,
    }
    return {k: n_agents * v for k, v in per_agent.items()}


def update_flops(algo, n_agents: int, obs_dim: int, act_dim: int, reuse: bool = True) -> int:
    """Matmul FLOPs of one DOM2 update of every agent (one seed)."""
    return sum(phase_flops(algo, n_agents, obs_dim, act_dim, reuse).values())
