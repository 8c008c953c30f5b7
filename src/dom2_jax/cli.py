"""Command line: `python -m dom2_jax <command>` (the edge: argument parsing and printing only)."""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from pathlib import Path

import jax
import numpy as np

from dom2_jax.config import LEVELS, PRESETS, algo_configs
from dom2_jax.data import reference_returns
from dom2_jax.envs import make, registered_names
from dom2_jax.envs.rollout import batch_returns, random_policy


def _run_config(args: argparse.Namespace):
    """The run's config: a JSON preset file (`--config`) or a named preset, then CLI overrides."""
    from dom2_jax.config import from_dict, preset

    overrides = {"n_seeds": args.seeds, "seed": args.seed}
    if args.updates is not None:
        overrides["n_updates"] = args.updates
        overrides["chunk_updates"] = min(args.chunk or args.updates, args.updates)
    elif args.chunk is not None:
        overrides["chunk_updates"] = args.chunk
    if args.config:
        path = Path(args.config)
        if not path.is_file():
            raise SystemExit(f"--config {path}: no such file")
        try:
            config = from_dict(json.loads(path.read_text()), where=str(path))
        except (ValueError, TypeError) as err:
            raise SystemExit(f"--config {path}: {err}") from err
        for flag in ("env", "level", "algo", "preset"):
            if getattr(args, flag) is not None:
                raise SystemExit(f"--{flag} conflicts with --config (the file sets it)")
        train = dataclasses.replace(config.train, **overrides)
        config = dataclasses.replace(config, train=train)
    else:
        config = preset(
            args.preset or "cpu",
            env=args.env or "mpe_spread",
            level=args.level or "expert",
            algo=args.algo or "dom2",
            **overrides,
        )
    if args.reweight is not None:
        reweight = dataclasses.replace(config.reweight, enabled=args.reweight == "on")
        config = dataclasses.replace(config, reweight=reweight)
    return config


def _train(args: argparse.Namespace) -> int:
    from dom2_jax.io import generation
    from dom2_jax.io.training import run_training

    # --distributed is acted on in __main__.py, before jumanji's import starts the backend.
    config = _run_config(args)
    env_name, level = config.env, config.level
    preset_name = Path(args.config).stem if args.config else (args.preset or "cpu")
    dataset = (
        Path(args.dataset)
        if args.dataset
        else generation.default_path(env_name, level, args.data_seed, suffix=f"-{args.data_preset}")
    )
    if not dataset.exists():
        print(f"[dom2-jax] {dataset} is missing: generating it ({args.data_preset} preset)")
        generation.generate(
            env_name, level, seed=args.data_seed, preset=args.data_preset, out=dataset
        )
    algo = config.algo_name
    reweight = "on" if config.reweight.enabled else "off"
    run_dir = args.run_dir or (
        f"runs/{algo}-{env_name}-{level}-{preset_name}-rw{reweight}-seed{args.seed}x{args.seeds}"
    )
    weights = ", ".join(
        f"{k} {getattr(config.algo, k)}"
        for k in ("eta", "cql_alpha", "alpha", "omar_coe", "bc_weight")
        if hasattr(config.algo, k)
    )
    print(
        f"[dom2-jax] training {algo} on {dataset} -> {run_dir} ({preset_name} preset, "
        f"{config.train.n_updates} updates x {args.seeds} seed(s), {weights or 'no loss weights'}"
        f", reweighting {reweight})"
    )
    summary = run_training(
        config,
        dataset,
        run_dir,
        resume=args.resume,
        max_chunks=args.max_chunks,
        tensorboard=args.tensorboard,
    )
    if "final" not in summary:  # a non-primary process of a multi-host run
        print(f"[dom2-jax] process {summary['process']} done; results in {summary['run_dir']}")
        return 0
    final = summary["final"]
    returns = np.asarray(final["eval_return"])
    print(
        f"final eval return ({reference_returns.AGGREGATION.get(env_name, 'mean')} over agents): "
        f"{returns.mean():.2f} +- {returns.std():.2f} over {len(returns)} seed(s)"
    )
    for key in sorted(k for k in final if k.startswith("score_")):
        vals = np.asarray(final[key])
        print(
            f"normalised score ({key[6:]} reference returns): {vals.mean():.1f} +- {vals.std():.1f}"
        )
    print(f"metrics, checkpoints and learning curve in {run_dir}")
    return 0


def _rollout(args: argparse.Namespace) -> int:
    env, params = make(args.env)
    n_steps = int(params.max_steps)
    run = jax.jit(
        lambda key: batch_returns(env, params, random_policy(env), key, args.num_envs, n_steps)
    )
    start = time.perf_counter()
    returns = np.asarray(jax.block_until_ready(run(jax.random.key(args.seed))))
    elapsed = time.perf_counter() - start
    team = np.asarray(reference_returns.team_return(args.env, returns))
    how = reference_returns.AGGREGATION.get(args.env, "mean")
    print(
        f"random policy on {args.env}, {args.num_envs} episodes x {n_steps} steps, seed {args.seed}"
    )
    print(f"mean episode return ({how} over agents): {team.mean():.2f} +- {team.std():.2f}")
    print(f"per-agent mean return: {np.round(returns.mean(axis=0), 2).tolist()}")
    if args.env in reference_returns.OMAR:
        score = reference_returns.normalized_score(args.env, team.mean())
        lo, hi = reference_returns.OMAR[args.env]
        print(f"OMAR-normalised score: {float(score):.1f} (random {lo}, expert {hi})")
    print(f"{args.num_envs * n_steps} env steps in {elapsed:.2f} s, compile included")
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
    train = sub.add_parser("train", help="train DOM2 or a baseline on an offline dataset")
    train.add_argument(
        "--env", default=None, choices=registered_names(), help="default: mpe_spread"
    )
    train.add_argument("--level", default=None, choices=list(LEVELS), help="default: expert")
    train.add_argument("--algo", default=None, choices=list(algo_configs()), help="default: dom2")
    train.add_argument("--preset", default=None, choices=list(PRESETS), help="default: cpu")
    train.add_argument(
        "--config",
        default=None,
        help="a JSON run config (e.g. experiments/configs/paper/mpe_spread-expert.json) "
        "instead of --env/--level/--algo/--preset",
    )
    train.add_argument("--seeds", type=int, default=1, help="seeds trained in one vmapped program")
    train.add_argument("--seed", type=int, default=0, help="base seed")
    train.add_argument("--updates", type=int, default=None, help="override the preset's updates")
    train.add_argument("--chunk", type=int, default=None, help="updates per compiled chunk")
    train.add_argument(
        "--reweight",
        default=None,
        choices=["on", "off"],
        help="trajectory reweighting (default: as the algorithm's paper runs it, on for dom2 "
        "and off for the baselines; or the config file's)",
    )
    train.add_argument(
        "--dataset",
        default=None,
        help="dataset file, generated there if missing (default: data/<env>/<level>-...npz)",
    )
    train.add_argument(
        "--data-preset",
        default="small",
        choices=["small", "paper"],
        help="size of the dataset generated when --dataset is not given",
    )
    train.add_argument("--data-seed", type=int, default=0)
    train.add_argument("--run-dir", default=None)
    train.add_argument("--resume", action="store_true", help="continue from the last checkpoint")
    train.add_argument(
        "--tensorboard",
        action="store_true",
        help="also write the metrics as TensorBoard events to <run-dir>/tensorboard/",
    )
    train.add_argument(
        "--distributed",
        action="store_true",
        help="multi-host: call jax.distributed.initialize() first (Slurm, Open MPI and TPU are "
        "auto-detected; elsewhere pass --coordinator, --num-processes, --process-id) so the "
        "seed axis is sharded over every host's devices",
    )
    train.add_argument("--coordinator", default=None, help="host:port of process 0")
    train.add_argument("--num-processes", type=int, default=None)
    train.add_argument("--process-id", type=int, default=None)
    train.add_argument(
        "--max-chunks",
        type=int,
        default=None,
        help="stop after this many chunks (resume later with --resume)",
    )
    train.set_defaults(func=_train)
    rollout = sub.add_parser("rollout", help="vmapped random-policy episodes of an env")
    rollout.add_argument("--env", default="mpe_spread", choices=registered_names())
    rollout.add_argument("--seed", type=int, default=0)
    rollout.add_argument("--num-envs", type=int, default=1024, help="parallel episodes")
    rollout.set_defaults(func=_rollout)
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
        help="paper: 1M transitions (medium-replay: the whole buffer until the medium policy); "
        "small: 50k",
    )
    data.add_argument(
        "--out",
        default=None,
        help="file (default data/<env>/<level>-seed<k>-<preset>.npz, where train looks for it; "
        "with --size: <level>-seed<k>.npz)",
    )
    data.set_defaults(func=_data)
    envs = sub.add_parser("envs", help="list the registered environments and their shapes")
    envs.set_defaults(func=_envs)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(sys.argv[1:] if argv is None else argv)
    return args.func(args)
