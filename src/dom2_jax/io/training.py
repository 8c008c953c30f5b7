"""The training host loop (the edge): compiled chunks, progress, metrics, checkpoints, NaN stop.

`run_training(config, dataset_path, run_dir)` loads and validates the dataset, builds the pure
program of `dom2_jax.train`, vmaps it over seeds (sharding the seed axis over devices when there
are several), then loops over chunks: after each chunk it checks for NaN/inf, writes metrics,
saves a checkpoint and updates the progress bar. `resume=True` continues from the last
checkpoint; the result is bit-identical to an uninterrupted run.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import jax
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec
from tqdm.auto import tqdm

from dom2_jax.config import RunConfig, to_dict
from dom2_jax.curves import convergence, reported_score
from dom2_jax.data import reference_returns
from dom2_jax.data.reweight import effective_sample_size, transition_weights
from dom2_jax.envs import make
from dom2_jax.errors import ConfigError, ResumeError, RunDirError
from dom2_jax.io.checkpoint import Checkpointer
from dom2_jax.io.dataset_files import load_dataset
from dom2_jax.io.metrics import MetricsWriter, write_json
from dom2_jax.io.plots import learning_curve
from dom2_jax.train import chunk_program, init_runs, make_train_data, run_labels


class NonFiniteError(RuntimeError):
    """A loss or evaluation became NaN/inf; the message names the step and last checkpoint."""


def config_record(config: RunConfig) -> dict[str, Any]:
    return json.loads(json.dumps(to_dict(config)))


def seed_sharding(n_seeds: int):
    """Shard the leading seed axis over all devices when it divides evenly (else replicate)."""
    devices = jax.devices()
    if len(devices) == 1 or n_seeds % len(devices):
        if jax.process_count() > 1:
            raise ConfigError(
                f"--seeds {n_seeds} must be a multiple of the {len(devices)} devices of a "
                "multi-host run"
            )
        return None
    return NamedSharding(Mesh(np.array(devices), ("seeds",)), PartitionSpec("seeds"))


def place(tree, sharding):
    """Put identical host values (every process computed them) on `sharding`'s devices.

    One process: `device_put`. Several (`--distributed`): each process supplies the shards of
    its own devices, the only way to build an array spanning devices it cannot address.
    """
    if jax.process_count() == 1:
        return jax.device_put(tree, sharding)

    def leaf(x):
        x = np.asarray(x)
        return jax.make_array_from_callback(x.shape, sharding, lambda index: x[index])

    return jax.tree.map(leaf, tree)


def _place_states(states, sharding):
    raw = place(states.replace(key=jax.random.key_data(states.key)), sharding)
    return raw.replace(key=jax.random.wrap_key_data(raw.key))


BARRIER_TIMEOUT_MS = 30 * 60 * 1000


def wait_for_all_processes(name: str) -> None:
    """Multi-host: block until every process gets here (no-op on one process).

    The first cross-process collective (`fetch`'s all-gather) opens a Gloo context that gives
    up after a fixed 30 s, and processes can be further apart than that after compiling the
    chunk (one host busier or colder-cached than another); the coordination service's barrier
    waits as long as `BARRIER_TIMEOUT_MS`.
    """
    if jax.process_count() == 1:
        return
    from jax._src import distributed  # the barrier has no public API yet

    distributed.global_state.client.wait_at_barrier(name, timeout_in_ms=BARRIER_TIMEOUT_MS)


def fetch(tree):
    """Host numpy copies of (possibly multi-host) arrays: every process gets the whole value."""
    if jax.process_count() == 1:
        return jax.tree.map(np.asarray, tree)
    from jax.experimental import multihost_utils

    return multihost_utils.process_allgather(tree, tiled=True)


def score_columns(env_name: str, team: np.ndarray, refs: dict[str, Any]) -> dict[str, float]:
    out = {"eval_return": float(team.mean()), "eval_return_std": float(team.std())}
    for name, pair in refs.items():
        if pair:
            out[f"score_{name}"] = float(
                reference_returns.normalized_score(env_name, team.mean(), {env_name: pair})
            )
    return out


CURVE_COLUMNS = ("eval_return", "score_omar", "score_ours")


def curve_summary(rows: list[list[dict[str, float]]], n_updates: int) -> dict[str, Any]:
    """The learning curves of every seed (`rows[s]`: its metric rows) and what is reported.

    `final`: the last evaluation; `reported`: the mean of the last `REPORT_LAST_EVALS`
    (`dom2_jax.curves.reported_score`), per seed, for every return and score column (one per
    evaluation candidate count); `converged`: `dom2_jax.curves.convergence` of the first score
    column (OMAR-normalised when the env has OMAR's references, else the raw return), over every
    run: with a loss-weight sweep the runs mix values, and the per-value flags are the sweep
    report's (`experiments.eta_sweep`).
    """
    last = rows[0][-1]
    columns = [k for k in last if k.startswith(CURVE_COLUMNS) and "_std" not in k]
    steps = [int(r["step"]) for r in rows[0]]
    curves = {k: [[r[k] for r in seed_rows] for seed_rows in rows] for k in columns}
    judged = "score_omar" if "score_omar" in curves else "eval_return"
    flag = convergence(curves[judged], steps)
    return {
        "updates": steps[-1],
        "finished": steps[-1] == n_updates,
        "final": {k: [c[-1] for c in v] for k, v in curves.items()},
        "reported": {k: [float(x) for x in reported_score(v)] for k, v in curves.items()},
        "convergence": {"column": judged, **flag._asdict()},
        "curve": {"step": steps, **curves},
    }


def run_training(
    config: RunConfig,
    dataset_path: str | Path,
    run_dir: str | Path,
    resume: bool = False,
    max_chunks: int | None = None,
    progress: bool = True,
    tensorboard: bool = False,
    run_batch: int | None = None,
) -> dict[str, Any]:
    """Train `config` on the dataset file; returns the run summary (also in summary.json).

    `tensorboard=True` also writes every metric row to `<run_dir>/tensorboard/` event files.
    `run_batch`: runs (seeds x swept values) vmapped side by side, the groups one after another
    (`train.over_runs`; None: all at once). An execution choice, not part of the config.
    """
    run_dir = Path(run_dir)
    env, _ = make(config.env)
    dataset, meta = load_dataset(dataset_path, env=env)
    weights = transition_weights(dataset, config.env, config.reweight, config.level)
    data = make_train_data(dataset, config.env, config, weights)
    reweight_ess = [round(float(x), 4) for x in np.atleast_1d(effective_sample_size(weights))]
    fns, train_chunk = chunk_program(config, run_batch)
    n_seeds, chunk = config.train.n_runs, config.train.chunk_updates  # seeds x swept values
    refs = dict(meta.get("reference_returns") or {})
    refs.setdefault("omar", reference_returns.OMAR.get(config.env))
    record = {
        "config": config_record(config),
        "dataset": str(dataset_path),
        "dataset_checksum": meta["checksum"],
        "reweight_ess": reweight_ess,
    }

    checkpointer = Checkpointer(run_dir)  # refuse a run-dir or resume mismatch before any work
    start_step = checkpointer.latest_step() or 0
    if start_step and not resume:
        raise RunDirError(
            f"{run_dir} already holds checkpoints up to update {start_step}: pass --resume to "
            "continue it, or choose another --run-dir"
        )
    saved = checkpointer.read_record(start_step) if start_step else record
    for key in ("config", "dataset_checksum"):
        if saved.get(key) != record[key]:
            raise ResumeError(
                f"{run_dir}: cannot resume, the checkpoint's {key} differs from this run's "
                f"(saved {saved.get(key)!r})"
            )
    states = init_runs(fns, config)  # runs: seeds x swept values
    sharding = seed_sharding(n_seeds)
    if sharding is not None and run_batch is not None:
        raise ConfigError(
            f"run_batch={run_batch}: batching runs applies on one device; with "
            f"{len(jax.devices())} devices the runs are sharded over them instead"
        )
    if sharding is not None:
        states = _place_states(states, sharding)
        if jax.process_count() > 1:
            data = place(data, NamedSharding(sharding.mesh, PartitionSpec()))  # replicated
    if start_step:
        states = checkpointer.restore(start_step, states)
    # Multi-host: every process computes and checkpoints (orbax coordinates the writes);
    # process 0 alone writes the metrics, summary and plot.
    primary = jax.process_index() == 0
    run_dir.mkdir(parents=True, exist_ok=True)
    if primary:
        write_json(run_dir / "config.json", record)
    metrics = (
        MetricsWriter(run_dir, n_seeds, resume_step=start_step, tensorboard=tensorboard)
        if primary
        else None
    )

    first_chunk = start_step // chunk
    last_chunk = (
        config.train.n_chunks
        if max_chunks is None
        else min(config.train.n_chunks, first_chunk + max_chunks)
    )
    bar = tqdm(
        total=config.train.n_updates,
        initial=start_step,
        unit="upd",
        disable=not progress,
        desc=f"{config.algo_name} {config.env}/{config.level}",
    )
    last_scores = None
    interval, candidates = config.train.eval_interval, tuple(config.train.eval_candidates)
    labels = run_labels(config)
    for c in range(first_chunk, last_chunk):
        t0 = time.perf_counter()
        states, out = train_chunk(states, data)  # compiles on the first call
        # dispatch is asynchronous: wait for this process's results before the barrier, so the
        # barrier (not the all-gather's 30 s Gloo deadline) absorbs the processes' skew
        out = jax.block_until_ready(out)
        wait_for_all_processes(f"dom2_jax-chunk-{c}")
        out = fetch(out)
        seconds = time.perf_counter() - t0
        step = (c + 1) * chunk
        bad = [k for k, v in out.metrics.items() if not np.all(np.isfinite(v))]
        if bad or not np.all(np.isfinite(out.eval_returns)):
            last_good = checkpointer.latest_step()
            raise NonFiniteError(
                f"non-finite {bad or ['eval_returns']} in the chunk ending at update {step}; "
                f"last good checkpoint: {run_dir}/checkpoints/{last_good}"
                if last_good
                else f"non-finite {bad} before the first checkpoint (update {step})"
            )
        # [S, evals_per_chunk, n_candidates, E]
        team = np.asarray(reference_returns.team_return(config.env, out.eval_returns))
        last_scores = []
        for s in range(n_seeds):
            for i in range(team.shape[1]):
                row = {
                    "step": c * chunk + (i + 1) * interval,
                    "chunk": c,
                    "seconds": round(seconds / team.shape[1], 3),
                    **{k: v for k, v in labels[s].items() if k != "seed"},
                }
                for j, k in enumerate(candidates):
                    suffix = "" if j == 0 else f"_k{k}"
                    cols = score_columns(config.env, team[s, i, j], refs)
                    row.update({f"{name}{suffix}": v for name, v in cols.items()})
                row.update({k: float(np.mean(v[s, i])) for k, v in sorted(out.metrics.items())})
                if primary:
                    metrics.append(s, row)
            last_scores.append(row.get("score_omar", row["eval_return"]))
        checkpointer.save(step, states, dict(record, step=step))
        bar.update(chunk)
        bar.set_postfix(
            upd_s=f"{chunk * n_seeds / seconds:,.0f}", score=f"{np.mean(last_scores):.1f}"
        )
    bar.close()
    checkpointer.close()
    if primary:
        metrics.close()
    if not primary:
        return {"process": jax.process_index(), "run_dir": str(run_dir), "scores": last_scores}
    rows = [metrics.read(s) for s in range(n_seeds)]
    summary = {
        "algo": config.algo_name,
        "env": config.env,
        "level": config.level,
        "reweight": config.reweight.enabled,
        "reweight_ess": reweight_ess,
        "n_seeds": config.train.n_seeds,
        "runs": run_labels(config),
        **curve_summary(rows, config.train.n_updates),
        "dataset": str(dataset_path),
        "run_dir": str(run_dir),
    }
    write_json(run_dir / "summary.json", summary)
    if "score_omar" in rows[0][-1]:
        learning_curve(
            rows, run_dir / "learning_curve.png", f"{config.algo_name} {config.env} {config.level}"
        )
    return summary
