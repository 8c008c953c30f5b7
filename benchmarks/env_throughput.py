"""Env steps/s of our vmapped JAX MPE vs Farama mpe2's ParallelEnv, measured in one run.

Each measurement runs whole episodes (reset + 25 steps, random actions), so both sides pay for
resets. Ours: one jitted program, `n_envs` episodes vmapped, repeated `episodes` times in a
`lax.scan`; compile time excluded (reported separately). mpe2: one env stepped from Python, the
way its users step it. Measurements alternate A/B `--reps` times; the table gives the median and
the range, and the ratio of medians.

    python benchmarks/env_throughput.py [--write benchmarks/RESULTS.md] [--quick]
"""

from __future__ import annotations

import argparse

import jax
import jax.numpy as jnp
import numpy as np

from benchmarks.common import header, median_spread, package_versions, timed, write_section
from dom2_jax.envs import make
from dom2_jax.envs.rollout import batch_returns, random_policy

MPE2 = {"mpe_spread": "simple_spread_v3", "mpe_tag": "simple_tag_v3"}


def ours(name: str, n_envs: int, episodes: int):
    env, params = make(name)
    n_steps = int(params.max_steps)
    policy = random_policy(env)

    @jax.jit
    def run(key):
        def one(carry, k):
            return carry, batch_returns(env, params, policy, k, n_envs, n_steps).sum()

        return jax.lax.scan(one, 0.0, jax.random.split(key, episodes))[1]

    compile_s = timed(lambda: run.lower(jax.random.key(0)).compile())
    compiled = run.lower(jax.random.key(0)).compile()
    jax.block_until_ready(compiled(jax.random.key(0)))
    steps = n_envs * n_steps * episodes
    return (lambda: jax.block_until_ready(compiled(jax.random.key(1)))), steps, compile_s


def mpe2_runner(name: str, episodes: int):
    import importlib

    module = importlib.import_module(f"mpe2.{MPE2[name]}")
    env = module.parallel_env(max_cycles=25, continuous_actions=True)
    env.reset(seed=0)
    rng = np.random.default_rng(0)
    spaces = {a: env.action_space(a) for a in env.possible_agents}

    def run():
        for _ in range(episodes):
            env.reset()
            for _ in range(25):
                env.step(
                    {a: rng.uniform(0, 1, s.shape).astype(np.float32) for a, s in spaces.items()}
                )

    return run, episodes * 25


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--write", help="RESULTS.md to update")
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="smaller sizes (smoke test)")
    parser.add_argument("--no-mujoco", action="store_true", help="skip the halfcheetah rows")
    args = parser.parse_args()
    sizes = [1, 64] if args.quick else [1, 64, 1024, 8192]
    lines = header("MPE env throughput: dom2-jax (vmapped, jitted) vs mpe2 (Python ParallelEnv)")
    lines += [f"- versions: {package_versions('jax', 'jaxlib', 'mpe2', 'pettingzoo')}", ""]
    lines += [
        "| env | parallel envs | dom2-jax steps/s (median, range) | compile s | "
        "mpe2 steps/s (median, range) | ratio |",
        "|---|---|---|---|---|---|",
    ]
    best = {}
    for name in ["mpe_spread", "mpe_tag", "mpe_world"]:
        ref_run, ref_steps = (
            mpe2_runner(name, 8 if args.quick else 40) if name in MPE2 else (None, 0)
        )
        for n in sizes:
            episodes = max(2, min(200, 200_000 // (25 * n)))
            run, steps, compile_s = ours(name, n, 2 if args.quick else episodes)
            a, b = [], []
            for _ in range(args.reps):  # interleaved A/B
                a.append(steps / timed(run))
                if ref_run is not None:
                    b.append(ref_steps / timed(ref_run))
            (am, alo, ahi) = median_spread(a)
            if b:
                bm, blo, bhi = median_spread(b)
                ref_cell, ratio = f"{bm:,.0f} ({blo:,.0f}-{bhi:,.0f})", f"{am / bm:,.1f}x"
                best[name] = max(best.get(name, 0.0), am / bm)
            else:
                ref_cell, ratio = "n/a (no mpe2 scenario)", "-"
            lines.append(
                f"| {name} | {n} | {am:,.0f} ({alo:,.0f}-{ahi:,.0f}) | {compile_s:.2f} | "
                f"{ref_cell} | {ratio} |"
            )
            print(lines[-1], flush=True)
    lines += [
        "",
        "Best ratio per env: " + ", ".join(f"{k} {v:,.0f}x" for k, v in best.items()),
        "(goal: >=100x at the best batch size).",
    ]
    print("\n".join(lines))
    if args.write:
        write_section(args.write, "env_throughput_mpe", lines)


if __name__ == "__main__":
    jnp.zeros(())  # initialise the backend before timing anything
    main()
