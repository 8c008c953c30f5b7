"""Experiment-scale presets: the scale of every stage, one named instance per machine size.

Not to be confused with the two kinds each one names: a network-size preset of the algorithms
(`dom2_jax.config.NETWORK_PRESETS`) and a dataset-size preset (`dom2_jax.io.generation`).

`cpu` runs every stage under the fair protocol at CPU scale (its cost, measured per cell, is in
experiments/README.md); `paper` is the full scale for a GPU; `smoke` checks the pipeline in
minutes (not results).
The multimodal stage (`experiments.multimodal`) has its own (`MULTIMODAL_PRESETS`): the fair
protocol on multimodal data, with the size of its coordination analysis.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from dom2_jax.config import LEVELS, OMAR_ENVS
from dom2_jax.envs import env_class

ENVS = OMAR_ENVS


@dataclasses.dataclass(frozen=True)
class ExperimentPreset:
    """The scale of every experiment stage (the budget arithmetic is in experiments/README.md)."""

    name: str
    network_preset: str
    """Networks and loss settings: a network-size preset (`dom2_jax.config.NETWORK_PRESETS`:
    paper, cpu, tiny)."""
    dataset_preset: str
    """Dataset size: a dataset-size preset (`dom2_jax.io.generation`; paper: 1M transitions and
    OMAR's medium-replay sizes; small: 50k). A preset whose tables are set beside the paper's
    (`compares_with_paper`) must use paper-size data."""
    n_updates: int
    n_seeds: int
    """Seeds per cell, trained in one vmapped program (`task_seeds` overrides it per task)."""
    eval_episodes: int
    """Evaluation episodes per seed at the end of a run (and per seed and shift)."""
    mujoco_eval_episodes: int
    """The same for the 1000-step episodes of the MuJoCo envs (`family` "mabrax": HalfCheetah)."""
    compares_with_paper: bool = True
    """Whether its tables claim a comparison with the paper's numbers (paper, cpu). The fair
    preset checks the protocol of issue 13 on the small datasets and does not; nor do the smoke
    presets."""
    chunk_updates: int | None = None
    """Updates per compiled chunk (None: all of them in one chunk)."""
    batch_size: int | None = None
    """Overrides every algorithm's batch size (None: the algorithm preset's)."""
    main_tasks: tuple[tuple[str, str], ...] = ()
    shift_tasks: tuple[tuple[str, str], ...] = ()
    efficiency_tasks: tuple[tuple[str, str], ...] = ()
    fractions: tuple[float, ...] = (0.01, 0.025, 0.05, 0.1, 0.25, 1.0)
    efficiency_algos: tuple[str, ...] | None = None
    """Algorithms trained on the fractions below 100% (None: all); 100% has every algorithm
    (the claim compares DOM2's fractions with each baseline's 100% score)."""
    ablation_tasks: tuple[tuple[str, str], ...] = ()
    algos: tuple[str, ...] | None = None
    """Algorithms of every stage (None: every algorithm in `dom2_jax.config.algo_configs`)."""
    budgets: dict[str, tuple[int, int]] | None = None
    """The fair protocol's one budget per env: env -> (updates, batch size) for every algorithm
    of a table (None: `n_updates` and `batch_size` / the presets' batch sizes)."""
    gamma: dict[str, float] | None = None
    """The fair protocol's one discount per env for every algorithm that has one (None: each
    algorithm preset's own)."""
    eval_every: dict[str, int] | None = None
    """Updates between evaluations per env (the curves' spacing; None: one evaluation at the
    end of each chunk)."""
    eval_candidates: tuple[int, ...] = (1,)
    """Evaluation candidate counts of the algorithms with best-of-K acting (`candidate_algos`);
    the others act with their deterministic policy."""
    candidate_algos: tuple[str, ...] = ("dom2", "madiffql")
    eta_tasks: tuple[tuple[str, str], ...] = ()
    """Tasks of the eta sweep (`experiments.eta_sweep`): DOM2 once per task, every eta value
    vmapped in one program."""
    eta_values: tuple[float, ...] = (0.1, 0.5, 1.0, 2.5, 5.0)
    eta_seeds: int = 3
    """Seeds per eta value in the sweep (the runs of a sweep cell are eta values x seeds)."""
    task_seeds: dict[str, int] | None = None
    """Seeds per task, "env/level" -> n, where a task needs more (or fewer) than `n_seeds`:
    the cells a headline claim rests on."""
    env_episodes: dict[str, int] | None = None
    """Evaluation episodes per env, overriding `eval_episodes` / `mujoco_eval_episodes` (xor's
    episodes are one step, so 100 of them cost less than one spread episode and make its
    curve's noise small)."""

    def episodes(self, env: str) -> int:
        """Evaluation episodes per seed on `env`: `env_episodes` if it names the env, else
        `mujoco_eval_episodes` on the MuJoCo family and `eval_episodes` on the others."""
        if env in (self.env_episodes or {}):
            return self.env_episodes[env]
        mujoco = env_class(env).family == "mabrax"
        return self.mujoco_eval_episodes if mujoco else self.eval_episodes

    def seeds(self, env: str, level: str) -> int:
        """Seeds of every cell on (env, level): `task_seeds` if it names the task, else
        `n_seeds`."""
        return (self.task_seeds or {}).get(f"{env}/{level}", self.n_seeds)

    def budget(self, env: str) -> tuple[int, int | None]:
        """(updates, batch size or None for the algorithm preset's) of every cell on `env`."""
        if self.budgets is not None:
            if env not in self.budgets:
                raise ValueError(f"experiment preset {self.name!r} has no budget for env {env!r}")
            return self.budgets[env]
        return self.n_updates, self.batch_size

    def record(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def seed_text(self) -> str:
        if not self.task_seeds:
            return f"{self.n_seeds} seeds"
        counts = sorted(set(self.task_seeds.values()), reverse=True)
        named = "; ".join(
            f"{n} on {', '.join(t for t, m in self.task_seeds.items() if m == n)}" for n in counts
        )
        return f"{self.n_seeds} seeds per task ({named})"

    def scale(self) -> str:
        """One line for the tables and the summary."""
        if self.budgets is not None:
            budgets = ", ".join(
                f"{e}: {u} updates x batch {b}" for e, (u, b) in self.budgets.items()
            )
            gammas = ", ".join(f"{e} {g}" for e, g in (self.gamma or {}).items())
            return (
                f"`{self.name}` experiment preset (the fair protocol): `{self.network_preset}` "
                f"networks, one budget per env for every algorithm ({budgets}), one discount per "
                f"env ({gammas}), {self.seed_text()}, {self.eval_episodes} evaluation episodes "
                f"per seed and evaluation ({self.mujoco_eval_episodes} on HalfCheetah), "
                f"`{self.dataset_preset}` datasets; score = mean of the last 3 evaluations"
            )
        batch = f"batch {self.batch_size}" if self.batch_size else "the presets' batch sizes"
        return (
            f"`{self.name}` experiment preset: `{self.network_preset}` networks, {self.n_updates} "
            f"updates, {batch}, {self.n_seeds} seeds, {self.eval_episodes} evaluation episodes "
            f"per seed ({self.mujoco_eval_episodes} on HalfCheetah), `{self.dataset_preset}` "
            "datasets"
        )


def _grid(envs, levels) -> tuple[tuple[str, str], ...]:
    return tuple((e, lv) for e in envs for lv in levels)


MPE = ENVS[:3]
PRESETS: dict[str, ExperimentPreset] = {
    # The full scale, for a GPU: the paper presets (3x256 networks, 100k updates, batch 256),
    # 5 seeds, 1M-transition datasets, every env x level in every stage.
    "paper": ExperimentPreset(
        name="paper",
        network_preset="paper",
        dataset_preset="paper",
        n_updates=100_000,
        chunk_updates=10_000,
        n_seeds=5,
        eval_episodes=10,
        mujoco_eval_episodes=10,
        main_tasks=_grid(ENVS, LEVELS),
        shift_tasks=_grid(ENVS, LEVELS),
        efficiency_tasks=_grid(ENVS, ("expert",)),
        ablation_tasks=_grid(ENVS, LEVELS),
    ),
    # The fair protocol (issue 13) at CPU scale on the paper-size datasets (issue 14), every
    # stage (issue 18): one budget per env for every algorithm (MPE: step 1's 10k updates x
    # batch 256, after which its spread curves had flattened; HalfCheetah: 20k), one discount
    # per env, learning curves, reported score = mean of the last 3 evaluations, DOM2 and
    # MA-Diffusion-QL at K = 1 and 50. 5 seeds on the tasks the paper's headline rests on, 3
    # elsewhere. Shifts on every env's expert policies; data efficiency on spread expert and
    # medium; ablations on spread expert and medium-replay. The cost is in experiments/README.md.
    "cpu": ExperimentPreset(
        name="cpu",
        network_preset="cpu",
        dataset_preset="paper",
        n_updates=10_000,
        chunk_updates=2_000,
        n_seeds=3,
        task_seeds={
            "mpe_spread/expert": 5,
            "mpe_spread/medium-replay": 5,
            "mpe_spread/random": 5,
            "mpe_tag/expert": 5,
            "mpe_world/expert": 5,
            "halfcheetah_2x3/expert": 5,
        },
        eval_episodes=10,
        mujoco_eval_episodes=10,
        budgets={
            **{env: (10_000, 256) for env in MPE},
            "halfcheetah_2x3": (20_000, 256),
        },
        gamma={**{env: 0.95 for env in MPE}, "halfcheetah_2x3": 0.99},
        eval_every={**{env: 500 for env in MPE}, "halfcheetah_2x3": 2_000},
        eval_candidates=(1, 50),
        main_tasks=_grid(ENVS, LEVELS),
        shift_tasks=_grid(ENVS, ("expert",)),
        efficiency_tasks=(("mpe_spread", "expert"), ("mpe_spread", "medium")),
        efficiency_algos=("dom2", "bc", "matd3bc", "macql", "omar"),
        ablation_tasks=(("mpe_spread", "expert"), ("mpe_spread", "medium-replay")),
    ),
    # The fair protocol on the cells of issue 13 (experiments/README.md): every algorithm gets
    # the same updates x batch per env and the same discount, 5 seeds, a learning curve (10
    # episodes per seed every 500 updates on MPE), the reported score is the mean of the last 3
    # evaluations, and DOM2 is evaluated with 1 and 50 candidates. MPE's gamma is 0.95, the value
    # behind OMAR's published numbers (notes.md 4.5); HalfCheetah keeps 0.99 (D4RL convention,
    # and the value OMAR's MuJoCo baselines were configured with).
    "fair": ExperimentPreset(
        name="fair",
        compares_with_paper=False,
        network_preset="cpu",
        dataset_preset="small",
        n_updates=10_000,
        chunk_updates=2_000,
        n_seeds=5,
        eval_episodes=10,
        mujoco_eval_episodes=10,
        budgets={"mpe_spread": (10_000, 256), "halfcheetah_2x3": (20_000, 256)},
        gamma={"mpe_spread": 0.95, "halfcheetah_2x3": 0.99},
        eval_every={"mpe_spread": 500, "halfcheetah_2x3": 2_000},
        eval_candidates=(1, 50),
        main_tasks=(
            ("mpe_spread", "expert"),
            ("mpe_spread", "medium-replay"),
            ("mpe_spread", "random"),
            ("halfcheetah_2x3", "expert"),
        ),
        algos=("dom2", "bc", "matd3bc", "omar"),
        eta_tasks=(
            ("mpe_spread", "expert"),
            ("mpe_spread", "medium-replay"),
            ("mpe_spread", "random"),
        ),
    ),
    # The fair protocol's pipeline in minutes (not results): tests and the smoke check.
    "fair-smoke": ExperimentPreset(
        name="fair-smoke",
        compares_with_paper=False,
        network_preset="tiny",
        dataset_preset="small",
        n_updates=8,
        chunk_updates=4,
        n_seeds=2,
        eval_episodes=2,
        mujoco_eval_episodes=1,
        budgets={"mpe_spread": (8, 16)},
        gamma={"mpe_spread": 0.95},
        eval_every={"mpe_spread": 2},
        eval_candidates=(1, 3),
        main_tasks=(("mpe_spread", "expert"),),
        algos=("dom2", "bc"),
        eta_tasks=(("mpe_spread", "expert"),),
        eta_values=(0.1, 5.0),
        eta_seeds=2,
    ),
    # A pipeline check in minutes (not results): mpe_spread only.
    "smoke": ExperimentPreset(
        name="smoke",
        compares_with_paper=False,
        network_preset="cpu",
        dataset_preset="small",
        n_updates=100,
        n_seeds=2,
        eval_episodes=2,
        mujoco_eval_episodes=1,
        batch_size=32,
        main_tasks=(("mpe_spread", "random"), ("mpe_spread", "expert")),
        shift_tasks=(("mpe_spread", "expert"),),
        efficiency_tasks=(("mpe_spread", "expert"),),
        fractions=(0.05, 0.25, 1.0),
        ablation_tasks=(("mpe_spread", "expert"),),
    ),
}


@dataclasses.dataclass(frozen=True)
class MultimodalPreset(ExperimentPreset):
    """The multimodal stage's scale (`experiments.multimodal`): the fair protocol's fields and
    the size of its coordination analysis (`experiments.xor_coordination`)."""

    samples: int = 1000
    """Joint actions per seed and candidate count in the coordination analysis."""


MULTIMODAL_TASKS = (("xor", "mixed"), ("mpe_spread", "expert-mix"))
_FAIR = PRESETS["fair"]
MULTIMODAL_PRESETS: dict[str, MultimodalPreset] = {
    # xor: 2k updates at batch 256 (a one-step game; its curves are flat over the second half,
    # see the table's convergence flags); spread's budget, discount, evaluation spacing and
    # candidate counts are the fair protocol's.
    "multimodal": MultimodalPreset(
        name="multimodal",
        network_preset="cpu",
        dataset_preset="small",
        compares_with_paper=False,
        n_updates=2_000,
        chunk_updates=1_000,
        n_seeds=3,
        eval_episodes=10,
        mujoco_eval_episodes=10,
        env_episodes={"xor": 100},
        budgets={"xor": (2_000, 256), "mpe_spread": _FAIR.budgets["mpe_spread"]},
        gamma={"xor": 0.95, "mpe_spread": _FAIR.gamma["mpe_spread"]},
        eval_every={"xor": 250, "mpe_spread": _FAIR.eval_every["mpe_spread"]},
        eval_candidates=_FAIR.eval_candidates,
        main_tasks=MULTIMODAL_TASKS,
    ),
    "multimodal-smoke": MultimodalPreset(
        name="multimodal-smoke",
        network_preset="tiny",
        dataset_preset="small",
        compares_with_paper=False,
        n_updates=4,
        chunk_updates=2,
        n_seeds=2,
        eval_episodes=2,
        mujoco_eval_episodes=1,
        env_episodes={"xor": 4},
        budgets={"xor": (4, 8), "mpe_spread": (4, 8)},
        gamma={"xor": 0.95, "mpe_spread": 0.95},
        eval_every={"xor": 2, "mpe_spread": 2},
        eval_candidates=(1, 3),
        main_tasks=MULTIMODAL_TASKS,
        algos=("dom2", "bc"),
        samples=16,
    ),
}


def preset_by_name(name: str) -> ExperimentPreset:
    if name not in PRESETS:
        raise ValueError(f"unknown experiment preset {name!r}; valid: {sorted(PRESETS)}")
    return PRESETS[name]
