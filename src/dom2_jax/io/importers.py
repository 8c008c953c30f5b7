"""Loaders for datasets other projects publish, and export to og-marl.

- OMAR (Pan et al. 2022; the data the DOM2 paper uses):
  `<env_id>/<data_type>/seed_<k>_data/{obs,acs,rews,next_obs,dones}_<i>.npy` per learning agent i
  (HalfCheetah adds `states_<i>`, `next_states_<i>`). There are no episode ids and MPE `dones`
  are all 0, so episodes are consecutive fixed-length blocks (25 steps for MPE, 1000 for
  HalfCheetah); continuity `obs[t+1] == next_obs[t]` inside every block is checked and a file
  where it fails is refused.
- og-marl (Formanek et al.) flashbax Vaults: `observations (1, T, N, O)`, `actions`, `rewards`,
  `terminals`, `truncations` `(1, T, N)`, `infos/state (1, T, S)`. A vault stores no final
  observation of an episode, so on import `next_obs` at an episode's last step repeats its `obs`
  (recorded in the metadata); the TD target only bootstraps there at a truncation.
  Needs the `flashbax` package, the `ogmarl` extra (`pip install 'dom2-jax[ogmarl]'`).
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import numpy as np

from dom2_jax.data.dataset import Dataset
from dom2_jax.data.schema import DatasetError, validate
from dom2_jax.envs import env_class
from dom2_jax.errors import MissingExtraError

OMAR_ENV_NAMES = {
    "simple_spread": "mpe_spread",
    "simple_tag": "mpe_tag",
    "simple_world": "mpe_world",
    "HalfCheetah-v2": "halfcheetah_2x3",
}
OMAR_LEVELS = {
    "random": "random",
    "medium-replay": "medium-replay",
    "medium": "medium",
    "expert": "expert",
}


def import_omar(
    folder: str | Path, env_name: str | None = None, episode_length: int | None = None
) -> tuple[Dataset, dict[str, Any]]:
    """Read one OMAR `seed_<k>_data` folder into a `Dataset` and metadata.

    `env_name` and `episode_length` default to what the folder path says
    (`.../<env_id>/<data_type>/seed_<k>_data`).
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise DatasetError(str(folder), None, "no such OMAR dataset folder")
    env_id, level = folder.parent.parent.name, folder.parent.name
    env_name = env_name or OMAR_ENV_NAMES.get(env_id)
    if env_name is None:
        raise DatasetError(
            str(folder),
            None,
            f"cannot tell the env from the path (env id {env_id!r}); pass "
            f"env_name (known OMAR env ids: {sorted(OMAR_ENV_NAMES)})",
        )
    episode_length = episode_length or env_class(env_name).episode_length  # the env's fact
    agents = sorted(
        int(m.group(1))
        for p in folder.glob("obs_*.npy")
        if (m := re.fullmatch(r"obs_(\d+)\.npy", p.name))
    )
    if not agents or agents != list(range(len(agents))):
        raise DatasetError(str(folder), "obs", f"expected obs_0.npy .. obs_<n-1>.npy, got {agents}")

    def stack(name: str, optional: bool = False) -> np.ndarray | None:
        parts = []
        for i in agents:
            path = folder / f"{name}_{i}.npy"
            if not path.exists():
                if optional:
                    return None
                raise DatasetError(str(path), name, "missing file")
            try:
                arr = np.load(path, allow_pickle=False)
            except (ValueError, OSError, EOFError) as err:
                raise DatasetError(str(path), name, f"unreadable or truncated ({err})") from err
            parts.append(arr.reshape(arr.shape[0], -1) if arr.ndim == 1 else arr)
        lengths = {p.shape[0] for p in parts}
        if len(lengths) != 1:
            raise DatasetError(str(folder), name, f"agents' files differ in length: {lengths}")
        return np.stack(parts, axis=1)  # [T, n_agents, ...]

    obs, acts, rews = stack("obs"), stack("acs"), stack("rews")[..., 0]
    next_obs, dones = stack("next_obs"), stack("dones")[..., 0].astype(bool)
    states, next_states = stack("states", optional=True), stack("next_states", optional=True)
    n_steps = obs.shape[0]
    if n_steps == 0 or n_steps % episode_length:
        raise DatasetError(
            str(folder / "obs_0.npy"),
            "obs",
            f"{n_steps} steps is not a positive multiple of "
            f"the episode length {episode_length}: the fixed-length episode layout does not hold",
        )
    within = np.arange(n_steps - 1) % episode_length != episode_length - 1
    gap = np.abs(obs[1:] - next_obs[:-1]).max(axis=(1, 2))
    broken = np.flatnonzero(within & (gap > 1e-5))
    if broken.size:
        raise DatasetError(
            str(folder / "next_obs_0.npy"),
            "next_obs",
            f"obs[t+1] != next_obs[t] inside an "
            f"episode block at t={int(broken[0])} (max gap {gap[broken[0]]:.3g}): the files are "
            f"not consecutive {episode_length}-step episodes",
        )
    episode_ids = (np.arange(n_steps) // episode_length).astype(np.int32)
    last = (np.arange(n_steps) % episode_length == episode_length - 1)[:, None]
    arrays = {
        "obs": obs.astype(np.float32),
        "actions": acts.astype(np.float32),
        "rewards": rews.astype(np.float32),
        "next_obs": next_obs.astype(np.float32),
        "terminals": dones,
        "truncations": np.broadcast_to(last, dones.shape) & ~dones,
        "episode_ids": episode_ids,
    }
    if states is not None:
        arrays["states"] = states[:, 0].astype(np.float32)  # identical copies per agent
        arrays["next_states"] = next_states[:, 0].astype(np.float32)
    validate(arrays, str(folder))
    seed = re.fullmatch(r"seed_(\d+)_data", folder.name)
    meta = {
        "env": env_name,
        "level": OMAR_LEVELS.get(level, level),
        "seed": int(seed.group(1)) if seed else None,
        "source": {"format": "omar", "path": str(folder), "episode_length": episode_length},
        "behaviour_policy": "OMAR release (MATD3 with exploration noise)",
    }
    return Dataset.from_arrays(arrays), meta


def import_ogmarl_vault(
    vault_dir: str | Path, vault_name: str, vault_uid: str
) -> tuple[Dataset, dict[str, Any]]:
    """Read an og-marl flashbax Vault at `<vault_dir>/<vault_name>/<vault_uid>`."""
    Vault = _flashbax_vault()
    path = Path(vault_dir) / vault_name / vault_uid
    if not path.is_dir():
        raise DatasetError(str(path), None, "no such vault")
    exp = (
        Vault(vault_name=vault_name, rel_dir=os.path.abspath(vault_dir), vault_uid=vault_uid)
        .read()
        .experience
    )
    for field in ("observations", "actions", "rewards", "terminals", "truncations"):
        if field not in exp:
            raise DatasetError(str(path), field, "missing from the vault's experience")
    obs = np.asarray(exp["observations"])[0]
    terminals = np.asarray(exp["terminals"])[0] > 0.5
    truncations = np.asarray(exp["truncations"])[0] > 0.5
    ends = np.all(terminals | truncations, axis=1)
    if not ends.any():
        raise DatasetError(str(path), "terminals", "no episode ends in the vault")
    n = int(np.flatnonzero(ends)[-1]) + 1  # drop an unfinished tail episode
    ends = ends[:n]
    next_obs = np.concatenate([obs[1:n], obs[n - 1 : n]])
    next_obs[ends] = obs[:n][ends]  # no final observation is stored
    arrays = {
        "obs": obs[:n].astype(np.float32),
        "actions": np.asarray(exp["actions"])[0, :n].astype(np.float32),
        "rewards": np.asarray(exp["rewards"])[0, :n].astype(np.float32),
        "next_obs": next_obs.astype(np.float32),
        "terminals": terminals[:n],
        "truncations": truncations[:n] & ~terminals[:n],
        "episode_ids": (np.cumsum(ends) - ends).astype(np.int32),
    }
    state = exp.get("infos", {}).get("state") if isinstance(exp.get("infos"), dict) else None
    if state is not None:
        state = np.asarray(state)[0, :n].astype(np.float32)
        next_state = np.concatenate([state[1:], state[-1:]])
        next_state[ends] = state[ends]
        arrays["states"], arrays["next_states"] = state, next_state
    validate(arrays, str(path))
    meta = {
        "env": vault_name,
        "source": {
            "format": "og-marl vault",
            "path": str(path),
            "dropped_tail_steps": int(obs.shape[0] - n),
        },
        "next_obs_at_episode_end": "copied from obs (vaults store no final observation)",
    }
    return Dataset.from_arrays(arrays), meta


def export_ogmarl_vault(
    dataset: Dataset,
    vault_dir: str | Path,
    vault_name: str,
    vault_uid: str,
    metadata: dict[str, Any] | None = None,
) -> Path:
    """Write `dataset` as an og-marl flashbax Vault at `<vault_dir>/<vault_name>/<vault_uid>`."""
    Vault = _flashbax_vault()  # first: without flashbax, the error names the extra
    import jax.numpy as jnp
    from flashbax.buffers.trajectory_buffer import TrajectoryBufferState

    path = Path(vault_dir) / vault_name / vault_uid
    if path.exists():
        raise FileExistsError(f"{path}: a vault is already there; choose another uid")
    a = dataset.arrays()
    experience = {
        "observations": a["obs"][None],
        "actions": a["actions"][None],
        "rewards": a["rewards"][None],
        "terminals": a["terminals"].astype(np.float32)[None],
        "truncations": a["truncations"].astype(np.float32)[None],
        "infos": {
            "state": (a["states"] if "states" in a else a["obs"].reshape(len(a["obs"]), -1))[None]
        },
    }
    experience = {
        k: (
            {kk: jnp.asarray(vv) for kk, vv in v.items()} if isinstance(v, dict) else jnp.asarray(v)
        )
        for k, v in experience.items()
    }
    n = dataset.n_transitions
    state = TrajectoryBufferState(
        experience=experience, current_index=jnp.int32(n), is_full=jnp.bool_(False)
    )
    vault = Vault(
        vault_name=vault_name,
        experience_structure=experience,
        rel_dir=os.path.abspath(vault_dir),
        vault_uid=vault_uid,
        metadata=metadata or {},
    )
    written = vault.write(state)
    if written != n:
        raise OSError(f"{path}: wrote {written} of {n} steps")
    return path


def _flashbax_vault():
    try:
        from flashbax.vault import Vault
    except ImportError as err:
        raise MissingExtraError(
            "og-marl vaults need the flashbax package, the `ogmarl` extra: "
            "pip install 'dom2-jax[ogmarl]' (in a checkout: pip install -e '.[ogmarl]')"
        ) from err
    return Vault
