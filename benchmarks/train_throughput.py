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

This module is the harness (the interleaved timings, the CLI); the timed programs are in
`train_throughput_sides`, the memory probes in `train_throughput_memory`, the section and plot in
`train_throughput_report`.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile

import numpy as np

from benchmarks.common import (
    jax_matmul_gflops,
    load_average,
    pick_torch_threads,
    require_torch,
    timed,
    torch_device,
    torch_matmul_gflops,
    write_section,
    xla_program_bytes,
)
from benchmarks.flops import update_flops
from benchmarks.train_throughput_memory import memory_probe, probe
from benchmarks.train_throughput_report import fmt_rate, section
from benchmarks.train_throughput_sides import (
    ACT_DIM,
    N_AGENTS,
    OBS_DIM,
    TorchRun,
    jax_chunk,
    random_dataset,
    run_config,
)

# updates per compiled chunk (dom2-jax); PyTorch's count is calibrated to `--seconds` per timing
# (each timing ~0.5-2 s at low load on 2 cores)
JAX_UPDATES = {("cpu", 1): 30, ("cpu", 8): 6, ("paper", 1): 4, ("paper", 8): 1}


def measure_case(
    name, seeds, arrays, reps, seconds, device, updates=None, batch=None, run_batch=None,
    matmul_n=None,
):  # fmt: skip
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
        ceilings.append(jax_matmul_gflops(matmul_n, repeats=3)[0])
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
    parser.add_argument(
        "--matmul-n", type=int, help="matmul ceiling size (default 2048 on CPU, 8192 on GPU)"
    )
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
        ceiling, n = jax_matmul_gflops(args.matmul_n)  # at the start; each row measures its own too
        torch_ceiling = torch_matmul_gflops(n, device)
        results = []
        for name in args.presets.split(","):
            for seeds in (int(s) for s in args.seeds.split(",")):
                r = measure_case(
                    name, seeds, arrays, args.reps, args.seconds, device, matmul_n=args.matmul_n
                )
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
                name, int(seeds), arrays, args.reps, args.seconds, device,
                run_batch=int(group), matmul_n=args.matmul_n,
            )  # fmt: skip
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
                args.batch_preset, 1, arrays, args.reps, args.seconds, device, updates, batch,
                matmul_n=args.matmul_n,
            )  # fmt: skip
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

    lines = section(results, grouped, sweep, args, device, load, (ceiling, torch_ceiling, n))
    print("\n".join(lines))
    if args.write:
        write_section(args.write, "train_throughput", lines)


if __name__ == "__main__":
    main()
