"""Reloading and evaluating a trained run: `load_run`, `evaluate_run`, `dom2_jax eval`."""

from __future__ import annotations

import json
import subprocess
import sys

import jax
import numpy as np
import orbax.checkpoint as ocp
import pytest
from flax.serialization import to_state_dict

from dom2_jax.config import preset, to_dict
from dom2_jax.io.dataset_files import write_dataset
from dom2_jax.io.metrics import write_json
from dom2_jax.io.runs import evaluate_run, load_run
from dom2_jax.io.training import run_training

TINY = preset("tiny", level="random")  # dom2; as tests/test_train.py, which shares its compiles
SEEDS = TINY.train.n_seeds


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory, tiny_dataset):
    root = tmp_path_factory.mktemp("runs")
    data = write_dataset(root / "tiny.npz", tiny_dataset, {"env": "mpe_spread", "level": "random"})
    run_training(TINY, data, root / "run", progress=False)
    return root / "run"


@pytest.fixture(scope="module")
def run(run_dir):
    return load_run(run_dir)


def eval_cli(*args: str) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "dom2_jax", "eval", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=300)


def flat(tree) -> dict[tuple[str, ...], np.ndarray]:
    """Leaves by key path, lists and dicts alike (orbax restores lists as dicts)."""
    name = lambda k: str(getattr(k, "key", getattr(k, "idx", getattr(k, "name", k))))  # noqa: E731
    leaves = jax.tree_util.tree_flatten_with_path(tree)[0]
    return {tuple(map(name, path)): np.asarray(x) for path, x in leaves}


def test_load_run__restores_the_checkpoint(run):
    n_updates = TINY.train.n_updates
    assert run.step == n_updates and run.config == TINY
    np.testing.assert_array_equal(np.asarray(run.states.algo.step), [n_updates] * SEEDS)
    path = run.run_dir.absolute() / "checkpoints" / str(n_updates) / "state"
    saved = flat(ocp.StandardCheckpointer().restore(path))  # untyped: no target
    restored = flat(to_state_dict(run.states.replace(key=jax.random.key_data(run.states.key))))
    assert saved.keys() == restored.keys()
    for name, x in saved.items():
        np.testing.assert_array_equal(restored[name], x, err_msg=str(name))
    earlier = load_run(run.run_dir, step=TINY.train.chunk_updates)
    assert earlier.step == TINY.train.chunk_updates
    np.testing.assert_array_equal(np.asarray(earlier.states.algo.step), [earlier.step] * SEEDS)


def test_evaluate_run__deterministic_per_k_and_shift(run):
    a = evaluate_run(run, episodes=2, candidates=(1, 4))
    assert a == evaluate_run(run, episodes=2, candidates=(1, 4))
    assert a["candidates"] == [1, 4] and sorted(a["results"]) == ["1", "4"]
    assert [s["name"] for s in a["shifts"]] == ["unshifted"]
    row = a["results"]["1"]["unshifted"]
    assert len(row["team_return"]) == SEEDS and len(row["score_omar"]) == SEEDS
    assert row["score_omar_mean"] == pytest.approx(np.mean(row["score_omar"]))
    shifted = evaluate_run(run, episodes=2, shifts=["learner_speed_x0.5"])
    assert [s["name"] for s in shifted["shifts"]] == ["unshifted", "learner_speed_x0.5"]
    assert shifted["results"]["1"]["unshifted"] == row  # the same episode keys


def test_evaluate_run__best_of_k_needs_a_stochastic_policy(run):
    bc = run._replace(config=preset("tiny", level="random", algo="bc"))
    with pytest.raises(ValueError, match="bc has a deterministic policy"):
        evaluate_run(bc, candidates=(1, 4))
    with pytest.raises(ValueError, match="unknown shift 'nope'"):
        evaluate_run(run, shifts=["nope"])


def test_load_run__errors_name_the_path(tmp_path, run):
    with pytest.raises(FileNotFoundError, match=f"{tmp_path / 'missing'}: no such run"):
        load_run(tmp_path / "missing")
    with pytest.raises(FileNotFoundError, match="no config.json"):
        load_run(tmp_path)
    write_json(tmp_path / "config.json", {"config": to_dict(TINY)})
    with pytest.raises(FileNotFoundError, match=f"{tmp_path}: no checkpoint"):
        load_run(tmp_path)
    with pytest.raises(ValueError, match=r"no checkpoint at update 3; available: \[4, 8\]"):
        load_run(run.run_dir, step=3)


@pytest.mark.slow
def test_eval_cli__writes_json_and_prints_a_table(run_dir, tmp_path):
    out = eval_cli(str(run_dir), "--episodes", "2", "--candidates", "1", "4")  # compiled above
    assert out.returncode == 0, out.stderr
    assert "unshifted" in out.stdout and "omar score" in out.stdout
    result = json.loads((run_dir / "eval.json").read_text())
    for key in ("run_dir", "step", "env", "level", "algo", "episodes", "results"):
        assert key in result
    assert sorted(result["results"]) == ["1", "4"] and result["step"] == TINY.train.n_updates

    bc_dir = tmp_path / "bc"
    bc_dir.mkdir()
    write_json(bc_dir / "config.json", {"config": to_dict(preset("tiny", algo="bc"))})
    out = eval_cli(str(bc_dir), "--candidates", "1", "4")
    assert out.returncode != 0 and "bc has a deterministic policy" in out.stderr
    assert str(bc_dir) in out.stderr
    out = eval_cli(str(tmp_path / "missing"))
    assert out.returncode != 0 and f"{tmp_path / 'missing'}: no such run directory" in out.stderr
