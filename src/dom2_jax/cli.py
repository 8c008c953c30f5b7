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

from dom2_jax.config import ALL_LEVELS, PRESETS, algo_configs, levels_for
from dom2_jax.data import reference_returns
from dom2_jax.envs import make, registered_names
from dom2_jax.envs.rollout import batch_returns, random_policy


def _run_config(args: argparse.Namespace):
    """The run's config: a JSON preset file (`--config`) or a named preset, then CLI overrides."""
    from dom2_jax.config import from_dict, preset, with_algo_fields

    overrides = {"n_seeds": args.seeds, "seed": args.seed}
    if args.sweep is not None:
        field, *values = args.sweep
        try:
            overrides.update(sweep_field=field, sweep_values=tuple(float(v) for v in values))
        except ValueError as err:
            raise SystemExit(f"--sweep {' '.join(args.sweep)}: values must be numbers") from err
    for flag, field in (
        ("eval_every", "eval_every"),
        ("eval_episodes", "eval_episodes"),
        ("eval_candidates", "eval_candidates"),
    ):
        if getattr(args, flag) is not None:
            value = getattr(args, flag)
            overrides[field] = tuple(value) if isinstance(value, list) else value
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
    if args.reweight_rule is not None:
        reweight = dataclasses.replace(config.reweight, rule=args.reweight_rule)
        config = dataclasses.replace(config, reweight=reweight)
    algo_overrides = {"gamma": args.gamma, "batch_size": args.batch_size, "eta": args.eta}
    algo_overrides = {k: v for k, v in algo_overrides.items() if v is not None}
    if algo_overrides:
        try:
            config = with_algo_fields(config, **algo_overrides)
        except ValueError as err:
            raise SystemExit(str(err)) from err
    return config


def _train(args: argparse.Namespace) -> int:
    from dom2_jax.io import generation
    from dom2_jax.io.runs import check_candidates
    from dom2_jax.io.training import run_training

    # --distributed is acted on in __main__.py, before jumanji's import starts the backend.
    try:  # a bad flag value is the user's error: name it, no traceback
        config = _run_config(args)
        check_candidates(config, make(config.env)[0], config.train.eval_candidates, "train")
    except ValueError as err:
        raise SystemExit(f"dom2_jax train: {err}") from err
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
        run_batch=args.run_batch,
    )
    if "final" not in summary:  # a non-primary process of a multi-host run
        print(f"[dom2-jax] process {summary['process']} done; results in {summary['run_dir']}")
        return 0
    sweep = config.train.sweep_field
    groups = {None: list(range(len(summary["runs"])))}
    if sweep is not None:  # one block per swept value
        groups = {
            v: [i for i, r in enumerate(summary["runs"]) if r[sweep] == v]
            for v in dict.fromkeys(r[sweep] for r in summary["runs"])
        }
    how = reference_returns.return_aggregation(env_name)
    for value, runs in groups.items():
        final = {k: np.asarray(v)[runs] for k, v in summary["reported"].items()}
        head = "" if value is None else f"[{sweep} = {value:g}] "
        returns = final["eval_return"]
        print(
            f"{head}reported eval return ({how} over agents): "
            f"{returns.mean():.2f} +- {returns.std():.2f} over {len(returns)} seed(s)"
        )
        for key in sorted(k for k in final if k.startswith("score_")):
            vals = final[key]
            refs, _, k = key[6:].partition("_k")
            best = f", best of {k} candidates" if k else ""
            print(
                f"{head}normalised score ({refs} reference returns{best}): "
                f"{vals.mean():.1f} +- {vals.std():.1f}"
            )
    flag = summary["convergence"]
    if np.isfinite(flag["drift"]):
        why = f"last-20% drift {flag['drift']:.1f} vs seed spread {flag['spread']:.1f}"
    else:  # fewer than 3 evaluations show no plateau (`dom2_jax.curves.convergence`)
        why = "too few evaluations to tell: set --eval-every"
    print(
        f"reported score: mean of the last 3 evaluations; converged: {flag['converged']} "
        f"({why}, {flag['column']})"
    )
    if config.reweight.enabled:
        ess = ", ".join(f"{x:.2f}" for x in summary["reweight_ess"])
        print(f"reweighting ({config.reweight.rule} rule): effective sample size {ess} of the data")
    print(f"metrics, checkpoints and learning curve in {run_dir}")
    return 0


def _eval(args: argparse.Namespace) -> int:
    from dom2_jax.io.metrics import write_json
    from dom2_jax.io.runs import check_candidates, evaluate_run, format_table, load_run, read_config

    shifts = None if not args.shifts else "all" if args.shifts == ["all"] else args.shifts
    try:
        config = read_config(args.run_dir)  # fail on candidates before restoring anything
        check_candidates(config, make(config.env)[0], args.candidates, where=args.run_dir)
        run = load_run(args.run_dir, args.step)
        result = evaluate_run(run, args.episodes, args.candidates, shifts, key_seed=args.seed)
    except (FileNotFoundError, ValueError) as err:
        raise SystemExit(f"dom2_jax eval: {err}") from err
    out = Path(args.out) if args.out else Path(args.run_dir) / "eval.json"
    write_json(out, result)
    print(format_table(result))
    print(f"wrote {out}")
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
    how = reference_returns.return_aggregation(args.env)
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

    levels = levels_for(args.env) if args.level == "all" else (args.level,)
    for level in levels:
        try:
            path, meta = generation.generate(
                args.env,
                level,
                seed=args.seed,
                size=args.size,
                preset=args.preset,
                out=args.out,
                opponent=args.opponent,
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
    train.add_argument("--level", default=None, choices=list(ALL_LEVELS), help="default: expert")
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
        "--eval-every",
        type=int,
        default=None,
        help="updates between evaluations, the learning curve's spacing (default: every chunk)",
    )
    train.add_argument(
        "--eval-episodes", type=int, default=None, help="episodes per seed and evaluation"
    )
    train.add_argument(
        "--eval-candidates",
        type=int,
        nargs="+",
        default=None,
        metavar="K",
        help="candidate actions per agent at evaluation, one curve each: 1 = one policy sample; "
        "K > 1 = best of K by softmax over the target critics' min-Q (Diffusion-QL; diffusion "
        "policies only), e.g. --eval-candidates 1 50",
    )
    train.add_argument(
        "--gamma", type=float, default=None, help="override the algorithm's discount"
    )
    train.add_argument(
        "--batch-size", type=int, default=None, help="override the algorithm's batch size"
    )
    train.add_argument("--eta", type=float, default=None, help="override DOM2's Q-term weight")
    train.add_argument(
        "--sweep",
        nargs="+",
        default=None,
        metavar="FIELD_OR_VALUE",
        help="sweep a loss weight in the same vmapped program, e.g. --sweep eta 0.1 0.5 1 2.5 5: "
        "every value trains --seeds seeds (metrics_seed<v * seeds + s>.csv)",
    )
    train.add_argument(
        "--reweight",
        default=None,
        choices=["on", "off"],
        help="trajectory reweighting (default: as the algorithm's paper runs it, on for dom2 "
        "and off for the baselines; or the config file's)",
    )
    train.add_argument(
        "--reweight-rule",
        default=None,
        choices=["authors", "quantile"],
        help="authors (default): each agent's own return, one copy per threshold exceeded; "
        "quantile: our earlier team-return quantile rule",
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
    train.add_argument(
        "--run-batch",
        type=int,
        default=None,
        help="train this many seeds side by side (vmapped) and the groups one after another, "
        "in one program (default: all seeds at once). On a CPU whose cores one run already "
        "fills (paper-size networks), 1 or 2 avoids the wider batch's larger working set; "
        "results equal to float32 rounding",
    )
    train.set_defaults(func=_train)
    evaluate = sub.add_parser("eval", help="evaluate a trained run's checkpoint (every seed)")
    evaluate.add_argument("run_dir", help="a run directory written by `train`")
    evaluate.add_argument("--step", type=int, default=None, help="default: the last checkpoint")
    evaluate.add_argument("--episodes", type=int, default=10, help="episodes per seed")
    evaluate.add_argument(
        "--candidates",
        type=int,
        nargs="+",
        default=[1],
        metavar="K",
        help="candidate actions per agent, one evaluation each: 1 = one policy sample; K > 1 = "
        "best of K by the target critics (diffusion policies only), e.g. --candidates 1 50",
    )
    evaluate.add_argument(
        "--shifts",
        nargs="+",
        default=None,
        metavar="NAME",
        help="also evaluate under env shifts: `all` or shift names (default: unshifted only)",
    )
    evaluate.add_argument("--seed", type=int, default=0, help="evaluation key seed")
    evaluate.add_argument("--out", default=None, help="JSON output (default: <run_dir>/eval.json)")
    evaluate.set_defaults(func=_eval)
    rollout = sub.add_parser("rollout", help="vmapped random-policy episodes of an env")
    rollout.add_argument("--env", default="mpe_spread", choices=registered_names())
    rollout.add_argument("--seed", type=int, default=0)
    rollout.add_argument("--num-envs", type=int, default=1024, help="parallel episodes")
    rollout.set_defaults(func=_rollout)
    data = sub.add_parser("data", help="generate an offline dataset (a level, or all of an env's)")
    data.add_argument("--env", default="mpe_spread", choices=registered_names())
    data.add_argument("--level", default="all", choices=["all", *ALL_LEVELS])
    data.add_argument("--seed", type=int, default=0)
    data.add_argument(
        "--opponent",
        default="calibrated",
        choices=["calibrated", "co-trained"],
        help="tag/world: the calibrated prey (default) or the co-trained MATD3 prey and its "
        "policies, which made the datasets before issue 14",
    )
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
