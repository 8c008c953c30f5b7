"""Fair ablations (beyond the paper, as its reviewers asked) on the preset's ablation tasks.

    python -m experiments.ablations --preset cpu

- DOM2's components: without trajectory reweighting, without the CQL term (cql_alpha 0), with
  DDPM ancestral sampling over all N steps instead of DPM-Solver, with centralised critics.
- Trajectory reweighting for everyone: every baseline with and without DOM2's reweighting, and
  the comparison where every algorithm is reweighted (is DOM2's edge the diffusion policy or the
  data scheme?).

The variants are config transforms (`experiments.cells.VARIANTS`). Writes `ablations.csv`,
`ablations.md` and `ablations.png`.
"""

from __future__ import annotations

from pathlib import Path

from experiments.cell_runs import run_cells
from experiments.cells import VARIANTS, Cell, baselines, dom2_and_baselines, task_label
from experiments.folders import Dirs
from experiments.presets import ExperimentPreset
from experiments.scores import cell_scores
from experiments.stage import stage_main
from experiments.tables import SCORE_LABELS, Table, bar_panels, mean_std, write_csv

DOM2_VARIANTS = {
    "default": "DOM2",
    "no_reweight": "DOM2 − reweighting",
    "no_cql": "DOM2 − CQL",
    "ddpm": "DOM2 + DDPM sampler",
    "centralized": "DOM2 + centralised critic",
}


def ablation_cells(exp: ExperimentPreset) -> list[Cell]:
    cells = []
    for env, level in exp.ablation_tasks:
        cells += [Cell("dom2", env, level, v) for v in DOM2_VARIANTS]
        for algo in baselines(exp):
            cells += [Cell(algo, env, level), Cell(algo, env, level, "reweight")]
    return cells


def _scores(records, cell, score):
    record = records.get(cell)
    return None if record is None else cell_scores(record, score)


def _put(values, key, value):
    if value is not None:
        values[key] = value


def components_table(records, exp: ExperimentPreset, score: str) -> Table:
    rows, values = [], {}
    for env, level in exp.ablation_tasks:
        row = task_label(env, level)
        rows.append(row)
        for variant, label in DOM2_VARIANTS.items():
            _put(values, (row, label), _scores(records, Cell("dom2", env, level, variant), score))
    return Table(
        title=f"DOM2 ablations ({SCORE_LABELS[score]})",
        row_header="env / level",
        rows=rows,
        columns=list(DOM2_VARIANTS.values()),
        values=values,
        note="; ".join(
            f"{label}: {VARIANTS[v][0]}" for v, label in DOM2_VARIANTS.items() if v != "default"
        ),
    )


def reweighting_table(records, exp: ExperimentPreset, score: str) -> Table:
    rows, values, side = [], {}, {}
    for env, level in exp.ablation_tasks:
        for algo in dom2_and_baselines(exp):
            row = f"{task_label(env, level)}: {algo}"
            rows.append(row)
            off = "no_reweight" if algo == "dom2" else "default"
            on = "default" if algo == "dom2" else "reweight"
            for column, variant in (("without reweighting", off), ("with reweighting", on)):
                _put(
                    values, (row, column), _scores(records, Cell(algo, env, level, variant), score)
                )
            a, b = values.get((row, "without reweighting")), values.get((row, "with reweighting"))
            if isinstance(a, list) and isinstance(b, list):
                side[(row, "Δ")] = f"{mean_std(b)[0] - mean_std(a)[0]:+.1f}"
    return Table(
        title=f"Trajectory reweighting for every algorithm ({SCORE_LABELS[score]})",
        row_header="env / level: algorithm",
        rows=rows,
        columns=["without reweighting", "with reweighting"],
        values=values,
        side_columns=["Δ"],
        side=side,
    )


def all_reweighted_table(records, exp: ExperimentPreset, score: str) -> Table:
    algos = list(dom2_and_baselines(exp))
    rows, values = [], {}
    for env, level in exp.ablation_tasks:
        row = task_label(env, level)
        rows.append(row)
        for algo in algos:
            variant = "default" if algo == "dom2" else "reweight"
            _put(values, (row, algo), _scores(records, Cell(algo, env, level, variant), score))
    return Table(
        title=f"Every algorithm with trajectory reweighting ({SCORE_LABELS[score]})",
        row_header="env / level",
        rows=rows,
        columns=algos,
        values=values,
        compare=algos,
    )


TABLES = {
    "components": components_table,
    "reweighting": reweighting_table,
    "all_reweighted": all_reweighted_table,
}


def write_results(records: dict[Cell, dict], exp: ExperimentPreset, out: Path) -> list[Path]:
    csv_records = [
        r
        for score in ("score_omar", "score_ours")
        for name, build in TABLES.items()
        for r in build(records, exp, score).records(table=name, score=score)
    ]
    paths = [write_csv(out / "ablations.csv", csv_records)]
    md = out / "ablations.md"
    md.write_text(
        "\n".join(build(records, exp, "score_omar").markdown() for build in TABLES.values())
    )
    paths.append(md)
    panels = {}
    for env, level in exp.ablation_tasks:
        bars = {}
        for variant, label in DOM2_VARIANTS.items():
            value = _scores(records, Cell("dom2", env, level, variant), "score_omar")
            if isinstance(value, list):
                bars[label] = value
        for algo in baselines(exp):
            for variant, suffix in (("default", ""), ("reweight", " + rw")):
                value = _scores(records, Cell(algo, env, level, variant), "score_omar")
                if isinstance(value, list):
                    bars[algo + suffix] = value
        if bars:
            panels[task_label(env, level)] = bars
    if panels:
        colors = {label: "C0" for label in DOM2_VARIANTS.values()}
        for algo in baselines(exp):
            colors[algo], colors[algo + " + rw"] = "C1", "C2"
        paths.append(bar_panels(out / "ablations.png", panels, "OMAR-normalised score", 2, colors))
    return paths


def run(exp: ExperimentPreset, dirs: Dirs, progress: bool = True) -> list[Path]:
    records = run_cells(ablation_cells(exp), exp, dirs, "ablations", progress)
    return write_results(records, exp, dirs.results)


def main(argv: list[str] | None = None) -> None:
    stage_main("ablations", run, __doc__, argv)


if __name__ == "__main__":
    main()
