"""The bodies of `python -m dom2_jax eval | rollout | envs | behaviour` (the options are in
`cli.py`; `train`'s body is `io.train_command`, `data`'s is `io.data_command`). `behaviour`
composes `io.behaviour` and `io.prey_training` (training) with `io.policies` (files), which import
neither each other. Errors a user can fix are `dom2_jax.errors` classes (one line at the CLI)."""

from __future__ import annotations

import argparse
import dataclasses
import json
import time
from pathlib import Path

import jax
import numpy as np

from dom2_jax.data import reference_returns
from dom2_jax.envs import env_class, make, registered_names
from dom2_jax.envs.rollout import batch_returns, random_policy
from dom2_jax.errors import ConfigError, UserError


def evaluate(args: argparse.Namespace) -> int:
    from dom2_jax.io.metrics import write_json
    from dom2_jax.io.runs import check_candidates, evaluate_run, format_table, load_run, read_config

    shifts = None if not args.shifts else "all" if args.shifts == ["all"] else args.shifts
    try:
        config = read_config(args.run_dir)  # fail on candidates before restoring anything
        check_candidates(config, make(config.env)[0], args.candidates, where=args.run_dir)
        run = load_run(args.run_dir, args.step)
        result = evaluate_run(run, args.episodes, args.candidates, shifts, key_seed=args.seed)
    except (FileNotFoundError, ValueError) as err:  # a run directory, step or flag value
        raise UserError(str(err)) from err
    out = Path(args.out) if args.out else Path(args.run_dir) / "eval.json"
    write_json(out, result)
    print(format_table(result))
    print(f"wrote {out}")
    return 0


def rollout(args: argparse.Namespace) -> int:
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


def envs(args: argparse.Namespace) -> int:
    for name in registered_names():
        env, _ = make(name)
        print(f"{name:18s} agents={env.n_agents} obs={env.obs_sizes} actions={env.act_sizes}")
    return 0


def matd3_config(values: list[str], base):
    """`base` (the env's MATD3 preset) with the `--set FIELD=VALUE` overrides."""
    from dom2_jax.algos.online import MATD3Config

    fields = {f.name: f for f in dataclasses.fields(MATD3Config)}
    kwargs = {}
    for item in values:
        name, _, raw = item.partition("=")
        if name not in fields:
            raise ConfigError(f"--set: unknown MATD3Config field {name!r}; valid: {sorted(fields)}")
        kwargs[name] = json.loads(raw) if raw not in ("True", "False") else raw == "True"
        if isinstance(kwargs[name], list):
            kwargs[name] = tuple(kwargs[name])
    return dataclasses.replace(base, **kwargs)


def behaviour(args: argparse.Namespace) -> int:
    """Train the behaviour policies of `args.env` (tag/world: the co-trained prey first when
    asked) and save expert, medium (and the medium-replay arrays) under `args.out`."""
    from dom2_jax.algos.online.config import behaviour_preset
    from dom2_jax.io.behaviour import run_behaviour_training
    from dom2_jax.io.files import atomic_write
    from dom2_jax.io.policies import load_policy, policy_path, save_policy
    from dom2_jax.io.prey_training import run_prey_training

    try:  # a value that is not JSON, or that MATD3Config's validation refuses
        config = matd3_config(args.set, behaviour_preset(args.env).config)
    except UserError:
        raise
    except (ValueError, TypeError) as err:
        raise ConfigError(f"--set {' '.join(args.set)}: {err}") from err
    command = args.command_line
    prey = None
    has_prey = env_class(args.env).n_opponents > 0
    if has_prey and (args.opponent == "co-trained" or args.prey_only):
        prey_file = policy_path(args.env, "prey", args.out)
        if args.retrain_prey or args.prey_only or not prey_file.exists():
            prey, meta = run_prey_training(
                args.env, args.seed, args.prey_env_steps, config,
                progress=not args.no_progress, command=command,
            )  # fmt: skip
            save_policy(prey_file, prey, meta)
            print(f"prey -> {prey_file}: {json.dumps(meta['co_trained_predators_vs_prey'])}")
        else:
            prey, _ = load_policy(prey_file)
        if args.prey_only:
            return 0
    result = run_behaviour_training(
        args.env, args.seed, args.target_return, args.max_env_steps, config, prey,
        keep_replay=args.keep_replay, eval_episodes=args.eval_episodes,
        medium_rule=args.medium_rule,
        final_eval_episodes=args.final_eval_episodes, progress=not args.no_progress,
        command=command,
    )  # fmt: skip
    for level, item in (("expert", result.expert), ("medium", result.medium)):
        if item is None:
            print(f"{level}: not reached")
            continue
        path = save_policy(policy_path(args.env, level, args.out), *item)
        meta = item[1]
        print(
            f"{level} -> {path}: mean return {meta['mean_return']:.1f} +- "
            f"{meta['std_return']:.1f} ({meta['n_episodes']} episodes, {meta['aggregation']}), "
            f"snapshot at {meta['snapshot_env_steps']} env steps"
        )
    if args.replay_out and result.medium_replay is not None:
        replay = result.medium_replay
        atomic_write(Path(args.replay_out), lambda f: np.savez(f, **replay))
        print(f"medium-replay -> {args.replay_out}")
    return 0
