"""Published baseline numbers beside which our reruns are shown (normalised scores, mean, std).

Source: the OMAR paper (Pan et al., "Plan Better Amid Conservatism: Offline Multi-Agent RL with
Actor Rectification", ICLR 2022, arXiv 2111.11188): Table 3 (MPE, 5 seeds, mean ± std) and
Table 6 (two-agent HalfCheetah), as transcribed in ../shared/paper/notes.md section 7.2. The BC
row (no std) is MADiff's README table (https://github.com/zbzhu99/madiff), which reproduces
OMAR's Table 3 cell by cell and adds BC. The DOM2 paper reuses OMAR's datasets and protocol;
DOM2's own tables are not in any copy we have (notes.md 7.1), so no DOM2 column appears here.

These numbers were measured on OMAR's simulators and datasets; ours are regenerated (README:
behaviour policies), so only the OMAR-normalised scores of spread are on a comparable scale.
"""

from __future__ import annotations

SOURCE = (
    "OMAR paper (Pan et al., ICLR 2022), Tables 3 and 6; BC from MADiff's README "
    "(../shared/paper/notes.md section 7.2)"
)

# Published method name -> our algorithm name (None: no rerun here).
METHODS: dict[str, str | None] = {
    "BC": "bc",
    "MA-ICQ": None,
    "MA-TD3+BC": "matd3bc",
    "MA-CQL": "macql",
    "OMAR": "omar",
}

_MPE_TABLE3 = {
    # (env, level): {method: (mean, std)}
    ("mpe_spread", "random"): {
        "MA-ICQ": (6.3, 3.5),
        "MA-TD3+BC": (9.8, 4.9),
        "MA-CQL": (24.0, 9.8),
        "OMAR": (34.4, 5.3),
    },
    ("mpe_tag", "random"): {
        "MA-ICQ": (2.2, 2.6),
        "MA-TD3+BC": (5.7, 3.5),
        "MA-CQL": (5.0, 8.2),
        "OMAR": (11.1, 2.8),
    },
    ("mpe_world", "random"): {
        "MA-ICQ": (1.0, 3.2),
        "MA-TD3+BC": (2.8, 5.5),
        "MA-CQL": (0.6, 2.0),
        "OMAR": (5.9, 5.2),
    },
    ("mpe_spread", "medium-replay"): {
        "MA-ICQ": (13.6, 5.7),
        "MA-TD3+BC": (15.4, 5.6),
        "MA-CQL": (20.0, 8.4),
        "OMAR": (37.9, 12.3),
    },
    ("mpe_tag", "medium-replay"): {
        "MA-ICQ": (34.5, 27.8),
        "MA-TD3+BC": (28.7, 20.9),
        "MA-CQL": (24.8, 17.3),
        "OMAR": (47.1, 15.3),
    },
    ("mpe_world", "medium-replay"): {
        "MA-ICQ": (12.0, 9.1),
        "MA-TD3+BC": (17.4, 8.1),
        "MA-CQL": (29.6, 13.8),
        "OMAR": (42.9, 19.5),
    },
    ("mpe_spread", "medium"): {
        "MA-ICQ": (29.3, 5.5),
        "MA-TD3+BC": (29.3, 4.8),
        "MA-CQL": (34.1, 7.2),
        "OMAR": (47.9, 18.9),
    },
    ("mpe_tag", "medium"): {
        "MA-ICQ": (63.3, 20.0),
        "MA-TD3+BC": (65.1, 29.5),
        "MA-CQL": (61.7, 23.1),
        "OMAR": (66.7, 23.2),
    },
    ("mpe_world", "medium"): {
        "MA-ICQ": (71.9, 20.0),
        "MA-TD3+BC": (73.4, 9.3),
        "MA-CQL": (58.6, 11.2),
        "OMAR": (74.6, 11.5),
    },
    ("mpe_spread", "expert"): {
        "MA-ICQ": (104.0, 3.4),
        "MA-TD3+BC": (108.3, 3.3),
        "MA-CQL": (98.2, 5.2),
        "OMAR": (114.9, 2.6),
    },
    ("mpe_tag", "expert"): {
        "MA-ICQ": (113.0, 14.4),
        "MA-TD3+BC": (115.2, 12.5),
        "MA-CQL": (93.9, 14.0),
        "OMAR": (116.2, 19.8),
    },
    ("mpe_world", "expert"): {
        "MA-ICQ": (109.5, 22.8),
        "MA-TD3+BC": (110.3, 21.3),
        "MA-CQL": (71.9, 28.1),
        "OMAR": (110.4, 25.7),
    },
}

# MADiff README's BC row (no std): expert / medium-replay / medium / random.
_BC = {
    "mpe_spread": (35.0, 10.0, 31.6, -0.5),
    "mpe_tag": (40.0, 0.9, 22.5, 1.2),
    "mpe_world": (33.0, 2.3, 25.3, -2.4),
}

_HALFCHEETAH_TABLE6 = {
    "random": {
        "MA-ICQ": (7.4, 0.0),
        "MA-TD3+BC": (7.4, 0.0),
        "MA-CQL": (7.4, 0.0),
        "OMAR": (15.4, 12.3),
    },
    "medium-replay": {
        "MA-ICQ": (35.6, 2.7),
        "MA-TD3+BC": (27.1, 5.5),
        "MA-CQL": (41.2, 10.1),
        "OMAR": (57.7, 5.1),
    },
    "medium": {
        "MA-ICQ": (73.6, 5.0),
        "MA-TD3+BC": (75.5, 3.7),
        "MA-CQL": (50.4, 10.8),
        "OMAR": (80.7, 10.2),
    },
    "expert": {
        "MA-ICQ": (110.6, 3.3),
        "MA-TD3+BC": (114.4, 3.8),
        "MA-CQL": (64.2, 24.9),
        "OMAR": (113.5, 4.3),
    },
}


def _build() -> dict[tuple[str, str], dict[str, tuple[float, float | None]]]:
    table: dict[tuple[str, str], dict[str, tuple[float, float | None]]] = {}
    for key, row in _MPE_TABLE3.items():
        table[key] = dict(row)
    for env, values in _BC.items():
        for level, value in zip(
            ("expert", "medium-replay", "medium", "random"), values, strict=True
        ):
            table[(env, level)]["BC"] = (value, None)
    for level, row in _HALFCHEETAH_TABLE6.items():
        table[("halfcheetah_2x3", level)] = dict(row)
    return table


# (env, level) -> {published method: (mean, std or None)}
PUBLISHED: dict[tuple[str, str], dict[str, tuple[float, float | None]]] = _build()


def published(env: str, level: str, method: str) -> tuple[float, float | None] | None:
    """The published (mean, std) of `method` on (env, level), or None when not published."""
    return PUBLISHED.get((env, level), {}).get(method)
