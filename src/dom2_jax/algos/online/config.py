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
from dom2_jax.envs import env_class

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
    actor_hidden: tuple[int, ...] | None = None
    """Hidden widths of the actors when they differ from the critics' (None: `hidden`); the
    actors are what ships, so a narrower one keeps the policy files small."""
    centralized_critic: bool = True
    """Critics `Q_i(o_1..o_n, a_1..a_n)` (MADDPG/MATD3, CTDE) instead of `Q_i(o_i, a_i)`.
    mpe_spread, seed 0, these defaults: centralised reached OMAR's expert return (516.8) after
    1.2M env steps, decentralised after 1.6M; both ~540 at 2M (2-core CPU)."""
    critic_state: bool = False
    """Centralised critics read the env's global state (`env.global_state`, MaMuJoCo's
    single-agent observation) instead of the concatenated observations: `Q_i(s, a_1..a_n)`,
    still CTDE (actors see only their own obs). HalfCheetah's agents observe their own joints
    only, never the body's forward speed the reward pays for, so a critic on observations
    alone cannot tell a fast stride from a slow one."""
    shared_critic: bool = False
    """One twin critic for the whole team, trained on agent 0's reward, instead of one per
    agent. Only for a shared team reward (MaMuJoCo) with a centralised critic, where the
    per-agent critics would learn the same function: it halves the critic's cost."""
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
        _check(
            self.actor_hidden is None or len(self.actor_hidden) >= 1,
            "actor_hidden",
            "needs at least one hidden layer (or None: the critics' widths)",
        )
        _check(0.0 < self.gamma <= 1.0, "gamma", "must be in (0, 1]")
        _check(0.0 < self.tau <= 1.0, "tau", "must be in (0, 1]")
        for name in ("exploration_noise", "target_noise", "target_noise_clip"):
            _check(getattr(self, name) >= 0.0, name, "must be >= 0")
        _check(self.grad_clip is None or self.grad_clip > 0, "grad_clip", "must be > 0 or None")
        _check(
            self.centralized_critic or not self.critic_state,
            "critic_state",
            "needs centralized_critic=True (a decentralised critic reads its agent's obs only)",
        )
        _check(
            self.centralized_critic or not self.shared_critic,
            "shared_critic",
            "needs centralized_critic=True (one critic must see every agent's action)",
        )

    @property
    def actor_widths(self) -> tuple[int, ...]:
        return self.hidden if self.actor_hidden is None else self.actor_hidden

    @property
    def transitions_per_chunk(self) -> int:
        return self.n_envs * self.chunk_iterations


@dataclass(frozen=True)
class BehaviourPreset:
    """How one environment family's behaviour policies are trained and measured (host loop)."""

    config: MATD3Config
    """The trainer's hyper-parameters."""
    max_env_steps: int
    """Env transitions of the run (the expert is its best evaluated snapshot)."""
    eval_episodes: int
    """Noise-free episodes evaluated after every chunk (selects expert and medium snapshots)."""
    final_eval_episodes: int
    """Episodes of the final measurements recorded in the policy files (random, medium, expert)."""


MPE_PRESET = BehaviourPreset(
    config=MATD3Config(), max_env_steps=3_000_000, eval_episodes=100, final_eval_episodes=1000
)
# HalfCheetah (MaMuJoCo, mjx on a CPU): TD3's locomotion settings (Fujimoto et al. 2018: 2 x 256
# ReLU, gamma 0.99, tau 0.005, batch 256, lr 3e-4, no gradient clip, exploration 0.1), a
# state-reading centralised critic, and ~1 update per env step; few envs, because a CPU steps
# mjx only ~1.3-1.8k env steps/s whatever the batch, so env steps are cheap relative to updates
# only when there are few of them per update. 1000-step episodes make evaluation costly: 10
# episodes per snapshot, 50 for the recorded returns. Sizes and their measured speed: README.
HALFCHEETAH_PRESET = BehaviourPreset(
    config=MATD3Config(
        n_envs=4,
        chunk_iterations=2500,
        updates_per_iteration=4,
        batch_size=256,
        buffer_capacity=1_000_000,
        warmup_steps=10_000,
        hidden=(256, 256),
        actor_hidden=(128, 128),  # 2 agents x 2 x 128 ReLU: ~140 kB per shipped policy
        critic_state=True,
        shared_critic=True,
        actor_lr=3e-4,
        critic_lr=3e-4,
        grad_clip=None,
        gamma=0.99,
        tau=0.005,
    ),
    max_env_steps=500_000,
    eval_episodes=10,
    final_eval_episodes=50,
)
BEHAVIOUR_PRESETS = {"mpe": MPE_PRESET, "halfcheetah": HALFCHEETAH_PRESET}
"""Behaviour-training presets (how behaviour policies are trained), by env family or robot."""
BEHAVIOUR_PRESET_OF: dict[str, str] = {
    "halfcheetah_2x3": "halfcheetah",
    "halfcheetah_6x1": "halfcheetah",
}
"""Envs whose behaviour preset is not their family's (`env.family`): the MaMuJoCo robots differ."""


def behaviour_preset(env_name: str) -> BehaviourPreset:
    """The behaviour-training preset of `env_name`: its `BEHAVIOUR_PRESET_OF` entry, else its
    family's (every MPE env: "mpe")."""
    family = BEHAVIOUR_PRESET_OF.get(env_name) or env_class(env_name).family
    if family not in BEHAVIOUR_PRESETS:
        raise ValueError(
            f"no behaviour-policy preset for env {env_name!r}; "
            f"families: {sorted(BEHAVIOUR_PRESETS)}"
        )
    return BEHAVIOUR_PRESETS[family]
