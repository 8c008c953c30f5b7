"""DOM2 training throughput of the compiled program: updates/s per preset and seed count.

One chunk of `--updates` updates (vmapped over seeds) on a random mpe_spread dataset; the first
call (compile + run) is timed separately from the following `--reps` calls; the table gives the
median and range of seed-updates/s. Also the share of an update spent in the CQL term (the same
update with `cql_samples=1, cql_alpha=0`). The PyTorch comparison comes with the benchmarks issue.

    python -m benchmarks.train_throughput [--write benchmarks/RESULTS.md] [--quick]
"""

from __future__ import annotations

import argparse
import dataclasses

import jax
import numpy as np

from benchmarks.common import header, median_spread, package_versions, timed, write_section
from dom2_jax.config import preset
from dom2_jax.data.generate import make_collect, to_dataset
from dom2_jax.envs import make
from dom2_jax.envs.rollout import random_policy
from dom2_jax.train import make_train, make_train_data, seed_keys


def measure(config, env, params, dataset, reps):
    fns = make_train(config, env, params)
    data = make_train_data(dataset, config.env, config)
    states = jax.vmap(fns.init)(seed_keys(0, config.train.n_seeds))
    chunk = jax.jit(jax.vmap(fns.train_chunk, in_axes=(0, None)))
    first = timed(lambda: jax.block_until_ready(chunk(states, data)))
    n = config.train.chunk_updates * config.train.n_seeds
    rates = [n / timed(lambda: jax.block_until_ready(chunk(states, data))) for _ in range(reps)]
    return first, rates


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--write", help="RESULTS.md to update")
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--updates", type=int, default=100)
    parser.add_argument("--quick", action="store_true", help="cpu preset, 1 seed only")
    args = parser.parse_args()
    env, params = make("mpe_spread")
    traj = jax.jit(make_collect(env, params, random_policy(env), 100, 100))(jax.random.key(0))
    dataset = to_dataset(jax.tree.map(np.asarray, traj))
    cases = [("cpu", 1)] if args.quick else [("cpu", 1), ("cpu", 8), ("paper", 1), ("paper", 8)]
    lines = header("DOM2 training throughput (compiled chunk, seeds vmapped)")
    lines += [
        f"- versions: {package_versions('jax', 'jaxlib', 'flax', 'optax')}",
        f"- mpe_spread, 3 agents, batch 256, 5 diffusion/solver steps, chunk of {args.updates} "
        "updates + 1 eval episode; 'paper' = 3x256 nets, 'cpu' = 2x64",
        "",
        "| preset | seeds | compile + first chunk s | seed-updates/s (median, range) | "
        "updates/s per seed |",
        "|---|---|---|---|---|",
    ]
    for name, seeds in cases:
        config = preset(
            name,
            level="random",
            n_updates=args.updates,
            chunk_updates=args.updates,
            eval_episodes=1,
            n_seeds=seeds,
        )
        first, rates = measure(config, env, params, dataset, args.reps)
        med, lo, hi = median_spread(rates)
        lines.append(
            f"| {name} | {seeds} | {first:.1f} | {med:,.1f} ({lo:,.1f}-{hi:,.1f}) | "
            f"{med / seeds:,.1f} |"
        )
        print(lines[-1], flush=True)
    config = preset(
        "paper" if not args.quick else "cpu",
        level="random",
        n_updates=args.updates,
        chunk_updates=args.updates,
        eval_episodes=1,
    )
    no_cql = dataclasses.replace(
        config, algo=dataclasses.replace(config.algo, cql_samples=1, cql_alpha=0.0)
    )
    with_cql = np.median(measure(config, env, params, dataset, args.reps)[1])
    without = np.median(measure(no_cql, env, params, dataset, args.reps)[1])
    share = 1.0 - with_cql / without
    lines += [
        "",
        f"CQL term's share of an update ({config.algo.critic_hidden} critics, 10 sampled "
        f"actions): {100 * share:.0f}% ({with_cql:.1f} vs {without:.1f} updates/s without "
        "it, 1 seed).",
    ]
    print("\n".join(lines))
    if args.write:
        write_section(args.write, "train_throughput", lines)


if __name__ == "__main__":
    main()
