"""Command line: `python -m dom2_jax <command>` (the edge: argument parsing and printing only)."""

from __future__ import annotations

import argparse
import sys
import time

import jax
import numpy as np

from dom2_jax.data import reference_returns
from dom2_jax.envs import make, registered_names
from dom2_jax.envs.rollout import batch_returns, random_policy


def _train(args: argparse.Namespace) -> int:
    env, params = make(args.env)
    n_steps = int(params.max_steps)
    print(
        f"[dom2-jax] DOM2 training lands with the DOM2 trainer issue (step 4 of the plan). Until "
        f"then `train` runs a vmapped random-policy rollout of {args.env}: {args.num_envs} "
        f"episodes x {n_steps} steps, seed {args.seed}."
    )
    run = jax.jit(
        lambda key: batch_returns(env, params, random_policy(env), key, args.num_envs, n_steps)
    )
    start = time.perf_counter()
    returns = np.asarray(jax.block_until_ready(run(jax.random.key(args.seed))))
    elapsed = time.perf_counter() - start
    team = np.asarray(reference_returns.team_return(args.env, returns))
    how = reference_returns.AGGREGATION.get(args.env, "mean")
    print(f"mean episode return ({how} over agents): {team.mean():.2f} +- {team.std():.2f}")
    print(f"per-agent mean return: {np.round(returns.mean(axis=0), 2).tolist()}")
    if args.env in reference_returns.OMAR:
        score = reference_returns.normalized_score(args.env, team.mean())
        lo, hi = reference_returns.OMAR[args.env]
        print(f"OMAR-normalised score: {float(score):.1f} (random {lo}, expert {hi})")
    steps = args.num_envs * n_steps
    print(f"{steps} env steps in {elapsed:.2f} s, compile included")
    return 0


def _data(args: argparse.Namespace) -> int:
    from dom2_jax.io import generation

    levels = generation.LEVELS if args.level == "all" else (args.level,)
    for level in levels:
        try:
            path, meta = generation.generate(
                args.env, level, seed=args.seed, size=args.size, preset=args.preset, out=args.out
            )
        except NotImplementedError as err:
            print(f"[dom2-jax] skipped {args.env}/{level}: {err}", file=sys.stderr)
            if args.level != "all":
                return 2
            continue
        policy = meta["behaviour_policy"]
        print(
            f"wrote {path}: {meta['level']} {args.env}, {meta.get('n_transitions')} transitions, "
            f"{meta.get('n_episodes')} episodes, mean return {policy['mean_return']:.2f} "
            f"({meta['return_aggregation']} over agents), {meta['generation_seconds']} s"
        )
    return 0


def _envs(args: argparse.Namespace) -> int:
    for name in registered_names():
        env, _ = make(name)
        print(f"{name:18s} agents={env.n_agents} obs={env.obs_sizes} actions={env.act_sizes}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="dom2_jax", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    train = sub.add_parser("train", help="train on an env (random-policy rollout until DOM2 lands)")
    train.add_argument("--env", default="mpe_spread", choices=registered_names())
    train.add_argument("--seed", type=int, default=0)
    train.add_argument("--num-envs", type=int, default=1024, help="parallel episodes (vmapped)")
    train.set_defaults(func=_train)
    data = sub.add_parser("data", help="generate an offline dataset (one level or all four)")
    data.add_argument("--env", default="mpe_spread", choices=registered_names())
    data.add_argument(
        "--level", default="all", choices=["all", "random", "medium-replay", "medium", "expert"]
    )
    data.add_argument("--seed", type=int, default=0)
    data.add_argument("--size", type=int, default=None, help="transitions (default: the preset's)")
    data.add_argument(
        "--preset",
        default="paper",
        choices=["paper", "small"],
        help="paper: 1M transitions (medium-replay: the published buffer sizes); small: 50k",
    )
    data.add_argument("--out", default=None, help="file (default data/<env>/<level>-seed<k>.npz)")
    data.set_defaults(func=_data)
    envs = sub.add_parser("envs", help="list the registered environments and their shapes")
    envs.set_defaults(func=_envs)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(sys.argv[1:] if argv is None else argv)
    return args.func(args)
