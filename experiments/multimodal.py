"""Multimodal joint behaviour (issue 14): do independent diffusion actors coordinate their modes?

    python -m experiments.multimodal --preset multimodal            # trains what is missing
    python -m experiments.multimodal --preset multimodal --tasks xor  # xor only
    python -m experiments.multimodal --preset multimodal-smoke      # the pipeline (not results)

Tasks: the two-agent continuous XOR game on its `mixed` data (`dom2_jax.envs.xor`: 80% of the
episodes play one of the two optimal joint modes (+,-) / (-,+), chosen jointly) and mpe_spread's
`expert-mix` (two expert teams with different landmark conventions). Every algorithm, under the
fair protocol: one budget (updates x batch) and discount per env for every algorithm, a learning
curve per seed, DOM2 and MADiff-QL also at best of K = 50. A task whose dataset cannot be made
(its behaviour policies not shipped) or that `--tasks` leaves out is listed as "not run".

Written under `experiments/results/multimodal/` (`--preset multimodal`): `cells/` (one committed
file per finished cell, reused on rerun, `experiments.common`), `coordination/` (one file per
xor cell), `multimodal_table.{md,csv}`, `coordination.csv` and `multimodal_curves.png`.

The coordination analysis (xor): from each seed's final policy, in evaluation mode, 1000 joint
actions (K = 1, and best of K for the diffusion policies), and the fractions that land in mode A
(+, -), mode B (-, +), the same-sign (miscoordinated) quadrants, or near the origin (some
|a| < 0.2: the modes averaged). A policy that coordinates puts its mass in one joint mode per
seed; independent mode choice gives ~50% same-sign; an averaging (MSE) policy sits at the centre.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
from pathlib import Path
from typing import Any

import numpy as np

from experiments import stats
from experiments.common import (
    DATA_SEED,
    ROOT,
    Cell,
    Dirs,
    MissingData,
    algorithms,
    base_dataset,
    normalise,
    run_cells,
    setup_jax,
    timed_stage,
    write_json,
)
from experiments.fair import column_label, columns
from experiments.presets import ExperimentPreset
from experiments.tables import line_panels, write_csv

STAGE = "multimodal"
TASKS = (("xor", "mixed"), ("mpe_spread", "expert-mix"))
SCORES = {"xor": "eval_return", "mpe_spread": "score_omar"}
"""The table's number per env: xor's raw team return (already in [0, 1]: 1 coordinated, 0.5 the
origin or independent mode choice); spread's OMAR-normalised score."""
COORDINATION_SAMPLES = 1000


@dataclasses.dataclass(frozen=True)
class MultimodalPreset(ExperimentPreset):
    env_episodes: dict[str, int] | None = None
    """Evaluation episodes per env, overriding `eval_episodes` (xor's episodes are one step, so
    100 of them cost less than one spread episode and make its curve's noise small)."""
    samples: int = COORDINATION_SAMPLES
    """Joint actions per seed and candidate count in the coordination analysis."""

    def episodes(self, env: str) -> int:
        return (self.env_episodes or {}).get(env, super().episodes(env))


# What `experiments.presets` would hold (this stage's own presets until they move there).
PRESETS: dict[str, MultimodalPreset] = {
    # xor: 2k updates at batch 256 (a one-step game; its curves are flat over the second half,
    # see the table's convergence flags); spread's budget and discount are the fair protocol's.
    "multimodal": MultimodalPreset(
        name="multimodal",
        algo_preset="cpu",
        data_preset="small",
        compares_with_paper=False,
        n_updates=2_000,
        chunk_updates=1_000,
        n_seeds=3,
        eval_episodes=10,
        mujoco_eval_episodes=10,
        env_episodes={"xor": 100},
        budgets={"xor": (2_000, 256), "mpe_spread": (10_000, 256)},
        gamma={"xor": 0.95, "mpe_spread": 0.95},
        eval_every={"xor": 250, "mpe_spread": 500},
        eval_candidates=(1, 50),
        main_tasks=TASKS,
    ),
    "multimodal-smoke": MultimodalPreset(
        name="multimodal-smoke",
        algo_preset="tiny",
        data_preset="small",
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
        main_tasks=TASKS,
        algos=("dom2", "bc"),
        samples=16,
    ),
}


# ----- cells ----------------------------------------------------------------------------------
def task_cells(exp: ExperimentPreset, env: str, level: str) -> list[Cell]:
    # `algorithms` always lists DOM2 first; `--algos` without it leaves it out here
    return [Cell(a, env, level) for a in algorithms(exp) if exp.algos is None or a in exp.algos]


def run_tasks(
    exp: MultimodalPreset, dirs: Dirs, tasks: tuple[str, ...] | None, progress: bool = True
) -> dict[Cell, dict[str, Any]]:
    """Train (or load) the cells of every selected task whose dataset can be made; the others
    get records with status "not run" and the reason."""
    from dom2_jax.io import generation

    records: dict[Cell, dict[str, Any]] = {}
    for env, level in exp.main_tasks:
        reason = None
        path = generation.default_path(env, level, DATA_SEED, dirs.data, f"-{exp.data_preset}")
        if tasks is not None and env not in tasks and f"{env}/{level}" not in tasks:
            reason = "left out by --tasks"
        elif not dirs.train and not path.exists():  # report only: never generate
            reason = f"no dataset ({path})"
        else:
            try:  # the level's behaviour policies may not be shipped yet (spread expert-mix)
                base_dataset(env, level, exp, dirs)
            except (MissingData, NotImplementedError, FileNotFoundError, ImportError) as err:
                reason = f"no dataset: {err}"
        cells = task_cells(exp, env, level)
        if reason is None:
            records.update(run_cells(cells, exp, dirs, f"{STAGE} {env}/{level}", progress))
        else:
            for cell in cells:
                records[cell] = {
                    "cell": dataclasses.asdict(cell),
                    "status": "not run",
                    "reason": reason,
                }
    return records


# ----- the coordination analysis (xor) --------------------------------------------------------
def sample_joint_actions(record: dict[str, Any], k: int, n: int, seed: int = 0) -> np.ndarray:
    """`[n_seeds, n, 2]` joint actions of the cell's final policies (K = k), `n` per seed."""
    import jax
    import jax.numpy as jnp

    from dom2_jax.io.runs import load_run

    run = load_run(record["run_dir"])
    policy = run.fns.policy(k)
    obs = run.env.observe(run.env.reset(jax.random.key(0), run.env_params)[1], run.env_params)

    def per_seed(state, key):  # the constant observation: n independent draws of the policy
        return jax.vmap(lambda kk: policy(state.algo, obs, kk))(jax.random.split(key, n))

    n_seeds = jax.tree.leaves(run.states)[0].shape[0]
    keys = jax.random.split(jax.random.key(seed), n_seeds)
    actions = jax.jit(jax.vmap(per_seed))(run.states, keys)  # seeds, samples, agents, act
    return np.asarray(jnp.asarray(actions)[..., 0])


def seed_pattern(f: dict[str, float]) -> str:
    """One word per seed: where most of its joint actions fall."""
    if f["centre"] >= 0.5:
        return "centre"
    if f["same_sign"] >= 0.25:
        return "miscoordinated"
    if max(f["mode_a"], f["mode_b"]) >= 0.8:
        return "mode A" if f["mode_a"] > f["mode_b"] else "mode B"
    return "both modes"


def coordination(actions: np.ndarray) -> dict[str, Any]:
    """Per seed and averaged: quadrant fractions, the samples' mean reward, the seed's pattern."""
    from dom2_jax.envs.xor import joint_mode_fractions, xor_reward

    per_seed = []
    for a in actions:
        f = {k: float(v) for k, v in joint_mode_fractions(a).items()}
        f["reward"] = float(np.mean(xor_reward(a)))
        f["pattern"] = seed_pattern(f)
        per_seed.append(f)
    keys = ("centre", "mode_a", "mode_b", "same_sign", "reward")
    mean = {k: float(np.mean([s[k] for s in per_seed])) for k in keys}
    return {"mean": mean, "per_seed": per_seed}


def coordination_records(
    records, exp: MultimodalPreset, dirs: Dirs, compute: bool = True
) -> dict[tuple, dict]:
    """(algo, K) -> coordination of every finished xor cell; a committed file per cell (keyed
    by the cell's hash) so a rerun or a fresh clone without the cache reads it back."""
    out = {}
    for cell, record in records.items():
        if cell.env != "xor" or record.get("status") != "done":
            continue
        path = dirs.results / "coordination" / f"{Path(record['run_dir']).parent.name}.json"
        if path.exists():
            saved = json.loads(path.read_text())
        elif not compute:
            continue
        else:
            ks = exp.eval_candidates if cell.algo in exp.candidate_algos else (1,)
            saved = {
                "cell": dataclasses.asdict(cell),
                "samples_per_seed": exp.samples,
                "by_k": {
                    str(k): coordination(sample_joint_actions(record, k, exp.samples)) for k in ks
                },
            }
            write_json(path, saved)
        for k, value in saved["by_k"].items():
            out[(cell.algo, int(k))] = value
    return out


# ----- tables ---------------------------------------------------------------------------------
def cell_row(record: dict[str, Any] | None, algo: str, k: int, env: str, level: str):
    """The cell's reported number (mean of each seed's last 3 evaluations) with its 95% CI."""
    from dom2_jax.curves import convergence, reported_score

    row: dict[str, Any] = {"env": env, "level": level, "algo": algo, "candidates": k}
    column = "eval_return" if k == 1 else f"eval_return_k{k}"
    curve = None if record is None else (record.get("curve") or {}).get(column)
    if record is None or record.get("status") != "done" or curve is None:
        status = "not run" if record is None else record.get("status", "missing")
        row["mark"] = f"no K={k}" if status == "done" else status
        if record is not None and record.get("reason"):
            row["reason"] = record["reason"].splitlines()[0][:200]
        return row
    score = SCORES.get(env, "score_omar")
    values = np.asarray(curve) if score == "eval_return" else normalise(env, curve, score)
    steps = np.asarray(record["curve"]["step"])
    scores = reported_score(np.asarray(values))
    mean, lo, hi = stats.cell_interval(scores, name=f"{algo}/{env}/{level}/K{k}")
    flag = convergence(np.asarray(values), steps)
    row.update(
        score=score,
        mean=mean,
        lo=lo,
        hi=hi,
        seeds=[round(float(s), 3) for s in scores],
        converged=flag.converged,
        updates=int(steps[-1]),
        batch=record["config"]["algo"].get("batch_size"),
        mark="",
    )
    return row


def build_rows(records, exp: ExperimentPreset) -> list[dict[str, Any]]:
    return [
        cell_row(records.get(Cell(a, env, level)), a, k, env, level)
        for env, level in exp.main_tasks
        for a, k in columns(exp)
    ]


def coordination_rows(coord: dict[tuple, dict], exp: ExperimentPreset) -> list[dict[str, Any]]:
    rows = []
    for algo, k in columns(exp):
        c = coord.get((algo, k))
        if c is None:
            continue
        patterns = [s["pattern"] for s in c["per_seed"]]
        rows.append(
            {"algo": column_label(algo, k), **{n: round(v, 3) for n, v in c["mean"].items()}}
            | {"seeds": ", ".join(patterns)}
        )
    return rows


def markdown(rows, coord_rows, exp: MultimodalPreset) -> str:
    labels = [column_label(*c) for c in columns(exp)]
    lines = [
        "### Multimodal data: mean over seeds [95% bootstrap CI]",
        "",
        "| env / level (number) | " + " | ".join(labels) + " |",
        "|---|" + "---|" * len(labels),
    ]
    for env, level in exp.main_tasks:
        cells = [r for r in rows if (r["env"], r["level"]) == (env, level)]
        digits = 3 if SCORES.get(env) == "eval_return" else 1
        text = [
            stats.format_interval(c["mean"], c["lo"], c["hi"], digits)
            + ("" if c["converged"] else " †")
            if "mean" in c
            else c["mark"]
            for c in cells
        ]
        what = "team return" if SCORES.get(env) == "eval_return" else "OMAR-normalised score"
        lines.append(f"| {env} / {level} ({what}) | " + " | ".join(text) + " |")
    xor_eps = exp.episodes("xor")
    reasons = sorted({f"{r['env']} / {r['level']}: {r['reason']}" for r in rows if r.get("reason")})
    lines += [
        "",
        f"{exp.scale()}; xor: {xor_eps} evaluation episodes per seed and evaluation. Per seed "
        "the number is the mean of its last 3 evaluations; †: not converged "
        "(`dom2_jax.curves.convergence`). xor's team return: 1 in either optimal joint mode, "
        "0.5 at the origin or under independent uniform mode choice, 0 same-sign.",
        *(f"\nNot run: {r}." for r in reasons),
        "",
        "### xor: where the trained policies' joint actions fall",
        "",
        f"{exp.samples} joint actions per seed from the final policy in evaluation mode; "
        "fractions averaged over seeds. centre: some agent's |a| < 0.2 (modes averaged); "
        "mode A (+, -) and mode B (-, +): coordinated; same sign: miscoordinated. "
        "Per seed: its pattern (>= 50% centre; >= 25% same sign: miscoordinated; >= 80% in one "
        "mode: that mode; else both modes).",
        "",
        "| policy | reward | centre | mode A | mode B | same sign | per seed |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in coord_rows:
        lines.append(
            f"| {r['algo']} | {r['reward']:.3f} | {r['centre']:.2f} | {r['mode_a']:.2f} | "
            f"{r['mode_b']:.2f} | {r['same_sign']:.2f} | {r['seeds']} |"
        )
    if not coord_rows:
        lines.append("| (no finished xor cell) | | | | | | |")
    return "\n".join(lines) + "\n"


def curve_panels(records, exp: ExperimentPreset):
    panels = {}
    for env, level in exp.main_tasks:
        series = {}
        for r in build_rows(records, exp):
            if (r["env"], r["level"]) != (env, level) or "mean" not in r:
                continue
            record = records[Cell(r["algo"], env, level)]
            column = "eval_return" if r["candidates"] == 1 else f"eval_return_k{r['candidates']}"
            curve = np.asarray(record["curve"][column])
            if r["score"] != "eval_return":
                curve = np.asarray(normalise(env, curve, r["score"]))
            steps = np.asarray(record["curve"]["step"])
            series[column_label(r["algo"], r["candidates"])] = (
                steps,
                curve.mean(axis=0),
                curve.std(axis=0),
            )
        if series:
            panels[f"{env} / {level}"] = series
    return panels


def write_results(records, coord, exp: MultimodalPreset, results: Path) -> list[Path]:
    rows = build_rows(records, exp)
    coord_rows = coordination_rows(coord, exp)
    results.mkdir(parents=True, exist_ok=True)
    paths = [write_csv(results / "multimodal_table.csv", rows)]
    if coord_rows:
        paths.append(write_csv(results / "coordination.csv", coord_rows))
    md = results / "multimodal_table.md"
    md.write_text(markdown(rows, coord_rows, exp))
    paths.append(md)
    panels = curve_panels(records, exp)
    if panels:
        png = results / "multimodal_curves.png"
        paths.append(line_panels(png, panels, "updates", "return (xor) / score (spread)"))
    return paths


def run(exp: MultimodalPreset, dirs: Dirs, tasks=None, progress: bool = True) -> list[Path]:
    records = run_tasks(exp, dirs, tasks, progress)
    # report only: the committed coordination files, nothing sampled (the cache may be absent)
    coord = coordination_records(records, exp, dirs, compute=dirs.train)
    return write_results(records, coord, exp, dirs.results)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="multimodal", choices=sorted(PRESETS))
    parser.add_argument("--tasks", nargs="+", default=None, help="envs (or env/level) to run")
    parser.add_argument("--algos", nargs="+", default=None, help="algorithms to run (default all)")
    parser.add_argument(
        "--results",
        default=None,
        help="default: experiments/results/multimodal "
        "for the multimodal preset, experiments/cache/results-<preset> otherwise",
    )
    parser.add_argument("--cache", default=str(ROOT / "cache"))
    parser.add_argument("--data", default="data")
    parser.add_argument("--no-progress", action="store_true")
    parser.add_argument("--report-only", action="store_true")
    args = parser.parse_args(argv)
    exp = PRESETS[args.preset]
    if args.algos is not None:  # e.g. two processes, each with some algorithms; the table lists
        exp = dataclasses.replace(exp, algos=tuple(args.algos))  # only those: rerun --report-only
    cache = Path(args.cache)
    default = ROOT / "results" / STAGE if args.preset == STAGE else cache / f"results-{args.preset}"
    results = Path(args.results) if args.results else default
    dirs = Dirs(results=results, cache=cache, data=Path(args.data), train=not args.report_only)
    setup_jax(dirs)
    tasks = None if args.tasks is None else tuple(args.tasks)
    written = timed_stage(
        STAGE, exp, dirs, lambda: run(exp, dirs, tasks, not args.no_progress), argv
    )
    print("\n".join(f"wrote {p}" for p in written))


if __name__ == "__main__":
    main()
