"""The compiled training program and its host loop: seeds, chunking, resume, NaN stop, sharding."""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import socket
import subprocess
import sys
import time

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from dom2_jax.config import from_dict, preset, to_dict
from dom2_jax.io.checkpoint import Checkpointer
from dom2_jax.io.dataset_files import write_dataset
from dom2_jax.io.training import NonFiniteError, run_training
from dom2_jax.train import (
    batched_init,
    chunk_program,
    init_runs,
    make_train,
    make_train_data,
    over_runs,
    seed_keys,
)

TINY = preset("tiny", level="random")
RUN = preset("tiny", level="random", n_seeds=2, eval_every=2, eval_candidates=(1, 3))
"""The DOM2 config of the in-process tests and the CLI kill/resume run: one chunk program per run
count (`chunk_program`, shared with `run_training` in this process and through the compilation
cache with the CLI's), with an evaluation every 2 updates, with 1 and best-of-3 candidates: the
learning curve's columns."""
OFF = dataclasses.replace(RUN, reweight=dataclasses.replace(RUN.reweight, enabled=False))
"""`RUN` without reweighting (another sampling-CDF shape, so a second program)."""
BC = preset("tiny", level="random", algo="bc")
"""The config of the tests of the program's structure (seeds, chunking, one whole program, run
batches): what they check is `dom2_jax.train`'s keys and scans, the same for every algorithm
(each update's randomness is the key it is given), so the cheapest to compile; DOM2 runs
through the same paths in the tests of the host loop below."""
BC4 = dataclasses.replace(BC, train=dataclasses.replace(BC.train, n_seeds=4))
"""The sharding tests' config: what they check is the host loop's placement of the seed axis."""


@pytest.fixture(scope="module")
def dataset_file(tmp_path_factory, tiny_dataset):
    path = tmp_path_factory.mktemp("data") / "tiny.npz"
    return write_dataset(path, tiny_dataset, {"env": "mpe_spread", "level": "random"})


def compiled(config, tiny_dataset):
    fns, chunk = chunk_program(config)  # = run_training's program
    return fns, make_train_data(tiny_dataset, "mpe_spread", config), chunk


@pytest.fixture(scope="module")
def program(tiny_dataset):
    return compiled(RUN, tiny_dataset)


@pytest.fixture(scope="module")
def bc_program(tiny_dataset):
    return compiled(BC, tiny_dataset)


@pytest.fixture(scope="module")
def bc_reference(tmp_path_factory, dataset_file):
    """`BC4` trained in this process on one device: the sharded runs' reference."""
    run_dir = tmp_path_factory.mktemp("bc-reference") / "run"
    run_training(BC4, dataset_file, run_dir, progress=False)
    return run_dir


def leaves(tree):
    return [
        np.asarray(jax.random.key_data(x) if jnp.issubdtype(x.dtype, jax.dtypes.prng_key) else x)
        for x in jax.tree.leaves(tree)
    ]


def test_seeds_differ_and_do_not_depend_on_the_seeds_beside_them(program):
    """Seed 1 beside seed 0 (second) and beside seed 2 (first): the same results. In the shared
    2-run program; a run count of its own changes nothing either (BC's run batches below)."""
    fns, data, chunk = program
    states, out = chunk(batched_init(fns.init)(seed_keys(0, 2)), data)
    actor = states.algo.agents.actor
    a0, a1 = (jax.tree.map(lambda x, s=s: x[s], actor) for s in (0, 1))
    assert not np.allclose(leaves(a0)[0], leaves(a1)[0])
    beside, _ = chunk(batched_init(fns.init)(seed_keys(0, 3)[1:]), data)  # seeds 1 and 2
    for x, y in zip(leaves(a1), leaves(beside.algo.agents.actor), strict=True):
        np.testing.assert_allclose(x, y[0], rtol=1e-5, atol=1e-6)
    assert out.eval_returns.shape == (2, 2, 2, 2, 3)  # seeds, evals, candidates, episodes, agents


def test_results_do_not_depend_on_chunking(bc_program, tiny_dataset):
    one = dataclasses.replace(BC, train=dataclasses.replace(BC.train, chunk_updates=8))
    results = []
    for config in (BC, one):  # 4-update chunks (the shared program), then one 8-update chunk
        fns, data, chunk = bc_program if config is BC else compiled(config, tiny_dataset)
        state = batched_init(fns.init)(jax.random.key(0)[None])
        for _ in range(config.train.n_chunks):
            state, _ = chunk(state, data)
        results.append(leaves(state.algo))
    for x, y in zip(*results, strict=True):
        np.testing.assert_allclose(x, y, rtol=1e-6, atol=1e-7)


@pytest.mark.slow
def test_runs_in_batches_equal_runs_side_by_side(bc_program):
    """`over_runs(..., run_batch=k)`: 3 seeds as groups of 2 (a full and a partial group) give
    the vmapped runs' results (to float32 rounding), and a bad batch size is refused.

    The vmapped side: seeds 0-1 and seed 2 by the shared 2- and 1-run programs (a seed's results
    do not depend on the seeds beside it:
    test_seeds_differ_and_do_not_depend_on_the_seeds_beside_them)."""
    fns, data, chunk = bc_program
    states = batched_init(fns.init)(seed_keys(0, 3))
    parts = [
        chunk(jax.tree.map(lambda x, a=a, b=b: x[a:b], states), data) for a, b in ((0, 2), (2, 3))
    ]
    together, out_together = jax.tree.map(lambda *xs: jnp.concatenate(xs), *parts)
    grouped, out_grouped = jax.jit(over_runs(fns.train_chunk, 2))(states, data)
    for x, y in zip(leaves(together.algo), leaves(grouped.algo), strict=True):
        np.testing.assert_allclose(x, y, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(out_together.eval_returns, out_grouped.eval_returns, rtol=1e-5)
    with pytest.raises(ValueError, match="run_batch must be >= 1"):
        over_runs(fns.train_chunk, 0)


def test_train_in_one_program_equals_chunks(bc_program, spread):
    fns, data, chunk = bc_program
    states = batched_init(fns.init)(seed_keys(0, 1))
    by_chunk = states
    for _ in range(BC.train.n_chunks):
        by_chunk, _ = chunk(by_chunk, data)
    assert fns.train is None  # chunk_program's runs may differ in length: make_train has it
    train = make_train(BC, *spread).train
    whole, outs = jax.jit(jax.vmap(train, in_axes=(0, None)))(states, data)
    for x, y in zip(leaves(by_chunk.algo), leaves(whole.algo), strict=True):
        np.testing.assert_allclose(x, y, rtol=1e-6, atol=1e-7)
    run = BC.train  # runs, chunks, evaluations per chunk, candidates, episodes, agents
    assert outs.eval_returns.shape == (1, run.n_chunks, run.evals_per_chunk, 1, 2, 3)


def restored(run_dir, config):
    like = init_runs(chunk_program(config)[0], config)  # the shape run_training saved
    ckpt = Checkpointer(run_dir)
    state = ckpt.restore(ckpt.latest_step(), like)
    ckpt.close()
    return state


def test_stop_and_resume_is_identical(tmp_path, dataset_file):
    """Also the learning curve: an evaluation every 2 updates, with 1 and best-of-3 candidates."""
    config = RUN  # n_seeds=2, eval_every=2, eval_candidates=(1, 3)
    run_training(config, dataset_file, tmp_path / "a", progress=False)
    run_training(config, dataset_file, tmp_path / "b", max_chunks=1, progress=False)
    with pytest.raises(FileExistsError, match="--resume"):
        run_training(config, dataset_file, tmp_path / "b", progress=False)
    summary = run_training(config, dataset_file, tmp_path / "b", resume=True, progress=False)
    assert summary["finished"] and summary["updates"] == 8
    for x, y in zip(
        leaves(restored(tmp_path / "a", config)),
        leaves(restored(tmp_path / "b", config)),
        strict=True,
    ):
        np.testing.assert_array_equal(x, y)
    rows = (tmp_path / "b" / "metrics_seed1.csv").read_text().splitlines()
    assert len(rows) == 5  # header + one row per evaluation, none duplicated by the resume
    assert (tmp_path / "b" / "learning_curve.png").stat().st_size > 0
    curve = summary["curve"]
    assert curve["step"] == [2, 4, 6, 8]
    for column in ("eval_return", "score_omar", "eval_return_k3", "score_omar_k3"):
        assert np.asarray(curve[column]).shape == (2, 4), column
        np.testing.assert_allclose(
            summary["reported"][column], np.mean(np.asarray(curve[column])[:, -3:], axis=1)
        )
    assert summary["convergence"]["column"] == "score_omar"
    assert summary["convergence"]["window"] == 2
    assert len(summary["reweight_ess"]) == 3  # the authors' rule: one distribution per agent


def test_resume_refuses_a_different_config(tmp_path, dataset_file):
    run_training(OFF, dataset_file, tmp_path / "r", max_chunks=1, progress=False)
    other = dataclasses.replace(OFF, algo=dataclasses.replace(OFF.algo, eta=2.0))
    with pytest.raises(ValueError, match="config differs"):
        run_training(other, dataset_file, tmp_path / "r", resume=True, progress=False)


@pytest.mark.slow(seconds=80)
def test_killed_run_resumes_to_the_same_parameters(tmp_path, dataset_file):
    """SIGKILL a CLI run after its first checkpoints, resume it, compare with an unbroken run.

    `RUN` (its chunk program compiled in this session already), 80 updates."""
    args = ["--level", "random", "--preset", "tiny", "--updates", "80", "--chunk", "4"]
    args += ["--seeds", "2", "--eval-every", "2", "--eval-candidates", "1", "3"]
    args += ["--dataset", str(dataset_file)]
    cli = [sys.executable, "-m", "dom2_jax", "train"]
    victim = subprocess.Popen(
        cli + args + ["--run-dir", str(tmp_path / "killed")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    ckpts = tmp_path / "killed" / "checkpoints"
    deadline = time.time() + 240
    while time.time() < deadline and not (
        ckpts.exists() and any(p.name.isdigit() and int(p.name) >= 8 for p in ckpts.iterdir())
    ):
        time.sleep(0.05)
    os.kill(victim.pid, signal.SIGKILL)
    victim.wait()
    config = dataclasses.replace(RUN, train=dataclasses.replace(RUN.train, n_updates=80))
    ckpt = Checkpointer(tmp_path / "killed")
    killed_at = ckpt.latest_step()
    ckpt.close()
    assert killed_at is not None and killed_at < 80, "the run must be killed mid-way"
    out = subprocess.run(
        cli + args + ["--run-dir", str(tmp_path / "killed"), "--resume"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    saved = json.loads((tmp_path / "killed" / "config.json").read_text())["config"]
    assert from_dict(saved) == config
    run_training(config, dataset_file, tmp_path / "whole", progress=False)  # the unbroken run
    for x, y in zip(
        leaves(restored(tmp_path / "killed", config)),
        leaves(restored(tmp_path / "whole", config)),
        strict=True,
    ):
        np.testing.assert_array_equal(x, y)


def test_non_finite_loss_stops_naming_step_and_checkpoint(tmp_path, tiny_dataset):
    arrays = tiny_dataset.arrays()
    arrays["rewards"] = np.full_like(arrays["rewards"], 3e38)  # finite, but Q overflows
    from dom2_jax.data.dataset import Dataset

    path = write_dataset(
        tmp_path / "huge.npz", Dataset.from_arrays(arrays), {"env": "mpe_spread", "level": "random"}
    )
    with pytest.raises(NonFiniteError, match=r"update \d+"):
        run_training(RUN, path, tmp_path / "nan", progress=False)


@pytest.mark.slow
def test_sharded_over_four_host_devices(tmp_path, dataset_file, bc_reference):
    """4 seeds, one per device; the parameters match the one-device run's."""
    code = f"""
import jax, numpy as np
from dom2_jax.config import from_dict, preset, to_dict
from dom2_jax.io.training import run_training
assert jax.device_count() == 4
config = preset("tiny", level="random", algo="bc", n_seeds=4)
s = run_training(config, {str(dataset_file)!r}, {str(tmp_path / "sharded")!r}, progress=False)
print("OK", s["final"]["eval_return"])
"""
    env = dict(
        os.environ,
        XLA_FLAGS=f"--xla_force_host_platform_device_count=4 {os.environ.get('XLA_FLAGS', '')}",
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=600
    )
    assert out.returncode == 0 and "OK" in out.stdout, out.stderr[-2000:]
    assert jnp.asarray(0).size == 1
    a, b = restored(tmp_path / "sharded", BC4), restored(bc_reference, BC4)
    for x, y in zip(leaves(a.algo), leaves(b.algo), strict=True):
        np.testing.assert_allclose(x, y, rtol=1e-4, atol=1e-5)


def test_loss_weight_sweep_is_one_vmapped_program(program, tiny_dataset):
    """eta and cql_alpha are state, so a grid of them runs in the seeds' vmap, unrecompiled."""
    from dom2_jax.algos.dom2 import LossWeights

    fns, data, chunk = program
    key = seed_keys(0, 1)[0]
    weights = LossWeights(eta=jnp.array([0.5, 2.0]), cql_alpha=jnp.array([1.0, 0.25]))
    swept, _ = chunk(batched_init(fns.init)(jnp.stack([key, key]), weights), data)
    other = dataclasses.replace(RUN, algo=dataclasses.replace(RUN.algo, eta=2.0, cql_alpha=0.25))
    fns2, _, chunk2 = compiled(other, tiny_dataset)  # traced anew; the same HLO (a cache hit)
    alone, _ = chunk2(batched_init(fns2.init)(jnp.stack([key, key])), data)
    for x, y in zip(leaves(swept.algo.agents), leaves(alone.algo.agents), strict=True):
        np.testing.assert_allclose(x[1], y[0], rtol=1e-5, atol=1e-6)
    assert not np.allclose(leaves(swept.algo.agents)[0][0], leaves(swept.algo.agents)[0][1])


@pytest.mark.slow
def test_cli_config_file_and_reweight_flag(tmp_path, dataset_file):
    """`--config` trains the file's config; `--reweight off` is recorded in the summary."""
    config_path = tmp_path / "tiny.json"
    config_path.write_text(json.dumps(to_dict(RUN)))  # reweighting on; the flag turns it off
    run_dir = tmp_path / "run"
    cli = [sys.executable, "-m", "dom2_jax", "train", "--config", str(config_path)]
    cli += ["--seeds", "2"]  # --seeds (default 1) overrides the file's n_seeds
    out = subprocess.run(
        cli + ["--reweight", "off", "--dataset", str(dataset_file), "--run-dir", str(run_dir)],
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stderr
    assert "training dom2" in out.stdout and "reweighting off" in out.stdout
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["algo"] == "dom2" and summary["reweight"] is False and summary["finished"]
    saved = json.loads((run_dir / "config.json").read_text())["config"]
    assert from_dict(saved) == OFF  # whose program test_resume_refuses_a_different_config compiled


@pytest.mark.slow
def test_two_host_run_matches_a_single_process_run(tmp_path, dataset_file, bc_reference):
    """`--distributed`: 2 processes x 2 CPU devices (gloo) shard 4 seeds; same parameters.

    `BC4`: multi-host runs compile afresh in every process (`dom2_jax.__main__`)."""
    with socket.socket() as s:
        s.bind(("localhost", 0))
        port = s.getsockname()[1]
    env = dict(
        os.environ,
        XLA_FLAGS=f"--xla_force_host_platform_device_count=2 {os.environ.get('XLA_FLAGS', '')}",
        JAX_CPU_COLLECTIVES_IMPLEMENTATION="gloo",
    )
    run_dir = tmp_path / "multihost"
    common = ["--preset", "tiny", "--level", "random", "--algo", "bc", "--seeds", "4"]
    common += ["--distributed"]
    common += ["--coordinator", f"localhost:{port}", "--num-processes", "2"]
    common += ["--dataset", str(dataset_file), "--run-dir", str(run_dir)]
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "dom2_jax", "train", *common, "--process-id", str(i)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for i in range(2)
    ]
    outs = [p.communicate(timeout=600) for p in procs]
    for p, (_, err) in zip(procs, outs, strict=True):
        assert p.returncode == 0, err[-2000:]
    assert "normalised score" in outs[0][0] and "process 1 done" in outs[1][0]
    a, b = restored(run_dir, BC4), restored(bc_reference, BC4)
    for x, y in zip(leaves(a.algo), leaves(b.algo), strict=True):
        np.testing.assert_allclose(x, y, rtol=1e-4, atol=1e-5)


def test_a_loss_weight_sweep_runs_every_value_on_the_same_seeds(spread):
    from dom2_jax.train import init_runs, run_labels

    env, params = spread
    train = dataclasses.replace(TINY.train, n_seeds=2, sweep_field="eta", sweep_values=(0.1, 5.0))
    config = dataclasses.replace(TINY, train=train)
    states = init_runs(make_train(config, env, params), config)
    np.testing.assert_allclose(states.algo.weights.eta, [0.1, 0.1, 5.0, 5.0])
    keys = jax.random.key_data(states.key)
    np.testing.assert_array_equal(keys[0], keys[2])  # value 0 and value 1 share seed 0
    assert not np.array_equal(keys[0], keys[1])
    assert run_labels(config)[3] == {"seed": 1, "eta": 5.0}
    with pytest.raises(ValueError, match="no such traced loss weight"):
        bad = dataclasses.replace(train, sweep_field="lr")
        init_runs(make_train(config, env, params), dataclasses.replace(config, train=bad))
    with pytest.raises(ValueError, match="sweep_field and sweep_values"):
        dataclasses.replace(train, sweep_values=())
