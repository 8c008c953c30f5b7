"""The fair protocol's report: converged curves under one budget, CIs, best-of-K, verdicts.

    python -m experiments.fair --preset fair          # trains what is missing, then writes
    python -m experiments.fair --preset fair-smoke    # the pipeline in minutes (not results)

Cells are the main table's (`experiments.main_table.main_cells`: the preset's tasks x
algorithms, each algorithm as its paper runs it, DOM2 with the authors' reweighting), trained
under the preset's protocol: one budget (updates x batch) and one discount per env for every
algorithm, a learning curve per seed. Written under the results folder
(`experiments/results/fair/` for `--preset fair`):

- `fair_table.{md,csv}`: per task and algorithm the reported score (per seed the mean of its
  last 3 evaluations; `dom2_jax.curves`), its mean over seeds with a 95% bootstrap CI
  (`experiments.stats`, rliable), and the convergence flag recomputed from the stored curve;
  DOM2 (and any diffusion policy) once per evaluation candidate count (K = 1: one sample;
  K = 50: Diffusion-QL's best of 50 by the target critics' min-Q);
- the verdicts "DOM2 beats X" per task, which need separated 95% intervals (else "tie"), and
  across tasks the IQM and mean with stratified-bootstrap CIs and P(DOM2 > X);
- `fair_curves.png`: the learning curves (mean ± std over seeds) of every cell.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from experiments import stats
from experiments.cell_runs import run_cells
from experiments.cells import Cell
from experiments.curve_table import cell_row, column_label, columns, curve_panels
from experiments.folders import Dirs
from experiments.main_table import main_cells, training_order
from experiments.presets import ExperimentPreset
from experiments.stage import stage_main
from experiments.tables import aggregate_figure, line_panels, write_csv

NOT_CONVERGED = "†"


def build_rows(records: dict[Cell, dict], exp: ExperimentPreset) -> list[dict[str, Any]]:
    rows = []
    for env, level in exp.main_tasks:
        for algo, k in columns(exp):
            rows.append(cell_row(records.get(Cell(algo, env, level)), algo, k, env, level))
    return rows


def _interval(row) -> tuple[float, float, float]:
    return row["mean"], row["lo"], row["hi"]


def verdict_rows(rows: list[dict[str, Any]], exp: ExperimentPreset) -> list[dict[str, Any]]:
    """Per task: each DOM2 column against each baseline column (separated 95% CIs)."""
    out = []
    by_key = {(r["env"], r["level"], r["algo"], r["candidates"]): r for r in rows}
    dom2 = [(a, k) for a, k in columns(exp) if a == "dom2"]
    others = [(a, k) for a, k in columns(exp) if a != "dom2"]
    for env, level in exp.main_tasks:
        for a, ka in dom2:
            for b, kb in others:
                ra, rb = by_key[(env, level, a, ka)], by_key[(env, level, b, kb)]
                if "mean" not in ra or "mean" not in rb:
                    continue
                out.append(
                    {
                        "env": env,
                        "level": level,
                        "dom2": column_label(a, ka),
                        "baseline": column_label(b, kb),
                        "difference": ra["mean"] - rb["mean"],
                        "verdict": stats.verdict(_interval(ra), _interval(rb)),
                        "both_converged": bool(ra["converged"] and rb["converged"]),
                    }
                )
    return out


def aggregates(rows: list[dict[str, Any]], exp: ExperimentPreset):
    """IQM / mean with CIs per column and P(DOM2 > X), over the tasks every column finished."""
    done = {}
    for r in rows:
        if "mean" in r:
            done.setdefault((r["env"], r["level"]), {})[(r["algo"], r["candidates"])] = r
    cols = columns(exp)
    tasks = [t for t in exp.main_tasks if t in done and all(c in done[t] for c in cols)]
    if not tasks:
        return tasks, {}, {}
    n_seeds = min(len(done[t][c]["seeds"]) for t in tasks for c in cols)
    scores = {
        column_label(*c): np.array([done[t][c]["seeds"][:n_seeds] for t in tasks]).T for c in cols
    }
    agg = stats.aggregate(scores)
    dom2 = [column_label(a, k) for a, k in cols if a == "dom2"]
    pairs = [(d, column_label(a, k)) for d in dom2 for a, k in cols if a != "dom2"]
    return tasks, agg, stats.probability_of_improvement(scores, pairs)


def markdown(rows, verdicts, agg, exp: ExperimentPreset) -> str:
    cols = columns(exp)
    labels = [column_label(*c) for c in cols]
    lines = [
        "### Fair protocol: OMAR-normalised score, mean over seeds [95% bootstrap CI]",
        "",
        "| env / level | " + " | ".join(labels) + " |",
        "|---|" + "---|" * len(labels),
    ]
    by_key = {(r["env"], r["level"], r["algo"], r["candidates"]): r for r in rows}
    for env, level in exp.main_tasks:
        cells = [by_key[(env, level, a, k)] for a, k in cols]
        best = max((c["mean"] for c in cells if "mean" in c), default=None)
        text = []
        for c in cells:
            if "mean" not in c:
                text.append(c["mark"])
                continue
            t = stats.format_interval(c["mean"], c["lo"], c["hi"])
            t = f"**{t}**" if c["mean"] == best else t
            text.append(t + ("" if c["converged"] else f" {NOT_CONVERGED}"))
        lines.append(f"| {env} / {level} | " + " | ".join(text) + " |")
    lines += [
        "",
        f"{exp.scale()}. Per seed the reported score is the mean of its last 3 evaluations; "
        "the interval is rliable's bootstrap over seeds. "
        f"{NOT_CONVERGED}: not converged (over the last 20% of the curve the seed-mean moved "
        "more than the curve's seed spread; `dom2_jax.curves.convergence`). Bold: the best "
        "mean of the row. 'best of K': K candidate actions per agent, one picked by a softmax "
        "over the target critics' min-Q (Diffusion-QL's evaluation).",
        "",
        "### Verdicts per task (a win needs separated 95% intervals)",
        "",
        "| env / level | DOM2 | baseline | difference | verdict | both converged |",
        "|---|---|---|---|---|---|",
    ]
    for v in verdicts:
        lines.append(
            f"| {v['env']} / {v['level']} | {v['dom2']} | {v['baseline']} | "
            f"{v['difference']:+.1f} | {v['verdict']} | {'yes' if v['both_converged'] else 'no'} |"
        )
    tasks, aggregate, poi = agg
    lines += ["", "### Across tasks", ""]
    if not tasks:
        lines.append("No task has every column finished yet.")
    else:
        names = ", ".join(f"{e} / {lv}" for e, lv in tasks)
        lines += [
            f"Tasks: {names} (stratified bootstrap, 95% CIs).",
            "",
            "| algorithm | IQM | mean |",
            "|---|---|---|",
        ]
        for label, v in aggregate.items():
            lines.append(
                f"| {label} | {stats.format_interval(*v['iqm'])} | "
                f"{stats.format_interval(*v['mean'])} |"
            )
        lines += ["", "| P(X > Y) | value [95% CI] |", "|---|---|"]
        for (x, y), v in poi.items():
            lines.append(f"| P({x} > {y}) | {stats.format_interval(*v, digits=2)} |")
    return "\n".join(lines) + "\n"


def write_results(
    records: dict[Cell, dict], exp: ExperimentPreset, results: Path, stem: str = "fair"
) -> list[Path]:
    """`<stem>_table.{md,csv}`, `<stem>_verdicts.csv`, `<stem>_curves.png` (the main table
    stage writes the same report as `main_table_*` for a preset under the fair protocol)."""
    rows = build_rows(records, exp)
    verdicts = verdict_rows(rows, exp)
    agg = aggregates(rows, exp)
    results.mkdir(parents=True, exist_ok=True)
    paths = [
        write_csv(results / f"{stem}_table.csv", rows),
        write_csv(results / f"{stem}_verdicts.csv", verdicts),
    ]
    md = results / f"{stem}_table.md"
    md.write_text(markdown(rows, verdicts, agg, exp))
    paths.append(md)
    panels = curve_panels(records, exp)
    if panels:
        paths.append(
            line_panels(results / f"{stem}_curves.png", panels, "updates", "OMAR-normalised score")
        )
    tasks, aggregate, poi = agg
    if tasks:  # rliable's aggregate across tasks: IQM and mean, P(DOM2 > X)
        paths += aggregate_figure(results / f"{stem}_aggregate.png", aggregate, poi)
    return paths


def run(exp: ExperimentPreset, dirs: Dirs, progress: bool = True) -> list[Path]:
    records = run_cells(training_order(main_cells(exp), exp), exp, dirs, "fair", progress)
    return write_results(records, exp, dirs.results)


def main(argv: list[str] | None = None) -> None:
    stage_main("fair", run, __doc__, argv)


if __name__ == "__main__":
    main()
