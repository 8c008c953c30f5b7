"""Behaviour-policy files at the edge: save them (`.npz` weights + `.json` sidecar, each written
atomically), find them, and hand them to dataset generation as `act(key, obs)`. Training them is
`io.behaviour`; `python -m dom2_jax behaviour` is the command line that composes the two.

Shipped assets live in `dom2_jax/assets/policies/<env>/<role>.{npz,json}` with role `expert` and
`medium`. In the predator-prey envs the predators train against the env's default prey (the
scripted prey calibrated to OMAR's references, `envs.mpe.opponents`); `--opponent co-trained`
trains them against `prey`, the frozen MATD3 prey co-trained with predators (the earlier
default, whose policies are kept as `<role>-co-trained`). Regenerate them with

    python -m dom2_jax behaviour --env mpe_spread --seed 0 --out src/dom2_jax/assets/policies

(the exact command of each asset is in its JSON sidecar: assets made before the `behaviour`
subcommand record the same options as `python -m dom2_jax.io.policies ...`; hyper-parameters,
run length and evaluation sizes default to the env family's preset,
`algos.online.config.behaviour_preset`).
The OMAR protocol (notes.md 4.3): expert = fully trained MATD3 (the best evaluated snapshot; with
`--target-return`, the first to reach it: tag and world use OMAR's expert returns); medium = the
first evaluated snapshot whose return reaches the middle of [random, expert] (`medium_fraction`,
OMAR's normalised score 50; `--medium-rule closest`: the snapshot nearest it up to that one);
medium-replay = every transition collected until that snapshot.
"""

from __future__ import annotations

import datetime as _dt
import json
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from dom2_jax import __version__
from dom2_jax.algos.online import behaviour_policy
from dom2_jax.assets import POLICY_FORMAT as FORMAT
from dom2_jax.assets import POLICY_ROOT, load_policy
from dom2_jax.assets import array_checksum as checksum
from dom2_jax.envs import make
from dom2_jax.io.files import atomic_write

__all__ = ["FORMAT", "POLICY_ROOT", "behaviour_act", "load_policy", "policy_path", "save_policy"]
FORMAT_VERSION = 1


def save_policy(path: str | Path, actor: dict[str, Any], meta: dict[str, Any]) -> Path:
    """Write `<path>.npz` (actor weights, leaves `[n_agents, ...]`) and `<path>.json` (meta +
    format, version, checksum of the weights); returns the `.npz` path. `load_policy` (the one
    reader, `dom2_jax.assets`) reads them back."""
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
    atomic_write(path, lambda f: np.savez(f, **arrays))
    text = json.dumps(meta, indent=2, sort_keys=True, default=_json_default) + "\n"
    atomic_write(path.with_suffix(".json"), lambda f: f.write(text.encode()))
    return path


def policy_path(env_name: str, role: str, root: str | Path = POLICY_ROOT) -> Path:
    return Path(root) / env_name / f"{role}.npz"


def _json_default(x):
    if isinstance(x, np.ndarray | jax.Array):
        return np.asarray(x).tolist()
    if isinstance(x, np.generic):
        return x.item()
    raise TypeError(f"not JSON serialisable: {type(x)}")


def behaviour_act(
    env_name: str, level: str, noise_std: float | None = None, root: str | Path = POLICY_ROOT
):
    """`(act(key, obs [n_agents, obs_dim]) -> actions, meta)` of a saved policy (`level`
    expert or medium); `noise_std` defaults to the policy's recorded `behaviour_noise_std`."""
    weights, meta = load_policy(policy_path(env_name, level, root))
    env, _ = make(env_name)  # only its action mask: the same with any opponent
    std = meta["behaviour_noise_std"] if noise_std is None else noise_std
    actor = jax.tree.map(jnp.asarray, weights)
    return behaviour_policy(actor, env.act_mask, std), dict(meta, noise_std=std)
