"""Behaviour policies at the edge: save and load them (`.npz` weights + `.json` sidecar, each
written atomically), hand them to dataset generation as `act(key, obs)`, and the command line
that trains them (the training host loop is `io.behaviour`).

Shipped assets live in `dom2_jax/assets/policies/<env>/<role>.{npz,json}` with role `expert` and
`medium`. In the predator-prey envs the predators train against the env's default prey (the
scripted prey calibrated to OMAR's references, `envs.mpe.opponents`); `--opponent co-trained`
trains them against `prey`, the frozen MATD3 prey co-trained with predators (the earlier
default, whose policies are kept as `<role>-co-trained`). Regenerate them with

    python -m dom2_jax.io.policies --env mpe_spread --seed 0 --out src/dom2_jax/assets/policies

(the exact command of each asset is in its JSON sidecar; hyper-parameters, run length and
evaluation sizes default to the env family's preset, `algos.online.config.behaviour_preset`).
The OMAR protocol (notes.md 4.3): expert = fully trained MATD3 (the best evaluated snapshot; with
`--target-return`, the first to reach it: tag and world use OMAR's expert returns); medium = the
first evaluated snapshot whose return reaches the middle of [random, expert] (`medium_fraction`,
OMAR's normalised score 50; `--medium-rule closest`: the snapshot nearest it up to that one);
medium-replay = every transition collected until that snapshot.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as _dt
import json
import os
import shlex
import sys
import tempfile
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from dom2_jax import __version__
from dom2_jax.algos.online import MATD3Config, behaviour_policy
from dom2_jax.algos.online.config import behaviour_preset
from dom2_jax.assets import POLICY_FORMAT as FORMAT
from dom2_jax.assets import array_checksum as checksum
from dom2_jax.envs import make
from dom2_jax.envs.mpe.opponents import mlp_opponent

POLICY_ROOT = Path(__file__).resolve().parents[1] / "assets" / "policies"
PREY_ENVS = ("mpe_tag", "mpe_world")
FORMAT_VERSION = 1


# ----- files ------------------------------------------------------------------------------------
def _atomic_write(path: Path, write) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def save_policy(path: str | Path, actor: dict[str, Any], meta: dict[str, Any]) -> Path:
    """Write `<path>.npz` (actor weights, leaves `[n_agents, ...]`) and `<path>.json` (meta +
    format, version, checksum of the weights); returns the `.npz` path."""
    path = Path(path).with_suffix(".npz")
    arrays = {k: np.asarray(v, np.float32) for k, v in actor.items()}
    meta = dict(
        meta,
        format=FORMAT,
        format_version=FORMAT_VERSION,
        package_version=__version__,
        created=_dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        checksum=checksum(arrays),
        architecture="tanh(MLP(obs)), ReLU hidden; weights w<i> [in, out], b<i> [out] per agent",
    )
    _atomic_write(path, lambda f: np.savez(f, **arrays))
    text = json.dumps(meta, indent=2, sort_keys=True, default=_json_default) + "\n"
    _atomic_write(path.with_suffix(".json"), lambda f: f.write(text.encode()))
    return path


def load_policy(path: str | Path) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """`(weights, meta)` of a saved policy; refuses weights whose checksum differs from the JSON."""
    path = Path(path).with_suffix(".npz")
    with np.load(path) as f:
        arrays = {k: f[k] for k in f.files}
    meta = json.loads(path.with_suffix(".json").read_text())
    if meta.get("format") != FORMAT:
        raise ValueError(f"{path}: not a behaviour policy (format {meta.get('format')!r})")
    if checksum(arrays) != meta["checksum"]:
        raise ValueError(
            f"{path}: weights do not match the checksum in {path.with_suffix('.json')}"
        )
    return arrays, meta


def policy_path(env_name: str, role: str, root: str | Path = POLICY_ROOT) -> Path:
    return Path(root) / env_name / f"{role}.npz"


def _json_default(x):
    if isinstance(x, np.ndarray | jax.Array):
        return np.asarray(x).tolist()
    if isinstance(x, np.generic):
        return x.item()
    raise TypeError(f"not JSON serialisable: {type(x)}")


# ----- envs with the shipped prey ---------------------------------------------------------------
def behaviour_env(env_name: str, prey: dict | None = None):
    """`(env, params)` the behaviour policies act in: tag/world against the frozen `prey`
    network's weights when given, else every env as `make` builds it (tag/world: the calibrated
    prey)."""
    if env_name not in PREY_ENVS or prey is None:
        return make(env_name)
    return make(env_name, opponent=mlp_opponent(prey))


def behaviour_act(
    env_name: str, level: str, noise_std: float | None = None, root: str | Path = POLICY_ROOT
):
    """`(act(key, obs [n_agents, obs_dim]) -> actions, meta)` of a shipped policy (`level`
    expert or medium); `noise_std` defaults to the policy's recorded `behaviour_noise_std`."""
    weights, meta = load_policy(policy_path(env_name, level, root))
    env, _ = behaviour_env(env_name)
    std = meta["behaviour_noise_std"] if noise_std is None else noise_std
    actor = jax.tree.map(jnp.asarray, weights)
    return behaviour_policy(actor, env.act_mask, std), dict(meta, noise_std=std)


# ----- entry point ------------------------------------------------------------------------------
def _config_from_args(values: list[str], base: MATD3Config) -> MATD3Config:
    """`base` (the env's preset) with the `--set FIELD=VALUE` overrides."""
    fields = {f.name: f for f in dataclasses.fields(MATD3Config)}
    kwargs = {}
    for item in values:
        name, _, raw = item.partition("=")
        if name not in fields:
            raise SystemExit(f"--set: unknown MATD3Config field {name!r}; valid: {sorted(fields)}")
        kwargs[name] = json.loads(raw) if raw not in ("True", "False") else raw == "True"
        if isinstance(kwargs[name], list):
            kwargs[name] = tuple(kwargs[name])
    return dataclasses.replace(base, **kwargs)


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    p = argparse.ArgumentParser(
        prog="python -m dom2_jax.io.policies", description=__doc__.split("\n")[0]
    )
    p.add_argument("--env", required=True)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default=str(POLICY_ROOT), help="root folder: <out>/<env>/<role>.npz")
    p.add_argument("--max-env-steps", type=int, default=None, help="default: the env's preset")
    p.add_argument("--target-return", type=float, default=None)
    p.add_argument(
        "--medium-rule",
        default="first",
        choices=("first", "closest"),
        help="medium snapshot: the first to reach the middle of [random, expert], or the "
        "closest to it up to that one",
    )
    p.add_argument(
        "--opponent",
        default="calibrated",
        choices=("calibrated", "co-trained"),
        help="tag/world: the env's calibrated scripted prey (default) or the co-trained MATD3 prey",
    )
    p.add_argument("--prey-env-steps", type=int, default=1_000_000)
    p.add_argument("--prey-only", action="store_true", help="tag/world: only (re)train the prey")
    p.add_argument("--retrain-prey", action="store_true", help="tag/world: ignore a saved prey")
    p.add_argument("--replay-out", default=None, help="also write the medium-replay arrays (.npz)")
    p.add_argument(
        "--keep-replay", type=int, default=1_000_000, help="transitions kept for medium-replay"
    )
    p.add_argument("--set", nargs="*", default=[], metavar="FIELD=VALUE", help="MATD3Config fields")
    p.add_argument("--eval-episodes", type=int, default=None, help="per snapshot; default: preset")
    p.add_argument(
        "--final-eval-episodes", type=int, default=None, help="recorded returns; default: preset"
    )
    p.add_argument("--no-progress", action="store_true")
    args = p.parse_args(argv)
    from dom2_jax.io.behaviour import run_behaviour_training, run_prey_training  # imports us

    config = _config_from_args(args.set, behaviour_preset(args.env).config)
    command = "python -m dom2_jax.io.policies " + " ".join(shlex.quote(a) for a in argv)
    prey = None
    if args.env in PREY_ENVS and (args.opponent == "co-trained" or args.prey_only):
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
            return
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
        _atomic_write(Path(args.replay_out), lambda f: np.savez(f, **result.medium_replay))
        print(f"medium-replay -> {args.replay_out}")


if __name__ == "__main__":
    main()
