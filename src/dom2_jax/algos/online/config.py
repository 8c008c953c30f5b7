"""`MATD3Config`: the behaviour-policy trainer's hyper-parameters, one docstring per field.

Defaults follow the MADDPG/OMAR MPE conventions (maddpg-pytorch, which OMAR's MATD3 extends:
2 x 64 ReLU networks, gradient clip 0.5, gamma 0.95, tau 0.01) and TD3 (Fujimoto et al. 2018:
twin critics, target policy
smoothing 0.2 clipped at 0.5, policy delay 2), tuned only for speed on a small CPU where noted.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

from dom2_jax.config import require

_check = partial(require, owner="MATD3Config")


@dataclass(frozen=True)
class MATD3Config:
    """Online MATD3 for behaviour policies (static: every field fixes shapes or loop lengths)."""

    n_envs: int = 32
    """Environments stepped in parallel (vmapped) per iteration; transitions per iteration."""
    chunk_iterations: int = 250
    """Iterations per compiled chunk (`lax.scan` length); the host evaluates between chunks."""
    updates_per_iteration: int = 2
    """Gradient updates (critic every time, actor every `policy_delay`) per iteration."""
    batch_size: int = 256
    """Transitions per gradient update (maddpg-pytorch: 1024; smaller for a CPU budget)."""
    buffer_capacity: int = 200_000
    """Replay capacity in transitions (OMAR: 1e6; smaller to fit a shared small machine)."""
    warmup_steps: int = 10_000
    """Env transitions with uniform random actions before the first update (TD3: 25k)."""
    hidden: tuple[int, ...] = (64, 64)
    """Hidden widths of actors and critics (maddpg-pytorch / OMAR: 64, 64, ReLU)."""
    centralized_critic: bool = True
    """Critics `Q_i(o_1..o_n, a_1..a_n)` (MADDPG/MATD3, CTDE) instead of `Q_i(o_i, a_i)`.
    mpe_spread, seed 0, these defaults: centralised reached OMAR's expert return (516.8) after
    1.2M env steps, decentralised after 1.6M; both ~540 at 2M (2-core CPU)."""
    actor_lr: float = 1e-3
    """Adam step size of the actors (TD3: 1e-3)."""
    critic_lr: float = 1e-3
    """Adam step size of the critics (TD3: 1e-3)."""
    grad_clip: float | None = 0.5
    """Per-agent gradient-norm clip of actor and critic updates (maddpg-pytorch: 0.5); None: off."""
    gamma: float = 0.95
    """Discount (MADDPG's MPE value; what OMAR's release effectively used, notes.md 4.5)."""
    tau: float = 0.01
    """Polyak rate of target actors and critics (MADDPG: 0.01; TD3: 0.005)."""
    exploration_noise: float = 0.1
    """Std of the Gaussian noise added to actions while collecting (TD3: 0.1)."""
    target_noise: float = 0.2
    """Std of the target policy smoothing noise (TD3: 0.2)."""
    target_noise_clip: float = 0.5
    """Clip of the target policy smoothing noise (TD3: 0.5)."""
    policy_delay: int = 2
    """Critic updates per actor and target update (TD3: 2)."""

    def __post_init__(self):
        for name in ("n_envs", "chunk_iterations", "batch_size", "policy_delay"):
            _check(getattr(self, name) >= 1, name, "must be >= 1")
        _check(self.updates_per_iteration >= 0, "updates_per_iteration", "must be >= 0")
        _check(
            self.buffer_capacity >= self.n_envs * self.chunk_iterations,
            "buffer_capacity",
            "must hold at least one chunk (n_envs * chunk_iterations transitions), so the host "
            "can read a chunk's transitions back",
        )
        _check(self.warmup_steps >= 0, "warmup_steps", "must be >= 0")
        _check(len(self.hidden) >= 1, "hidden", "needs at least one hidden layer")
        _check(0.0 < self.gamma <= 1.0, "gamma", "must be in (0, 1]")
        _check(0.0 < self.tau <= 1.0, "tau", "must be in (0, 1]")
        for name in ("exploration_noise", "target_noise", "target_noise_clip"):
            _check(getattr(self, name) >= 0.0, name, "must be >= 0")
        _check(self.grad_clip is None or self.grad_clip > 0, "grad_clip", "must be > 0 or None")

    @property
    def transitions_per_chunk(self) -> int:
        return self.n_envs * self.chunk_iterations
