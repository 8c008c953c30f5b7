"""Memory probes of `train_throughput`: one case run in a fresh process (`python -m
benchmarks.train_throughput --probe ...`), reporting its peak resident and device memory."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np

from benchmarks.common import current_rss_bytes, peak_rss_bytes, torch_device, torch_sync
from benchmarks.train_throughput_sides import TorchRun, jax_chunk, run_config


def probe(side: str, name: str, seeds: int, updates: int, data_path: str) -> dict:
    """Run one case in this (fresh) process and report its memory."""
    arrays = dict(np.load(data_path))
    if side == "jax":
        import jax

        import dom2_jax.envs
        import dom2_jax.train  # noqa: F401

        jax.numpy.zeros(())  # start the backend before the baseline
        base = current_rss_bytes()
        compiled, args, _ = jax_chunk(run_config(name, seeds, updates), arrays)
        jax.block_until_ready(compiled(*args))
        stats = jax.devices()[0].memory_stats() or {}
        device_peak = stats.get("peak_bytes_in_use", 0)
    else:
        import torch

        device = torch_device()
        run = TorchRun(name, seeds, arrays, device, keep_learners=False)
        base = current_rss_bytes()
        for s in range(seeds):  # one learner alive at a time, as a user running seeds in turn
            run.run_learner(run.learner(s), 1)  # the first update allocates everything
        torch_sync(device)
        device_peak = torch.cuda.max_memory_allocated() if device.type == "cuda" else 0
    return {"base": base, "peak": peak_rss_bytes(), "device_peak": device_peak}


def memory_probe(side, name, seeds, updates, data_path, cache_dir) -> dict | None:
    cmd = [sys.executable, "-m", "benchmarks.train_throughput", "--probe", side]
    cmd += ["--preset", name, "--seeds", str(seeds), "--updates", str(updates)]
    cmd += ["--data", data_path]
    env = {**os.environ, "JAX_COMPILATION_CACHE_DIR": cache_dir}
    env["JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS"] = "0"
    out = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if out.returncode != 0:
        print(f"memory probe {side} {name} {seeds} failed:\n{out.stderr[-2000:]}", flush=True)
        return None
    return json.loads(out.stdout.strip().splitlines()[-1])
