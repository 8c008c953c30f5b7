"""Analytic matmul FLOPs of one DOM2 update, per phase (XLA's cost analysis counts a `scan` body
once, so it undercounts the sampler; PyTorch's `FlopCounterMode` is the cross-check).

Only Dense-layer matmuls are counted (forward, plus the backward products each loss needs);
elementwise work (Mish, Adam, the sampler's arithmetic) is not, so rates built on these counts
are lower bounds.
"""

from __future__ import annotations

PHASES = {
    "td_target": "TD target: EMA-actor sampler (no grad) + twin target critics",
    "critic_td": "critic TD loss, forward + backward (twin Q on data)",
    "cql": "CQL penalty, forward + backward (twin Q on cql_samples x batch uniform actions)",
    "actor_bc": "actor denoising loss, forward + backward",
    "actor_q": "actor Q term: sampler with gradients through every step + Q, forward + backward",
    "optim": "grad norms, clipping, Adam (actor and critics), EMA actor, Polyak critics",
}


def mlp_flops(batch: int, dims, weight_grad: bool, input_grad: bool) -> int:
    """Matmul FLOPs of Dense layers `dims[0] -> ... -> dims[-1]` on `batch` rows: the forward pass,
    plus the backward products needed for weight and/or input gradients."""
    total = 0
    for i, (a, b) in enumerate(zip(dims[:-1], dims[1:], strict=True)):
        f = 2 * batch * a * b
        total += f + (f if weight_grad else 0)
        if input_grad or (i > 0 and weight_grad):
            total += f
    return total


def phase_flops(algo, n_agents: int, obs_dim: int, act_dim: int) -> dict[str, int]:
    """Matmul FLOPs of each phase of one DOM2 update of every agent (one seed), per `PHASES`."""
    d = algo.diffusion
    batch, samples = algo.batch_size, algo.cql_samples
    steps = d.n_sample_steps if d.sampler == "dpm_solver1" else d.n_steps
    actor_dims = [act_dim + d.time_dim + obs_dim, *d.hidden, act_dim]
    critic_dims = [obs_dim + act_dim, *algo.critic_hidden, 1]

    def actor(b, weight_grad, input_grad=False):
        time_mlp = mlp_flops(b, [d.time_dim, 2 * d.time_dim, d.time_dim], weight_grad, False)
        return time_mlp + mlp_flops(b, actor_dims, weight_grad, weight_grad or input_grad)

    def critic(b, weight_grad, input_grad=False):
        return mlp_flops(b, critic_dims, weight_grad, input_grad)

    per_agent = {
        "td_target": steps * actor(batch, False) + 2 * critic(batch, False),
        "critic_td": 2 * critic(batch, True),  # Q(o, a_data), twin
        # uniform actions, twin (the data term reuses the TD term's Q(o, a_data))
        "cql": 2 * critic(samples * batch, True),
        "actor_bc": actor(batch, True),
        # sampler with gradients through every step, then both critics (input gradients only)
        "actor_q": steps * actor(batch, True, input_grad=True) + 2 * critic(batch, False, True),
        "optim": 0,
    }
    return {k: n_agents * v for k, v in per_agent.items()}


def update_flops(algo, n_agents: int, obs_dim: int, act_dim: int) -> int:
    """Matmul FLOPs of one DOM2 update of every agent (one seed)."""
    return sum(phase_flops(algo, n_agents, obs_dim, act_dim).values())
