"""Training throughput of every registered algorithm: updates/s at the `cpu` preset, 1 and 8 seeds.

For each algorithm of `dom2_jax.algos.registry` whose module exists, one chunk of `--updates`
updates plus one evaluation episode (the trainer's compiled unit, seeds vmapped) on a random
mpe_spread dataset; the first call (compile + run) is timed apart from the `--reps` following
calls, whose median and range of seed-updates/s the table gives.

    python -m benchmarks.algo_throughput [--write benchmarks/RESULTS.md] [--algos bc omar] [--quick]
"""

from __future__ import annotations

import argparse
import importlib.util

import jax
import numpy as np

from benchmarks.common import (
    header,
    load_average,
    median_spread,
    package_versions,
    timed,
    write_section,
)
from dom2_jax.config import ALGORITHMS, preset
from dom2_jax.data.generate import make_collect, to_dataset
from dom2_jax.envs import make
from dom2_jax.envs.rollout import random_policy
from dom2_jax.train import make_train, make_train_data, seed_keys


def available() -> list[str]:
    """Registered algorithms whose module and config both exist (others are skipped)."""
    return [
        name
        for name, spec in ALGORITHMS.items()
        if importlib.util.find_spec(spec.builder.split(":")[0]) is not None
    ]


def measure(config, env, params, dataset, reps):
    fns = make_train(config, env, params)
    data = make_train_data(dataset, config.env, config)
    states = jax.vmap(fns.init)(seed_keys(0, config.train.n_seeds))  # seeds
    chunk = jax.jit(jax.vmap(fns.train_chunk, in_axes=(0, None)))  # seeds
    first = timed(lambda: jax.block_until_ready(chunk(states, data)))
    n = config.train.chunk_updates * config.train.n_seeds
    rates = [n / timed(lambda: jax.block_until_ready(chunk(states, data))) for _ in range(reps)]
    return first, rates


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--write", help="RESULTS.md to update")
    parser.add_argument("--reps", type=int, default=2)
    parser.add_argument("--updates", type=int, default=50)
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 8])
    parser.add_argument("--algos", nargs="+", default=None, help="default: every registered one")
    parser.add_argument("--quick", action="store_true", help="1 seed, 1 timed rep")
    args = parser.parse_args()
    if args.quick:
        args.seeds, args.reps = [1], 1
    load = load_average()
    names = available()
    skipped = sorted(set(ALGORITHMS) - set(names))
    if args.algos:
        names = [a for a in names if a in args.algos]
    env, params = make("mpe_spread")
    traj = jax.jit(make_collect(env, params, random_policy(env), 100, 100))(jax.random.key(0))
    dataset = to_dataset(jax.tree.map(np.asarray, traj))
    lines = header("Training throughput per algorithm (cpu preset, compiled chunk, seeds vmapped)")
    lines += [
        f"- versions: {package_versions('jax', 'jaxlib', 'flax', 'optax')}",
        f"- mpe_spread random data, 3 agents, each algorithm's `cpu` preset (its batch size and "
        f"networks), chunk of {args.updates} updates + 1 eval episode, {args.reps} timed reps",
        f"- skipped (module not present): {', '.join(skipped) or 'none'}",
        f"- load average at start (1/5/15 min): {load} (other jobs on the CPU skew timings)",
        "",
        "| algo | batch | seeds | compile + first chunk s | seed-updates/s (median, range) | "
        "updates/s per seed |",
        "|---|---|---|---|---|---|",
    ]
    for name in names:
        for seeds in args.seeds:
            config = preset(
                "cpu",
                level="random",
                algo=name,
                n_updates=args.updates,
                chunk_updates=args.updates,
                eval_episodes=1,
                n_seeds=seeds,
            )
            first, rates = measure(config, env, params, dataset, args.reps)
            med, lo, hi = median_spread(rates)
            lines.append(
                f"| {name} | {config.algo.batch_size} | {seeds} | {first:.1f} | "
                f"{med:,.1f} ({lo:,.1f}-{hi:,.1f}) | {med / seeds:,.1f} |"
            )
            print(lines[-1], flush=True)
    print("\n".join(lines))
    if args.write:
        write_section(args.write, "algo_throughput", lines)


if __name__ == "__main__":
    main()
