"""Every CLI subcommand end to end, in a subprocess, on tiny settings."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest


def run_cli(*args: str) -> str:
    out = subprocess.run(
        [sys.executable, "-m", "dom2_jax", *args], capture_output=True, text=True, timeout=300
    )
    assert out.returncode == 0, out.stderr
    return out.stdout


@pytest.mark.slow
def test_rollout_prints_return_and_score():
    out = run_cli("rollout", "--env", "mpe_spread", "--num-envs", "8", "--seed", "1")
    assert "mean episode return" in out and "OMAR-normalised score" in out


@pytest.mark.slow
def test_train_on_generated_data_prints_scores(tmp_path):
    data = tmp_path / "d.npz"  # an explicit --dataset must exist (tests/test_cli_errors.py)
    # the size of test_data_writes_a_loadable_dataset's: the same generation program
    run_cli("data", "--env", "mpe_tag", "--level", "random", "--size", "500", "--out", str(data))
    out = run_cli(
        "train",
        "--env",
        "mpe_tag",
        "--level",
        "random",
        "--preset",
        "tiny",
        "--seeds",
        "2",
        "--run-batch",  # the seeds one after another in the program (train.over_runs)
        "1",
        "--dataset",
        str(data),
        "--run-dir",
        str(tmp_path / "run"),
    )
    assert "is missing" not in out
    assert "normalised score (omar reference returns)" in out and "over 2 seed(s)" in out
    assert (tmp_path / "run" / "metrics_seed1.csv").exists()


@pytest.mark.slow
def test_envs_lists_mpe():
    out = run_cli("envs")
    for name in ("mpe_spread", "mpe_tag", "mpe_world"):
        assert name in out


@pytest.mark.slow
def test_data_writes_a_loadable_dataset(tmp_path):
    from dom2_jax.io.dataset_files import load_dataset

    out = tmp_path / "random.npz"
    text = run_cli(
        "data",
        "--env",
        "mpe_tag",
        "--level",
        "random",
        "--size",
        "500",
        "--seed",
        "3",
        "--out",
        str(out),
    )
    assert "wrote" in text and "500 transitions" in text
    dataset, meta = load_dataset(out)
    assert dataset.n_transitions == 500 and dataset.n_episodes == 20
    assert meta["env"] == "mpe_tag" and meta["level"] == "random" and meta["seed"] == 3
    assert meta["reference_returns"]["omar"] == [-4.1, 185.6]
    assert meta["env_params"]["dt"] == 0.10000000149011612


@pytest.mark.slow
def test_expert_data_matches_the_recorded_return(tmp_path):
    import json

    from dom2_jax.io.dataset_files import load_dataset

    out = tmp_path / "expert.npz"
    run_cli("data", "--env", "mpe_spread", "--level", "expert", "--size", "5000", "--out", str(out))
    dataset, meta = load_dataset(out)
    policy = meta["behaviour_policy"]
    record = json.loads(
        (
            Path(__file__).parents[1] / "src/dom2_jax/assets/policies/mpe_spread/expert.json"
        ).read_text()
    )["with_behaviour_noise"]
    stderr = record["std_return"] / (dataset.n_episodes**0.5)
    assert abs(policy["mean_return"] - record["mean_return"]) < 4 * stderr
    assert policy["recorded_return_with_noise"] == record["mean_return"]
    random_ref, expert_ref = meta["reference_returns"]["ours"]
    assert random_ref < 200 < 500 < expert_ref


@pytest.mark.slow
def test_behaviour_trains_and_saves_policies_with_their_command(tmp_path):
    import json

    out = run_cli(
        "behaviour", "--env", "mpe_spread", "--max-env-steps", "150", "--eval-episodes", "2",
        "--final-eval-episodes", "4", "--no-progress", "--out", str(tmp_path),
        "--replay-out", str(tmp_path / "replay.npz"),
        "--set", "n_envs=2", "chunk_iterations=25", "updates_per_iteration=1", "batch_size=8",
        "buffer_capacity=200", "warmup_steps=20", "hidden=[16]",
    )  # fmt: skip
    assert "expert -> " in out
    record = json.loads((tmp_path / "mpe_spread" / "expert.json").read_text())
    assert record["command"].startswith("python -m dom2_jax behaviour --env mpe_spread")
    assert record["config"]["hidden"] == [16] and record["training_env_steps"] == 150
    if "medium -> " in out:
        assert (tmp_path / "replay.npz").exists()
