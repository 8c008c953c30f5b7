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
file per finished cell, reused on rerun, `experiments.cell_runs`), `coordination/` (one file per
xor cell), `multimodal_table.{md,csv}`, `coordination.csv` and `multimodal_curves.png`.

The coordination analysis (xor: where each seed's sampled joint actions fall) is
`experiments.xor_coordination`; the presets are `experiments.presets.MULTIMODAL_PRESETS`.
"""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path
from typing import Any

from experiments import stats
from experiments.cell_runs import run_cells
from experiments.cells import DOM2, Cell, baselines
from experiments.curve_table import RAW, SCORE, cell_row, column_label, columns, curve_panels
from experiments.datasets import DATA_SEED, MissingData, base_dataset
from experiments.folders import ROOT, Dirs
from experiments.presets import MULTIMODAL_PRESETS as PRESETS
from experiments.presets import ExperimentPreset, MultimodalPreset
from experiments.stage import setup_jax, timed_stage
from experiments.tables import line_panels, write_csv
from experiments.xor_coordination import coordination_records, coordination_rows

STAGE = "multimodal"
SCORES = {"xor": RAW, "mpe_spread": SCORE}
"""The table's number per env: xor's raw team return (already in [0, 1]: 1 coordinated, 0.5 the
origin or independent mode choice); spread's OMAR-normalised score."""
ROW = {
    "fields": ("score", "mean", "lo", "hi", "seeds", "converged", "updates", "batch"),
    "seed_digits": 3,
    "reasons": True,
}
"""What the table keeps of a cell's row (`experiments.curve_table.cell_row`)."""


# ----- cells ----------------------------------------------------------------------------------
def task_cells(exp: ExperimentPreset, env: str, level: str) -> list[Cell]:
    """The cells of the algorithms `exp.algos` selects: `--algos` without DOM2 trains no DOM2
    cell (the table still has DOM2's columns, `experiments.curve_table.columns`)."""
    dom2 = (DOM2,) if exp.algos is None or DOM2 in exp.algos else ()
    return [Cell(a, env, level) for a in (*dom2, *baselines(exp))]


def run_tasks(
    exp: MultimodalPreset, dirs: Dirs, tasks: tuple[str, ...] | None, progress: bool = True
) -> dict[Cell, dict[str, Any]]:
    """Train (or load) the cells of every selected task whose dataset can be made; the others
    get records with status "not run" and the reason."""
    from dom2_jax.io import generation

    records: dict[Cell, dict[str, Any]] = {}
    for env, level in exp.main_tasks:
        reason = None
        path = generation.default_path(env, level, DATA_SEED, dirs.data, f"-{exp.dataset_preset}")
        if tasks is not None and env not in tasks and f"{env}/{level}" not in tasks:
            reason = "left out by --tasks"
        elif not dirs.train and not path.exists():  # report only: never generate
            reason = f"no dataset ({path})"
        else:
            try:  # the level's behaviour policies may not be shipped yet (spread expert-mix)
                base_dataset(env, level, exp, dirs)
            except (MissingData, FileNotFoundError, ImportError) as err:
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


# ----- tables ---------------------------------------------------------------------------------
def build_rows(records, exp: ExperimentPreset) -> list[dict[str, Any]]:
    return [
        cell_row(records.get(Cell(a, env, level)), a, k, env, level, SCORES.get(env, SCORE), **ROW)
        for env, level in exp.main_tasks
        for a, k in columns(exp)
    ]


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
        digits = 3 if SCORES.get(env) == RAW else 1
        text = [
            stats.format_interval(c["mean"], c["lo"], c["hi"], digits)
            + ("" if c["converged"] else " †")
            if "mean" in c
            else c["mark"]
            for c in cells
        ]
        what = "team return" if SCORES.get(env) == RAW else "OMAR-normalised score"
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
    panels = curve_panels(records, exp, SCORES)
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
