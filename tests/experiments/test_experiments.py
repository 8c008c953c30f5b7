"""The experiment pipeline on tiny configs: fractions, tables, the cell cache, shifts, summary."""

from __future__ import annotations

import dataclasses
import json
import os
import socket
import subprocess
from pathlib import Path

import numpy as np
import pytest

from dom2_jax.assets import MissingPolicyError
from dom2_jax.data.dataset import episode_returns
from dom2_jax.envs import shifts as shift_table
from dom2_jax.io import generation
from dom2_jax.io.dataset_files import load_dataset, read_metadata, write_dataset
from dom2_jax.io.training import run_training
from experiments import main_table, shifts, summary
from experiments.cell_runs import claim, prepare_cell, run_cell
from experiments.cells import Cell, cell_config
from experiments.datasets import cell_dataset, fraction_subset
from experiments.folders import Dirs
from experiments.presets import ExperimentPreset
from experiments.tables import Table, format_mean_std

TINY = ExperimentPreset(
    name="tiny",
    network_preset="tiny",
    dataset_preset="small",
    n_updates=8,
    chunk_updates=4,
    n_seeds=2,
    eval_episodes=2,
    mujoco_eval_episodes=1,
    main_tasks=(("mpe_spread", "expert"),),
    shift_tasks=(("mpe_spread", "expert"),),
    efficiency_tasks=(("mpe_spread", "expert"),),
    fractions=(0.25, 0.5, 1.0),
    ablation_tasks=(("mpe_spread", "expert"),),
    algos=("dom2", "bc"),
)


@pytest.fixture(scope="module")
def dirs(tmp_path_factory, tiny_dataset):
    """A results / cache / data folder, the tiny dataset standing in for spread's expert level."""
    root = tmp_path_factory.mktemp("experiments")
    dirs = Dirs(results=root / "results", cache=root / "cache", data=root / "data")
    path = generation.default_path("mpe_spread", "expert", 0, dirs.data, suffix="-small")
    meta = {"env": "mpe_spread", "level": "expert", "reference_returns": {"omar": [159.8, 516.8]}}
    write_dataset(path, tiny_dataset, meta)
    return dirs


def episode_set(dataset) -> set[tuple]:
    """Episodes identified by their return (distinct in a random-policy dataset)."""
    return {tuple(np.round(r, 4)) for r in episode_returns(dataset)}


# The fraction sampler (through the cells' code) -------------------------------------------


def test_fractions_are_nested_whole_episodes_and_deterministic(tiny_dataset):
    n = tiny_dataset.n_episodes
    subsets = {f: fraction_subset(tiny_dataset, f) for f in (0.25, 0.5, 1.0)}
    assert subsets[1.0].n_transitions == tiny_dataset.n_transitions  # fraction 1 = all
    assert subsets[0.25].n_episodes == int(np.ceil(0.25 * n))
    assert episode_set(subsets[0.25]) <= episode_set(subsets[0.5]) <= episode_set(subsets[1.0])
    for sub in subsets.values():  # whole episodes: every kept episode has its full length
        assert set(np.bincount(np.asarray(sub.episode_ids))) == {25}
    again = fraction_subset(tiny_dataset, 0.5)
    np.testing.assert_array_equal(np.asarray(again.obs), np.asarray(subsets[0.5].obs))


def test_cell_dataset_writes_the_subset_once_with_its_provenance(dirs, tiny_dataset):
    cell = Cell("dom2", "mpe_spread", "expert", fraction=0.5)
    path, checksum = cell_dataset(cell, TINY, dirs)
    meta = read_metadata(path)
    assert meta["checksum"] == checksum and meta["subsample"]["fraction"] == 0.5
    assert meta["reference_returns"]["omar"] == [159.8, 516.8]
    assert load_dataset(path)[0].n_episodes == int(np.ceil(0.5 * tiny_dataset.n_episodes))
    assert cell_dataset(cell, TINY, dirs) == (path, checksum)
    full, _ = cell_dataset(dataclasses.replace(cell, fraction=1.0), TINY, dirs)
    assert full.parent.parent == dirs.data  # fraction 1 trains on the level's own file


def test_variants_change_only_what_they_name():
    base = cell_config(Cell("dom2", "mpe_spread", "expert"), TINY)
    assert base.reweight.enabled and base.train.n_seeds == 2 and base.train.n_updates == 8
    assert not cell_config(Cell("bc", "mpe_spread", "expert"), TINY).reweight.enabled
    assert cell_config(Cell("bc", "mpe_spread", "expert", "reweight"), TINY).reweight.enabled
    no_cql = cell_config(Cell("dom2", "mpe_spread", "expert", "no_cql"), TINY)
    assert no_cql.algo.cql_alpha == 0.0 and no_cql.reweight.enabled
    ddpm = cell_config(Cell("dom2", "mpe_spread", "expert", "ddpm"), TINY).algo.diffusion
    assert ddpm.sampler == "ddpm" and ddpm.n_sample_steps == ddpm.n_steps
    assert cell_config(
        Cell("dom2", "mpe_spread", "expert", "centralized"), TINY
    ).algo.centralized_critic
    with pytest.raises(ValueError, match="unknown variant"):
        cell_config(Cell("dom2", "mpe_spread", "expert", "nope"), TINY)


# The table builder ----------------------------------------------------------------------


def test_table_bolds_the_row_winner_formats_mean_std_and_marks_missing():
    table = Table(
        title="t",
        row_header="task",
        rows=["a", "b"],
        columns=["dom2", "bc", "omar"],
        values={
            ("a", "dom2"): [1.0, 3.0],
            ("a", "bc"): [4.0, 4.0],
            ("a", "omar"): "missing",
            ("b", "dom2"): [10.0, 12.0],
            ("b", "bc"): [0.0, 2.0],
        },
        side_columns=["OMAR (paper)"],
        side={("a", "OMAR (paper)"): "99.0 ± 1.0"},
        compare=["dom2", "bc", "omar"],
    )
    assert format_mean_std([1.0, 3.0]) == "2.0 ± 1.0"
    md = table.markdown().splitlines()
    assert md[2] == "| task | dom2 | bc | omar | OMAR (paper) |"
    assert md[4] == "| a | 2.0 ± 1.0 | **4.0 ± 0.0** | missing | 99.0 ± 1.0 |"
    assert md[5] == "| b | **11.0 ± 1.0** | 1.0 ± 1.0 | — | — |"  # not run: a dash
    records = {(r["row"], r["column"]): r for r in table.records(score="s")}
    assert records[("a", "bc")]["winner"] and records[("a", "bc")]["n_seeds"] == 2
    assert records[("a", "omar")]["mark"] == "missing" and records[("a", "omar")]["mean"] == ""
    assert records[("b", "omar")]["mark"] == "—"


def test_main_table_puts_published_numbers_beside_and_marks_missing_cells():
    exp = dataclasses.replace(TINY, main_tasks=(("mpe_spread", "expert"), ("mpe_tag", "random")))

    def done(team_return):
        return {
            "status": "done",
            "cell": {"env": "mpe_spread"},
            "final": {"eval_return": [team_return]},
        }

    records = {
        Cell("dom2", "mpe_spread", "expert"): done(200.0),
        Cell("bc", "mpe_spread", "expert"): done(338.3),  # OMAR-normalised: 50.0
        Cell("dom2", "mpe_tag", "random"): {"status": "missing"},
    }
    table = main_table.build_table(records, exp)
    assert table.winners("mpe_spread / expert") == ["bc"]
    assert table.numeric("mpe_spread / expert", "bc") == pytest.approx([50.0])
    assert table.cell_text("mpe_tag / random", "dom2") == "missing"
    assert table.side[("mpe_spread / expert", "OMAR (OMAR paper)")] == "114.9 ± 2.6"
    assert table.side[("mpe_spread / expert", "BC (OMAR paper)")] == "35.0"


# The cell cache, the stages -------------------------------------------------------------


@pytest.mark.slow
def test_a_cell_runs_once_then_hits_the_cache_and_a_config_change_misses(dirs):
    cell = Cell("bc", "mpe_spread", "expert")
    first = run_cell(cell, TINY, dirs)
    assert first["status"] == "done" and not first["cached"] and first["updates"] == 8
    # A shift task's cell: its shift evaluation is committed as it finishes.
    assert len(list((dirs.results / "shifts" / "cells").glob("bc-mpe_spread-expert-*.json"))) == 1
    assert len(first["final"]["score_omar"]) == 2
    again = run_cell(cell, TINY, dirs)
    assert again["cached"] and again["final"] == first["final"]
    other = run_cell(cell, dataclasses.replace(TINY, n_updates=4), dirs)
    assert not other["cached"] and other["key"] != first["key"]


@pytest.mark.slow
def test_a_fresh_clone_reads_a_committed_cell_without_making_its_dataset(
    dirs, tmp_path, monkeypatch
):
    cell = Cell("bc", "mpe_spread", "expert")
    trained = run_cell(cell, TINY, dirs)  # trained by the test above, or now
    fresh = Dirs(results=dirs.results, cache=tmp_path / "cache", data=tmp_path / "data")

    def no_generation(*args, **kwargs):
        raise AssertionError("generated a dataset for a committed cell")

    monkeypatch.setattr(generation, "generate", no_generation)
    record = run_cell(cell, TINY, fresh)
    assert record["cached"] and record["key"] == trained["key"]
    assert record["final"] == trained["final"]
    # Another config has no committed record: it needs its dataset (generated, here refused).
    with pytest.raises(AssertionError, match="generated a dataset"):
        run_cell(cell, dataclasses.replace(TINY, n_updates=12), fresh)
    # ... except in report-only mode, which makes no dataset: the cell is "not run".
    report = dataclasses.replace(fresh, train=False)
    assert run_cell(cell, dataclasses.replace(TINY, n_updates=12), report)["status"] == "not run"


@pytest.mark.slow
def test_an_interrupted_cell_resumes_from_its_checkpoint(dirs):
    cell = Cell("bc", "mpe_spread", "expert", "reweight")
    config, dataset, _, folder = prepare_cell(cell, TINY, dirs)
    run_training(config, dataset, folder / "run", max_chunks=1, progress=False)  # then "killed"
    record = run_cell(cell, TINY, dirs)
    assert not record["cached"] and record["updates"] == 8
    rows = (folder / "run" / "metrics_seed0.csv").read_text().splitlines()
    assert len(rows) == 3  # header + the first chunk's row + the resumed chunk's row
    first_chunk = float(rows[1].split(",")[2])  # the killed invocation's chunk counts too
    assert record["chunk_seconds"] >= first_chunk > 0


def test_a_cell_another_live_process_holds_is_skipped_and_a_dead_ones_claim_taken_over(dirs):
    cell = Cell("bc", "mpe_spread", "expert", "no_reweight")  # never trained in this module
    folder = prepare_cell(cell, TINY, dirs)[3]
    folder.mkdir(parents=True)
    holder = subprocess.Popen(["sleep", "60"])
    try:
        (folder / "claim").write_text(f"{socket.gethostname()}:{holder.pid}")
        record = run_cell(cell, TINY, dirs)
        assert record["status"] == "running" and not (folder / "run").exists()
        assert not claim(folder)
    finally:
        holder.kill()
        holder.wait()
    assert claim(folder) and (folder / "claim").read_text().endswith(f":{os.getpid()}")
    (folder / "claim").unlink()


def test_a_level_without_a_dataset_is_marked_missing(dirs, monkeypatch):
    def no_policy(*args, **kwargs):
        raise MissingPolicyError("no shipped behaviour policy")

    monkeypatch.setattr(generation, "generate", no_policy)
    record = run_cell(Cell("dom2", "mpe_tag", "medium"), TINY, dirs)
    assert record["status"] == "missing" and "behaviour policy" in record["reason"]


@pytest.mark.slow
def test_shift_stage_tables_every_spread_shift_and_the_summary_reads_the_files(dirs):
    written = shifts.run(TINY, dirs, progress=False)
    names = {p.name for p in written}
    assert {"shifts.csv", "shifts.md", "shifts-expert.png"} <= names
    md = (dirs.results / "shifts.md").read_text()
    for shift in shift_table.shifts_for("mpe_spread"):
        assert f"| {shift.name} |" in md
    assert "| expert | " in md and ") / 8 |" in md  # the count over spread's 8 shifts
    cached = json.loads(next((dirs.cache / "cells").glob("dom2-*/shifts-*.json")).read_text())
    assert np.asarray(cached["team_return"]).shape == (2, 9)  # seeds x (unshifted + 8 shifts)
    # The evaluations are committed with the results: a fresh clone (no cache) reads them.
    committed = sorted((dirs.results / "shifts" / "cells").glob("*.json"))
    assert len(committed) >= 2 and json.loads(committed[0].read_text())["names"][0] == "unshifted"
    record = dict(run_cell(Cell("dom2", "mpe_spread", "expert"), TINY, dirs))
    folder = Path(record["run_dir"]).parent.name
    (mine,) = [p for p in committed if p.name.startswith(folder)]
    fresh = dict(record, run_dir=str(dirs.cache / "elsewhere" / folder / "run"))
    assert shifts.evaluate_cell(fresh, TINY, dirs) == json.loads(mine.read_text())
    # A policy trained elsewhere whose evaluation was never committed: marked, not a crash.
    gone = dict(record, run_dir=str(dirs.cache / "elsewhere" / "dom2-gone-0" / "run"))
    cell = Cell("dom2", "mpe_spread", "expert")
    marks = shifts.shift_results({cell: gone}, TINY, dirs, progress=False)
    assert marks[cell] == shifts.NO_CHECKPOINT
    main_table.run(TINY, dirs, progress=False)  # cached cells: writes the tables only
    text = summary.write_summary(dirs.results).read_text()
    assert "## Claims" in text and "Shifts (expert policies)" in text and "/ 8 shifts" in text


def test_presets_that_compare_with_the_paper_use_paper_size_data():
    from experiments.presets import PRESETS

    comparing = [p for p in PRESETS.values() if p.compares_with_paper]
    assert {"paper", "cpu"} <= {p.name for p in comparing}
    assert all(p.dataset_preset == "paper" for p in comparing), [p.name for p in comparing]
