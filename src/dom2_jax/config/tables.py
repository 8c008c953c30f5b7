"""Published per-(env, level) constants, one table each, in one module (pure data).

What an env *is* (return aggregation, family, opponents, episode length) lives on its class in
`dom2_jax.envs`; this module holds only numbers that papers and their releases published for an
env and dataset level. A new env needs an entry here only if it has such numbers; every lookup
has a default for an env without one.
"""

from __future__ import annotations

LEVELS = ("random", "medium-replay", "medium", "expert")
"""The OMAR protocol's dataset levels, which every env of the main table has."""
MULTIMODAL_LEVELS: dict[str, tuple[str, ...]] = {
    "mpe_spread": ("expert-mix",),
    "xor": ("mixed",),
}
"""Levels only some envs have: multimodal data where a diffusion policy should matter (issue 14)."""
LEVELS_OF: dict[str, tuple[str, ...]] = {"xor": ("random", "mixed")}
"""Envs without the OMAR levels: the xor game has no trained behaviour policies, so only random
and its scripted mixture."""
ALL_LEVELS = tuple(dict.fromkeys(LEVELS + sum(MULTIMODAL_LEVELS.values(), ())))


def levels_for(env: str) -> tuple[str, ...]:
    """Every dataset level `env` has: the OMAR levels plus its multimodal ones."""
    return LEVELS_OF.get(env, LEVELS + MULTIMODAL_LEVELS.get(env, ()))


OMAR_ENVS = ("mpe_spread", "mpe_tag", "mpe_world", "halfcheetah_2x3")
"""The envs of OMAR's benchmark and of the DOM2 paper's main table, in table order."""

# env name -> (random, expert) episode return: the OMAR paper's constants (Appendix B.1), which
# the DOM2 paper's normalised scores use; measured on OMAR's simulators and datasets, so they only
# mean something for returns aggregated the same way (the env's `team_return`).
OMAR_REFERENCE_RETURNS: dict[str, tuple[float, float]] = {
    "mpe_spread": (159.8, 516.8),
    "mpe_tag": (-4.1, 185.6),
    "mpe_world": (-6.8, 79.5),
    "halfcheetah_2x3": (-284.0, 3568.8),
}

# Which of OMAR's two code paths an env follows (its release, algorithms/maddpg.py and main.py):
# "mpe" (uniform CQL proposals, the MPE sizes) or "mujoco" (CQL(H) with mixed proposals, the
# HalfCheetah row `config.baselines.MUJOCO_PAPER_ROW`). Envs not listed follow "mujoco", as
# OMAR's release does for every non-MPE task; a new MPE env gets a row here.
OMAR_SETTINGS: dict[str, str] = {"mpe_spread": "mpe", "mpe_tag": "mpe", "mpe_world": "mpe"}


def omar_settings(env: str) -> str:
    """`"mpe"` or `"mujoco"`: the OMAR code path of `env` (`OMAR_SETTINGS`)."""
    return OMAR_SETTINGS.get(env, "mujoco")


# OMAR's per-(task, dataset) CQL weights (algorithms/maddpg.py in its release; notes.md 1.4).
OMAR_CQL_ALPHA: dict[str, dict[str, float]] = {
    "mpe_spread": {"random": 0.5, "medium-replay": 1.0, "medium": 5.0, "expert": 5.0},
    "mpe_tag": {"random": 0.5, "medium-replay": 0.5, "medium": 5.0, "expert": 5.0},
    "mpe_world": {"random": 0.5, "medium-replay": 1.0, "medium": 0.5, "expert": 5.0},
    "halfcheetah_2x3": {"random": 1.0, "medium-replay": 5.0, "medium": 1.0, "expert": 5.0},
}

# OMAR's per-(task, level) weight of the imitation term of its actor loss (`omar_coe` in
# `env_config_map`, algorithms/maddpg.py of its release; HalfCheetah-v2 -> halfcheetah_2x3).
OMAR_COE: dict[str, dict[str, float]] = {
    "mpe_spread": {"random": 1.0, "medium-replay": 1.0, "medium": 1.0, "expert": 1.0},
    "mpe_tag": {"random": 0.9, "medium-replay": 0.9, "medium": 0.7, "expert": 0.9},
    "mpe_world": {"random": 1.0, "medium-replay": 0.7, "medium": 0.1, "expert": 0.9},
    "halfcheetah_2x3": {"random": 1.0, "medium-replay": 0.9, "medium": 0.7, "expert": 0.5},
}

# Dataset sizes (transitions) of the OMAR protocol: 1M, except medium-replay, whose published
# sizes are the replay buffers until the medium level (og-marl's conversion of the OMAR data).
PAPER_SIZES = {
    "random": 1_000_000,
    "medium": 1_000_000,
    "expert": 1_000_000,
    "expert-mix": 1_000_000,
    "mixed": 1_000_000,
}
# Medium-replay is the replay buffer until the medium snapshot; our MATD3 runs collect more on
# MPE (spread 480k) than OMAR's published buffers (these sizes), so the paper-size datasets
# subsample whole episodes down to them. OMAR's HalfCheetah buffer is larger than ours (120k),
# which cannot be upsampled: that one stays whole.
OMAR_MEDIUM_REPLAY_SIZES = {
    "mpe_spread": 97_500,
    "mpe_tag": 62_500,
    "mpe_world": 80_000,
    "halfcheetah_2x3": 460_000,
}

# The DOM2 authors' replication thresholds per (task, level), read from their later release
# (lizr16/OM2P, utils/buffer.py, `load_batch_data_adaptive`; notes.md section 2): an episode gets
# one extra copy per threshold its agent's own return strictly exceeds. "absolute" thresholds are
# returns on OMAR's scale, which all four envs' datasets are on (spread and HalfCheetah by their
# experts, tag and world by the calibrated prey of issue 14, whose experts reach OMAR's expert
# returns), so the table is the authors' as released. Random data is never replicated.
AUTHORS_QUANTILES = (0.5, 0.75, 0.875, 0.875)
AUTHORS_THRESHOLDS: dict[str, dict[str, tuple[str, tuple[float, ...]]]] = {
    "mpe_spread": {
        "expert": ("absolute", (525.0, 550.0, 575.0, 600.0, 625.0)),
        "medium": ("absolute", tuple(float(x) for x in range(200, 551, 50))),
        "medium-replay": ("quantile", AUTHORS_QUANTILES),
        "random": ("absolute", ()),
        # ours (issue 14): two expert teams on OMAR's scale (546 and 577 with their noise), so
        # the authors' expert thresholds
        "expert-mix": ("absolute", (525.0, 550.0, 575.0, 600.0, 625.0)),
    },
    "mpe_tag": {
        "expert": ("absolute", (200.0, 250.0, 300.0, 350.0, 400.0)),
        "medium": ("absolute", (100.0, 150.0, 200.0, 250.0, 300.0)),
        "medium-replay": ("quantile", AUTHORS_QUANTILES),
        "random": ("absolute", ()),
    },
    "mpe_world": {
        "expert": ("absolute", (75.0, 100.0, 125.0, 150.0, 175.0)),
        "medium": ("quantile", AUTHORS_QUANTILES),
        "medium-replay": ("quantile", AUTHORS_QUANTILES),
        "random": ("absolute", ()),
    },
    "halfcheetah_2x3": {
        "expert": ("absolute", (3800.0, 3850.0, 3900.0, 3950.0, 4000.0)),
        "medium": ("absolute", (1800.0, 1850.0, 1900.0, 1950.0, 2000.0)),
        "medium-replay": ("absolute", (100.0, 300.0, 500.0, 1000.0, 1500.0)),
        "random": ("absolute", ()),
    },
    # not the authors' (they never ran the xor game, issue 14): their quantile fallback, and their
    # convention of no copies on random data
    "xor": {"mixed": ("quantile", AUTHORS_QUANTILES), "random": ("absolute", ())},
}
