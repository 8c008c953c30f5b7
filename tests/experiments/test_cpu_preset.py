"""The cpu preset's protocol pieces, without training: seeds per task, the headline tasks
first, and the shift count by intervals."""

from __future__ import annotations

from experiments import shifts
from experiments.cells import Cell, cell_config
from experiments.main_table import main_cells, training_order
from experiments.presets import PRESETS
from experiments.tables import Table


def test_headline_tasks_get_five_seeds_the_others_three_and_train_first():
    cpu = PRESETS["cpu"]
    assert cell_config(Cell("dom2", "mpe_spread", "expert"), cpu).train.n_seeds == 5
    assert cell_config(Cell("bc", "mpe_tag", "random"), cpu).train.n_seeds == 3
    assert "5 on mpe_spread/expert" in cpu.scale()
    order = training_order(main_cells(cpu), cpu)
    n_headline = 6 * 7  # 6 tasks x DOM2 and 6 baselines
    assert len(order) == 16 * 7
    assert all(f"{c.env}/{c.level}" in cpu.task_seeds for c in order[:n_headline])
    assert not any(f"{c.env}/{c.level}" in cpu.task_seeds for c in order[n_headline:])


def test_every_cpu_cell_of_an_env_shares_its_budget_and_discount():
    cpu = PRESETS["cpu"]
    for env in ("mpe_spread", "halfcheetah_2x3"):
        configs = [cell_config(Cell(a, env, "expert"), cpu) for a in ("dom2", "omar", "matd3bc")]
        assert len({(c.train.n_updates, c.algo.batch_size) for c in configs}) == 1
        assert len({c.algo.gamma for c in configs}) == 1


def test_a_shift_counts_for_dom2_only_when_its_interval_clears_every_baseline():
    rows = ["unshifted", "clear", "overlap", "behind"]
    values = {
        ("unshifted", "dom2"): [1.0, 1.0, 1.0],
        ("unshifted", "bc"): [1.0, 1.0, 1.0],
        ("clear", "dom2"): [10.0, 11.0, 12.0],
        ("clear", "bc"): [1.0, 2.0, 3.0],
        ("overlap", "dom2"): [5.0, 6.0, 12.0],  # a higher mean, intervals overlapping
        ("overlap", "bc"): [4.0, 5.0, 6.0],
        ("behind", "dom2"): [1.0, 2.0, 3.0],
        ("behind", "bc"): [10.0, 11.0, 12.0],
    }
    table = Table(title="", row_header="shift", rows=rows, columns=["dom2", "bc"], values=values)
    by_ci, by_mean, total, lost = shifts.dom2_wins(table)
    assert (by_ci, by_mean, total) == (1, 2, 3) and lost == ["overlap", "behind"]


def _records(rows: dict[str, dict[str, list[float]]]) -> list[dict]:
    """Main-table CSV records (as `Table.records` writes them) of per-seed scores."""
    return [
        {
            "env": "mpe_spread",
            "level": level,
            "row": f"mpe_spread / {level}",
            "column": column,
            "score": "score_omar",
            "mean": str(sum(seeds) / len(seeds)),
            "seeds": " ".join(str(v) for v in seeds),
        }
        for level, columns in rows.items()
        for column, seeds in columns.items()
    ]


def test_summary_verdicts_come_from_intervals_not_means():
    from experiments.claims import main_claims

    ahead = {"dom2": [50.0, 51.0, 52.0], "bc": [10.0, 11.0, 12.0]}
    level = {"dom2": [10.0, 30.0, 50.0], "bc": [20.0, 25.0, 30.0]}  # DOM2's mean higher
    behind = {"dom2": [1.0, 2.0, 3.0], "bc": [40.0, 41.0, 42.0]}
    claims = main_claims(_records({"expert": ahead}))
    assert claims[0][3] == "holds" and claims[1][3] == "not measured"  # no random level
    claims = main_claims(_records({"expert": ahead, "medium": level}))
    assert claims[0][3].startswith("ties") and "on 1 / 2 tasks" in claims[0][2]
    claims = main_claims(_records({"expert": ahead, "random": behind}))
    assert claims[0][3].startswith("does not hold") and "random (bc 41.0" in claims[0][2]
    assert claims[1][3].startswith("does not hold")  # the random-datasets claim


def test_data_efficiency_matches_by_intervals():
    from experiments.claims import efficiency_claims

    def rec(fraction, column, seeds):
        return {
            "env": "mpe_spread",
            "level": "expert",
            "fraction": str(fraction),
            "column": column,
            "score": "score_omar",
            "mean": str(sum(seeds) / len(seeds)),
            "seeds": " ".join(str(v) for v in seeds),
        }

    records = [
        rec(0.01, "dom2", [10.0, 11.0, 12.0]),  # below bc's 100% interval
        rec(0.05, "dom2", [38.0, 45.0, 52.0]),  # mean below bc's, intervals overlapping
        rec(1.0, "dom2", [60.0, 61.0, 62.0]),
        rec(1.0, "bc", [49.0, 50.0, 51.0]),
    ]
    ((_, _, ours, verdict),) = efficiency_claims(records)
    assert verdict == "holds" and "bc: 5% (" in ours


def test_the_readme_verdict_block_is_written_from_the_result_files(tmp_path):
    import pytest

    from experiments import summary
    from experiments.tables import write_csv

    results = tmp_path / "results"
    results.mkdir()
    ahead = {"dom2": [50.0, 51.0, 52.0], "bc": [10.0, 11.0, 12.0]}
    write_csv(results / "main_table_published.csv", _records({"expert": ahead, "random": ahead}))
    readme = tmp_path / "README.md"
    readme.write_text(f"# x\n\n{summary.README_BEGIN}\nSTALE ROW\n{summary.README_END}\n\nafter\n")
    text = summary.write_readme_verdicts(readme, results).read_text()
    assert "STALE ROW" not in text and text.endswith("\n\nafter\n")
    assert "| Main table: DOM2 beats every baseline" in text and "| holds |" in text
    assert "| Shifts: DOM2 beats the baselines in 28 of 30" in text and "stage not run yet" in text
    readme.write_text("# no block\n")
    with pytest.raises(ValueError, match="README.md: no verdict block"):
        summary.write_readme_verdicts(readme, results)


def test_run_all_runs_the_multimodal_and_eta_stages_under_their_own_presets():
    from experiments.run_all import STAGES, stage_preset

    cpu, smoke = PRESETS["cpu"], PRESETS["smoke"]
    assert list(STAGES)[-2:] == ["multimodal", "eta_sweep"]
    assert stage_preset("main_table", cpu) is cpu
    assert stage_preset("multimodal", cpu).name == "multimodal"
    assert stage_preset("eta_sweep", cpu).name == "fair"
    assert stage_preset("multimodal", smoke).name == "multimodal-smoke"
    assert stage_preset("eta_sweep", smoke).name == "fair-smoke"


def test_the_readme_holds_the_verdict_block_the_summary_rewrites():
    from experiments import summary
    from experiments.folders import ROOT

    text = (ROOT.parent / "README.md").read_text()
    assert text.count(summary.README_BEGIN) == 1 and text.count(summary.README_END) == 1
    assert text.index(summary.README_BEGIN) < text.index(summary.README_END)
