"""The `train` subcommand's body (`python -m dom2_jax train`; the options are in `cli.py`): the
run's config from a preset or a JSON file plus the flags, the dataset (the default path is
generated when missing; an explicit `--dataset` must exist), the training run, and the printed
summary. Errors a user can fix are `dom2_jax.errors` classes (one line at the CLI)."""

from __future__ import annotations

import argparse
import dataclasses
import json
from pathlib import Path

import numpy as np

from dom2_jax.data import reference_returns
from dom2_jax.envs import make
from dom2_jax.errors import ConfigError, UserError


def run_config(args: argparse.Namespace):
    """The run's config: a JSON preset file (`--config`) or a named preset, then CLI overrides."""
    from dom2_jax.config import from_dict, preset, with_algo_fields

    overrides = {"n_seeds": args.seeds, "seed": args.seed}
    if args.sweep is not None:
        field, *values = args.sweep
        try:
            overrides.update(sweep_field=field, sweep_values=tuple(float(v) for v in values))
        except ValueError as err:
            raise ConfigError(f"--sweep {' '.join(args.sweep)}: values must be numbers") from err
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
            raise ConfigError(f"--config {path}: no such file")
        try:
            config = from_dict(json.loads(path.read_text()), where=str(path))
        except (ValueError, TypeError) as err:
            raise ConfigError(f"--config {path}: {err}") from err
        for flag in ("env", "level", "algo", "preset"):
            if getattr(args, flag) is not None:
                raise ConfigError(f"--{flag} conflicts with --config (the file sets it)")
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
        config = with_algo_fields(config, **algo_overrides)  # a ValueError naming the field
    return config


def train(args: argparse.Namespace) -> int:
    # imported where they are used: an error in the user's input is reported without loading
    # the data generators (distrax) and the training loop
    from dom2_jax.io import generation
    from dom2_jax.io.runs import check_candidates

    # --distributed is acted on in __main__.py, before anything starts the backend.
    try:  # config validation (`require`, `from_dict`) and unknown names: the user's input
        config = run_config(args)
        check_candidates(config, make(config.env)[0], config.train.eval_candidates, "train")
    except UserError:
        raise
    except (ValueError, TypeError) as err:
        raise ConfigError(str(err)) from err
    env_name, level = config.env, config.level
    preset_name = Path(args.config).stem if args.config else (args.preset or "cpu")
    dataset = (
        Path(args.dataset)
        if args.dataset
        else generation.default_path(env_name, level, args.data_seed, suffix=f"-{args.data_preset}")
    )
    if args.dataset and not dataset.exists():  # only the default path is generated
        raise UserError(
            f"--dataset {dataset}: no such file; create it with `python -m dom2_jax data --env "
            f"{env_name} --level {level} --out {dataset}` (or omit --dataset to use the default "
            "data/ file, generated on first use)"
        )
    if not dataset.exists():
        from dom2_jax.io.medium_replay import replay_for

        print(f"[dom2-jax] {dataset} is missing: generating it ({args.data_preset} preset)")
        replay = replay_for(env_name, level, args.data_seed)  # medium-replay: MATD3 reruns
        generation.generate(
            env_name,
            level,
            seed=args.data_seed,
            preset=args.data_preset,
            out=dataset,
            replay=replay,
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
    from dom2_jax.io.training import run_training

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
