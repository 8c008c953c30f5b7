"""DOM2 training throughput: dom2-jax (one compiled program, seeds vmapped) vs PyTorch.

For each preset (`cpu`: 2 x 64 nets, `paper`: 3 x 256) and seed count, in one run with the two
sides interleaved A/B `--reps` times:

- dom2-jax: `make_train(...).train_chunk` (a `lax.scan` over updates, no evaluation episodes),
  `jax.jit(jax.vmap(...))` over seeds, on a random mpe_spread dataset (10k transitions, the
  trainer's reweighted sampling); compile time measured separately (`lower().compile()`);
- PyTorch: `benchmarks.pytorch_reference.TorchDOM2` (agents looped in Python, eager mode), the
  same batch sampling from the same dataset, seeds run one after another.

The table gives median and range of seed-updates/s and the ratio of medians; then the achieved
GFLOP/s against the measured float32 matmul ceiling (matmul FLOPs of one update counted
analytically, `update_flops`: XLA's cost analysis counts a `scan` body once, so it undercounts the
sampler), XLA's memory for the compiled program and each side's peak resident memory, measured in
a fresh subprocess per case (dom2-jax loads the program from a compilation cache, so compiler
memory is excluded; PyTorch holds one seed's learner at a time). A batch-size sweep (1 seed,
`--batch-preset`) gives the second panel of the plot. Per-phase timings: `update_phases.py`.

    python -m benchmarks.train_throughput [--write benchmarks/RESULTS.md] [--quick]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np

from benchmarks.common import (
    DEFAULT_TORCH_THREADS,
    current_rss_bytes,
    header,
    jax_device,
    jax_matmul_gflops,
    load_average,
    markdown_link,
    median_spread,
    package_versions,
    peak_rss_bytes,
    pick_torch_threads,
    plain_log_y,
    plot_path,
    require_torch,
    save_plot,
    timed,
    torch_device,
    torch_matmul_gflops,
    torch_sync,
    write_section,
    xla_program_bytes,
)
from benchmarks.flops import update_flops
from dom2_jax.config import preset

# updates per compiled chunk (dom2-jax); PyTorch's count is calibrated to `--seconds` per timing
# (each timing ~0.5-2 s at low load on 2 cores)
JAX_UPDATES = {("cpu", 1): 30, ("cpu", 8): 6, ("paper", 1): 4, ("paper", 8): 1}
ENV, N_AGENTS, OBS_DIM, ACT_DIM = "mpe_spread", 3, 18, 2
DATA_FIELDS = ("obs", "actions", "rewards", "next_obs", "terminals", "cdf")


def run_config(name: str, seeds: int, updates: int, batch: int | None = None):
    """The preset's run config (`train_chunk` runs no evaluation); `batch` overrides the batch."""
    config = preset(
        name,
        env=ENV,
        level="random",
        n_updates=updates,
        chunk_updates=updates,
        eval_episodes=1,  # unused: train_chunk does not evaluate
        n_seeds=seeds,
    )
    if batch is None:
        return config
    return dataclasses.replace(config, algo=dataclasses.replace(config.algo, batch_size=batch))


# -- the two sides --------------------------------------------------------------------------------


def random_dataset(path: str) -> dict[str, np.ndarray]:
    """A random-policy mpe_spread dataset (100 envs x 100 steps) and its sampling CDF."""
    import jax

    from dom2_jax.data.generate import make_collect, to_dataset
    from dom2_jax.envs import make
    from dom2_jax.envs.rollout import random_policy
    from dom2_jax.train import make_train_data

    env, params = make(ENV)
    traj = jax.jit(make_collect(env, params, random_policy(env), 100, 100))(jax.random.key(0))
    dataset = to_dataset(jax.tree.map(np.asarray, traj))
    data = make_train_data(dataset, ENV, run_config("cpu", 1, 1))
    arrays = {k: np.asarray(getattr(data, k)) for k in DATA_FIELDS}
    np.savez(path, **arrays)
    return arrays


def jax_chunk(config, arrays, run_batch=None):
    """(compiled chunk, its arguments, compile seconds) for `config.train.n_seeds` seeds, all
    vmapped (`run_batch` None) or vmapped in groups of `run_batch`, the groups mapped."""
    import jax
    import jax.numpy as jnp

    from dom2_jax.envs import make
    from dom2_jax.train import TrainData, make_train, over_runs, seed_keys

    seeds = config.train.n_seeds
    env, params = make(ENV)
    fns = make_train(config, env, params)
    data = TrainData(**{k: jnp.asarray(v) for k, v in arrays.items()})
    states = jax.jit(jax.vmap(fns.init))(seed_keys(0, seeds))
    chunk = jax.jit(over_runs(fns.train_chunk, run_batch))  # seeds
    compiled = None

    def compile_():
        nonlocal compiled
        compiled = chunk.lower(states, data).compile()

    compile_s = timed(compile_)
    return compiled, (states, data), compile_s


class TorchRun:
    """`seeds` PyTorch learners on one device; `run(n)` does n updates of each, seed after seed."""

    def __init__(self, name, seeds, arrays, device, keep_learners=True, batch=None):
        import torch

        self.torch, self.device = torch, device
        self.algo = run_config(name, seeds, 1, batch).algo
        self.seeds = seeds
        # agent-major copies so that one agent's batch is a contiguous gather
        self.data = {
            k: torch.as_tensor(np.ascontiguousarray(np.swapaxes(arrays[k], 0, 1)), device=device)
            for k in DATA_FIELDS[:-1]
        }
        self.cdf = torch.as_tensor(np.array(arrays["cdf"]), device=device)
        self.learners = [self.learner(s) for s in range(seeds)] if keep_learners else None

    def learner(self, seed: int):
        from benchmarks.pytorch_reference import TorchDOM2

        return TorchDOM2(self.algo, N_AGENTS, OBS_DIM, ACT_DIM, device=self.device, seed=seed)

    def batch(self, generator):
        from benchmarks.pytorch_reference import AgentBatch

        torch, n = self.torch, self.cdf.shape[-1]
        if self.cdf.ndim == 1:  # one draw shared by the agents (joint transitions)
            u = torch.rand(self.algo.batch_size, generator=generator, device=self.device)
            idx = torch.searchsorted(self.cdf, u, right=True).clamp_(max=n - 1)
            return AgentBatch(**{k: v[:, idx] for k, v in self.data.items()})
        # per-agent distributions [n_agents, T] (per-agent reweighting): one draw per agent
        shape = (self.cdf.shape[0], self.algo.batch_size)
        u = torch.rand(shape, generator=generator, device=self.device)
        idx = torch.searchsorted(self.cdf, u, right=True).clamp_(max=n - 1)
        agents = torch.arange(shape[0], device=self.device)[:, None]
        return AgentBatch(**{k: v[agents, idx] for k, v in self.data.items()})

    def run_learner(self, learner, n: int) -> None:
        for _ in range(n):
            learner.update(self.batch(learner.generator))

    def run(self, n: int) -> None:
        for learner in self.learners:  # seeds, one after another
            self.run_learner(learner, n)
        torch_sync(self.device)


# -- memory probes (fresh processes) --------------------------------------------------------------


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


# -- the benchmark --------------------------------------------------------------------------------


def measure_case(
    name, seeds, arrays, reps, seconds, device, updates=None, batch=None, run_batch=None
):
    import jax

    updates = updates or JAX_UPDATES.get((name, seeds), 10)
    config = run_config(name, seeds, updates, batch)
    compiled, args, compile_s = jax_chunk(config, arrays, run_batch)
    jax.block_until_ready(compiled(*args))  # warm-up
    xla_bytes = xla_program_bytes(compiled)
    torch_run = TorchRun(name, seeds, arrays, device, batch=batch)
    torch_run.run(1)  # warm-up of every seed's learner (allocations, first-call overheads)
    threads, per_update = pick_torch_threads(
        lambda: torch_run.run_learner(torch_run.learners[0], 1)
    )
    torch_updates = max(1 if seeds > 1 else 2, round(seconds / per_update / seeds))
    ours, theirs, ceilings = [], [], []
    for _ in range(reps):  # interleaved A/B, and the matmul ceiling under the same load
        ours.append(updates * seeds / timed(lambda: jax.block_until_ready(compiled(*args))))
        theirs.append(torch_updates * seeds / timed(lambda: torch_run.run(torch_updates)))
        ceilings.append(jax_matmul_gflops(repeats=3)[0])
    from torch.utils.flop_counter import FlopCounterMode

    with FlopCounterMode(display=False) as counter:  # cross-check of update_flops
        torch_run.run_learner(torch_run.learners[0], 1)
    return {
        "preset": name,
        "seeds": seeds,
        "run_batch": run_batch,
        "batch": config.algo.batch_size,
        "updates": updates,
        "torch_updates": torch_updates,
        "torch_threads": threads,
        "compile_s": compile_s,
        "ceiling": float(np.median(ceilings)),
        "ours": ours,
        "theirs": theirs,
        "xla_bytes": xla_bytes,
        "flops": update_flops(config.algo, N_AGENTS, OBS_DIM, ACT_DIM),
        "plain_flops": update_flops(config.algo, N_AGENTS, OBS_DIM, ACT_DIM, reuse=False),
        "torch_flops": counter.get_total_flops(),
    }


def fmt_rate(xs) -> str:
    med, lo, hi = median_spread(xs)
    return f"{med:,.1f} ({lo:,.1f}-{hi:,.1f})"


def ratio(r) -> float:
    return float(np.median(r["ours"]) / np.median(r["theirs"]))


def fmt_ratio(r) -> str:
    """Ratio of the medians, and the range of the per-repetition (A/B pair) ratios."""
    pairs = [a / b for a, b in zip(r["ours"], r["theirs"], strict=True)]
    return f"{ratio(r):,.1f}x ({min(pairs):,.1f}-{max(pairs):,.1f})"


def plot(results, sweep, path: str) -> str:
    """Two panels: throughput vs seeds (both presets) and vs batch size (the sweep)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    sides = (("ours", "dom2-jax", "C0"), ("theirs", "PyTorch", "C1"))
    ax = axes[0]
    for name, style, marker in (("cpu", "-", "o"), ("paper", "--", "s")):
        rows = [r for r in results if r["preset"] == name]
        for side, label, color in sides if rows else ():
            x = [r["seeds"] for r in rows]
            y = [np.median(r[side]) for r in rows]
            ax.plot(x, y, style, color=color, marker=marker, label=f"{label}, {name} preset")
    ticks = sorted({r["seeds"] for r in results})
    ax.set_xscale("log", base=2)
    ax.set_xticks(ticks, [str(t) for t in ticks])
    ax.set_xlabel("seeds trained together")
    ax.set_title("vs seeds (batch 256)")
    ax = axes[1]
    for side, label, color in sides if sweep else ():
        x = [r["batch"] for r in sweep]
        ax.plot(x, [np.median(r[side]) for r in sweep], "-", color=color, marker="o", label=label)
    if sweep:
        ticks = [r["batch"] for r in sweep]
        ax.set_xscale("log", base=2)
        ax.set_xticks(ticks, [str(t) for t in ticks])
        ax.set_title(f"vs batch size ({sweep[0]['preset']} preset, 1 seed)")
    ax.set_xlabel("batch size")
    for ax in axes:
        plain_log_y(ax)
        ax.set_ylabel("seed-updates / s (median)")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle("DOM2 training throughput, mpe_spread (3 agents)")
    fig.tight_layout()
    return save_plot(fig, path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--write", help="RESULTS.md to update")
    parser.add_argument("--reps", type=int, default=5, help="interleaved A/B repetitions")
    parser.add_argument("--seconds", type=float, default=1.0, help="PyTorch time per timing")
    parser.add_argument("--seeds", default="1,8", help="seed counts, comma-separated")
    parser.add_argument("--presets", default="cpu,paper")
    parser.add_argument(
        "--batch-sizes", default="64,1024", help="extra batch sizes (1 seed); '' for none"
    )
    parser.add_argument("--batch-preset", default="cpu", help="preset of the batch-size sweep")
    parser.add_argument(
        "--grouped",
        default="paper:8:2",
        help="extra rows preset:seeds:group, seeds vmapped in groups (train --run-batch); ''",
    )
    parser.add_argument("--quick", action="store_true", help="cpu preset, 1 seed, 2 reps")
    parser.add_argument(
        "--memory-presets", default="paper", help="presets whose rows get memory probes ('' none)"
    )
    parser.add_argument("--plot", help="PNG path (default: plots/ beside --write)")
    parser.add_argument("--probe", choices=["jax", "torch"], help=argparse.SUPPRESS)
    parser.add_argument("--preset", help=argparse.SUPPRESS)
    parser.add_argument("--updates", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--data", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.probe:
        seeds = int(args.seeds)
        print(json.dumps(probe(args.probe, args.preset, seeds, args.updates, args.data)))
        return

    import jax

    require_torch()
    if args.quick:
        args.presets, args.seeds, args.reps, args.batch_sizes = "cpu", "1", 2, "64"
        args.memory_presets = ""
    tmp = tempfile.mkdtemp(prefix="dom2-bench-")
    # a fresh cache: the compile times below are real; the memory probes reuse the programs
    jax.config.update("jax_compilation_cache_dir", os.path.join(tmp, "xla-cache"))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
    device = torch_device()
    load = load_average()
    try:
        data_path = os.path.join(tmp, "data.npz")
        arrays = random_dataset(data_path)
        ceiling, n = jax_matmul_gflops()  # at the start; each row measures its own too
        torch_ceiling = torch_matmul_gflops(n, device)
        results = []
        for name in args.presets.split(","):
            for seeds in (int(s) for s in args.seeds.split(",")):
                r = measure_case(name, seeds, arrays, args.reps, args.seconds, device)
                results.append(r)
                print(
                    f"{name} x{seeds}: dom2-jax {fmt_rate(r['ours'])}, PyTorch "
                    f"{fmt_rate(r['theirs'])} seed-updates/s, compile {r['compile_s']:.1f} s",
                    flush=True,
                )
        grouped = []
        for item in (g for g in args.grouped.split(",") if g):
            name, seeds, group = item.split(":")
            if name not in args.presets.split(","):
                continue
            r = measure_case(
                name, int(seeds), arrays, args.reps, args.seconds, device, run_batch=int(group)
            )
            grouped.append(r)
            print(
                f"{name} x{seeds} in groups of {group}: dom2-jax {fmt_rate(r['ours'])}, PyTorch "
                f"{fmt_rate(r['theirs'])} seed-updates/s",
                flush=True,
            )
        sweep = [r for r in results if (r["preset"], r["seeds"]) == (args.batch_preset, 1)]
        for batch in (int(b) for b in args.batch_sizes.split(",") if b):
            updates = max(2, JAX_UPDATES.get((args.batch_preset, 1), 10) * 256 // batch)
            r = measure_case(
                args.batch_preset, 1, arrays, args.reps, args.seconds, device, updates, batch
            )
            sweep.append(r)
            print(
                f"{args.batch_preset} batch {batch}: dom2-jax {fmt_rate(r['ours'])}, PyTorch "
                f"{fmt_rate(r['theirs'])} updates/s, compile {r['compile_s']:.1f} s",
                flush=True,
            )
        sweep.sort(key=lambda r: r["batch"])
        cache = os.path.join(tmp, "xla-cache")
        for r in results:
            if r["preset"] in args.memory_presets.split(","):
                for side in ("jax", "torch"):
                    r[f"mem_{side}"] = memory_probe(
                        side, r["preset"], r["seeds"], r["updates"], data_path, cache
                    )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    lines = header("DOM2 training throughput: dom2-jax vs PyTorch")
    lines += [
        f"- versions: {package_versions('jax', 'jaxlib', 'flax', 'optax', 'torch')}",
        f"- devices: dom2-jax {jax_device()}; PyTorch {device}; PyTorch intra-op threads per row: "
        f"the faster of its default ({DEFAULT_TORCH_THREADS.get('n', '?')}) and 1, by a "
        "calibration timing (OpenMP teams suffer when other processes hold a core)",
        f"- load average at start (1/5/15 min; other processes share the CPU): {load}",
        "- task: mpe_spread, 3 agents, random-policy dataset (10k transitions, reweighted "
        "sampling), batch 256, 5 diffusion steps, DPM-Solver-1 with 5 steps, 10 CQL samples; "
        "'cpu' preset = 2 x 64 actor and critic MLPs, 'paper' = 3 x 256",
        "- dom2-jax: `jit(vmap(train_chunk))`, seeds vmapped in one program (rows 'in groups "
        "of k': k seeds vmapped, the groups one after another in the same program, "
        "`train.over_runs`, `train --run-batch k`), chunk = scan over "
        "the updates given, no evaluation; PyTorch: `benchmarks/pytorch_reference` (eager, "
        "agents looped in Python, seeds one after another), calibrated to "
        f"~{args.seconds:g} s per timing",
        f"- {args.reps} interleaved A/B timings per row; median (range) of seed-updates/s; "
        "ratio = dom2-jax median / PyTorch median (range of the ratios within each A/B pair)",
        "",
        "| preset | seeds | dom2-jax seed-updates/s | PyTorch seed-updates/s | ratio | "
        "dom2-jax compile s | updates per timing (jax / torch per seed) | torch threads |",
        "|---|---|---|---|---|---|---|---|",
    ]

    def row(r, first):
        return (
            f"| {first} | {fmt_rate(r['ours'])} | {fmt_rate(r['theirs'])} | {fmt_ratio(r)} | "
            f"{r['compile_s']:.1f} | {r['updates']} / {r['torch_updates']} | "
            f"{r['torch_threads']} |"
        )

    lines += [row(r, f"{r['preset']} | {r['seeds']}") for r in results]
    lines += [
        row(r, f"{r['preset']} | {r['seeds']}, vmapped in groups of {r['run_batch']}")
        for r in grouped
    ]
    lines += [
        "",
        f"Matmul ceiling (float32 {n}x{n} @ {n}x{n}): at the start, best of 5, JAX "
        f"{ceiling:,.1f} GFLOP/s, PyTorch {torch_ceiling:,.1f} GFLOP/s. The percentages below "
        "are of JAX's ceiling measured within each row's repetitions (best of 3 after every A/B "
        "pair, median; column 'ceiling'), so that both see the same load. FLOPs per "
        "update: matmuls of every Dense layer (forward, and the backward products each loss "
        "needs), counted analytically from the config (`benchmarks/flops.py`): dom2-jax's as "
        "executed (observation and time features computed once and shared, issue 15), then "
        "the plain form PyTorch executes, then PyTorch's `FlopCounterMode` on one reference "
        "update (the cross-check of the plain count); each side's rate uses its own count. "
        "Elementwise work is not counted, so the rates are lower bounds.",
        "",
        "| preset | seeds | GFLOP per seed-update: dom2-jax / PyTorch (counted) | "
        "dom2-jax GFLOP/s (% of ceiling) | "
        "PyTorch GFLOP/s (% of ceiling) | ceiling GFLOP/s | XLA program MB | "
        "peak RSS MB (+ above baseline) dom2-jax / PyTorch |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in results + grouped:
        gf, plain = r["flops"] / 1e9, r["plain_flops"] / 1e9
        ours, theirs = gf * np.median(r["ours"]), plain * np.median(r["theirs"])
        mem = "n/a"
        if r.get("mem_jax") and r.get("mem_torch"):
            mem = " / ".join(
                f"{m['peak'] / 2**20:,.0f} (+{(m['peak'] - m['base']) / 2**20:,.0f})"
                + (f", device {m['device_peak'] / 2**20:,.0f}" if m["device_peak"] else "")
                for m in (r["mem_jax"], r["mem_torch"])
            )
        pct = [f"{g:,.1f} ({100 * g / r['ceiling']:.0f}%)" for g in (ours, theirs)]
        seeds = r["seeds"]
        if r["run_batch"] is not None:
            seeds = f"{seeds} (groups of {r['run_batch']})"
        lines.append(
            f"| {r['preset']} | {seeds} | {gf:.2f} / {plain:.2f} "
            f"({r['torch_flops'] / 1e9:.2f}) | "
            f"{pct[0]} | {pct[1]} | {r['ceiling']:,.0f} | {r['xla_bytes'] / 2**20:,.1f} | {mem} |"
        )
    lines += [
        "",
        "XLA program MB: arguments + outputs + temporaries of the compiled chunk (XLA's memory "
        "analysis). Peak RSS: high-water resident memory of a fresh process that loads the data "
        "and runs the case (dom2-jax from the compilation cache, so the compiler's own memory is "
        "excluded; PyTorch one seed's learner at a time), imports included; in brackets, the "
        "growth over the process's resident memory after imports and data loading; probed for "
        f"the {args.memory_presets or 'no'} preset rows only (n/a: not probed). Where the "
        "time goes inside an update: the `update_phases` section.",
    ]
    eight = [r for r in results + grouped if r["seeds"] == 8]
    paper = [r for r in results if r["preset"] == "paper"]
    if eight or paper:
        lines += ["", "Goals (measured, not asserted):"]

    def label(r):
        return r["preset"] + ("" if r["run_batch"] is None else f", groups of {r['run_batch']}")

    if eight:
        got = ", ".join(f"{label(r)} {ratio(r):.1f}x" for r in eight)
        lines.append(f"- dom2-jax >= 5x PyTorch for an 8-seed sweep: {got}")
        ones = {r["preset"]: np.median(r["ours"]) for r in results if r["seeds"] == 1}
        per_seed = ", ".join(
            f"{label(r)} {np.median(r['ours']) / ones[r['preset']]:.2f}x"
            for r in eight
            if r["preset"] in ones
        )
        if per_seed:
            lines.append(
                "- 8 seeds no slower per seed than 1 (seed-updates/s of 8 seeds / of 1 seed; "
                f"medians of separate rows): {per_seed}"
            )
    if paper:
        got = ", ".join(
            f"{100 * r['flops'] / 1e9 * np.median(r['ours']) / r['ceiling']:.0f}% "
            f"({r['seeds']} seed{'s' if r['seeds'] > 1 else ''})"
            for r in paper
        )
        lines.append(f"- >= 50% of the matmul ceiling at the paper size: {got}")
    if len(sweep) > 1:
        lines += [
            "",
            f"Batch size ({args.batch_preset} preset, 1 seed; same protocol):",
            "",
            "| batch | dom2-jax updates/s | PyTorch updates/s | ratio | dom2-jax GFLOP/s "
            "(% of ceiling) | PyTorch GFLOP/s | dom2-jax compile s |",
            "|---|---|---|---|---|---|---|",
        ]
        for r in sweep:
            gf, plain = r["flops"] / 1e9, r["plain_flops"] / 1e9
            ours, theirs = gf * np.median(r["ours"]), plain * np.median(r["theirs"])
            lines.append(
                f"| {r['batch']} | {fmt_rate(r['ours'])} | {fmt_rate(r['theirs'])} | "
                f"{fmt_ratio(r)} | {ours:,.1f} ({100 * ours / r['ceiling']:.0f}%) | {theirs:,.1f} "
                f"| {r['compile_s']:.1f} |"
            )
    if len(results) > 1 or len(sweep) > 1:
        path = plot(results, sweep, args.plot or plot_path(args.write, "train_throughput.png"))
        lines += ["", f"![throughput vs seeds and batch size]({markdown_link(path, args.write)})"]
    print("\n".join(lines))
    if args.write:
        write_section(args.write, "train_throughput", lines)


if __name__ == "__main__":
    main()
