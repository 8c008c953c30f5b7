"""Is a seed cheaper alone or vmapped with others? One seed against 8 seeds vmapped at once and
8 seeds vmapped in groups (`train.over_runs`, `train --run-batch k`), per preset.

Every program is a compiled DOM2 training chunk (`make_train(...).train_chunk`, no evaluation) on
the same random-policy mpe_spread data as `train_throughput`; the variants are timed in turn
within each repetition, so load drift hits them alike, and the per-seed ratio
(8-seed seed-updates/s over 1-seed seed-updates/s) is taken within each repetition, then the
median (range) is reported. XLA program MB: arguments + outputs + temporaries of the program.

    python -m benchmarks.seed_batching [--write benchmarks/RESULTS.md] [--presets cpu,paper]
"""

from __future__ import annotations

import argparse
import os
import tempfile

import numpy as np

from benchmarks.common import (
    header,
    load_average,
    median_spread,
    timed,
    write_section,
    xla_program_bytes,
)
from benchmarks.train_throughput_sides import random_dataset, run_config

# updates per timed chunk, per (preset, seeds): ~0.5-2 s per timing on 2 cores
UPDATES = {"cpu": 10, "paper": 2}


def variants(groups: list[int]) -> list[tuple[int, int | None]]:
    return [(1, None), (8, None), *((8, g) for g in groups)]


def measure(name: str, arrays, reps: int, groups: list[int]) -> dict:
    import jax
    import jax.numpy as jnp

    from dom2_jax.envs import make
    from dom2_jax.train import TrainData, make_train, over_runs, seed_keys

    env, params = make("mpe_spread")
    data = TrainData(**{k: jnp.asarray(v) for k, v in arrays.items()})
    updates = UPDATES[name]
    programs = {}
    for seeds, group in variants(groups):
        fns = make_train(run_config(name, seeds, updates), env, params)
        states = jax.jit(jax.vmap(fns.init))(seed_keys(0, seeds))
        compiled = jax.jit(over_runs(fns.train_chunk, group)).lower(states, data).compile()
        mb = xla_program_bytes(compiled) / 2**20
        jax.block_until_ready(compiled(states, data))  # warm-up
        programs[seeds, group] = (compiled, states, mb)
    rates = {k: [] for k in programs}
    for _ in range(reps):
        for key, (compiled, states, _) in programs.items():
            seconds = timed(lambda c=compiled, s=states: jax.block_until_ready(c(s, data)))
            rates[key].append(key[0] * updates / seconds)
    return {
        "preset": name,
        "updates": updates,
        "rates": rates,
        "mb": {k: v[2] for k, v in programs.items()},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--write", help="RESULTS.md to update")
    parser.add_argument("--presets", default="cpu,paper")
    parser.add_argument("--groups", default="2,4", help="group sizes of the 8-seed rows")
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="cpu preset, 2 reps")
    args = parser.parse_args()
    if args.quick:
        args.presets, args.reps, args.groups = "cpu", 2, "2"
    groups = [int(g) for g in args.groups.split(",") if g]
    load = load_average()
    arrays = random_dataset(os.path.join(tempfile.mkdtemp(prefix="dom2-seeds-"), "data.npz"))
    results = [measure(name, arrays, args.reps, groups) for name in args.presets.split(",")]

    lines = header("Seeds alone, vmapped, or vmapped in groups (DOM2 training chunk)")
    lines += [
        f"- load average at start (1/5/15 min; other processes share the CPU): {load}",
        f"- {args.reps} repetitions, the variants timed in turn within each; seed-updates/s "
        "median (range); per-seed ratio = the variant's seed-updates/s / 1 seed's, within each "
        "repetition, median (range): >= 1 means no slower per seed than one seed",
        "",
        "| preset | seeds | seed-updates/s | per seed vs 1 seed | XLA program MB |",
        "|---|---|---|---|---|",
    ]
    for r in results:
        one = np.asarray(r["rates"][1, None])
        for (seeds, group), xs in r["rates"].items():
            label = f"{seeds}" + ("" if group is None or seeds == 1 else f", groups of {group}")
            if seeds > 1 and group is None:
                label += ", all vmapped"
            ratio = np.asarray(xs) / one
            med, lo, hi = median_spread(list(xs))
            rmed, rlo, rhi = median_spread(list(ratio))
            lines.append(
                f"| {r['preset']} | {label} | {med:,.1f} ({lo:,.1f}-{hi:,.1f}) | "
                f"{rmed:.2f}x ({rlo:.2f}-{rhi:.2f}) | {r['mb'][seeds, group]:,.0f} |"
            )
    print("\n".join(lines))
    if args.write:
        write_section(args.write, "seed_batching", lines)


if __name__ == "__main__":
    main()
