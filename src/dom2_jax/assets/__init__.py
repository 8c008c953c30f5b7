"""Package data: the shipped behaviour policies and the frozen prey, read-only, checksummed.

`dom2_jax/assets/policies/<env>/<role>.npz` holds a policy's weights and `<role>.json` its
record (returns, config, seed, the command that regenerates it, and the SHA-256 of the weights).
`load_policy` is the one reader of policy files (shipped or not) and verifies the checksum; like
a constants table, the shipped files are part of the code: reading them is not run-time I/O of
the kind `dom2_jax.io` handles. `array_checksum` is the one checksum of arrays (policy weights,
dataset files, the digest of large env params in a dataset's metadata).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np

POLICY_FORMAT = "dom2_jax.behaviour_policy"
POLICY_ROOT = Path(__file__).resolve().parent / "policies"


class MissingPolicyError(FileNotFoundError):
    """A behaviour policy a dataset level needs is not shipped (or not at the given path); the
    message says how to train it (`python -m dom2_jax behaviour ...`)."""


def array_checksum(arrays: dict[str, np.ndarray] | np.ndarray, digits: int = 64) -> str:
    """SHA-256, as its first `digits` hex digits. Of a dict (policy weights, dataset files'
    `checksum`): over every array's name, dtype, shape and bytes, in name order. Of one array
    (a large env-params leaf, `io.generation.params_summary`): over its bytes only."""
    digest = hashlib.sha256()
    if not isinstance(arrays, dict):
        digest.update(np.ascontiguousarray(arrays).tobytes())
        return digest.hexdigest()[:digits]
    for name in sorted(arrays):
        arr = np.ascontiguousarray(arrays[name])
        digest.update(f"{name}|{arr.dtype.str}|{arr.shape}|".encode())
        digest.update(arr.tobytes())
    return digest.hexdigest()[:digits]


def has_policy(env_name: str, role: str) -> bool:
    return (POLICY_ROOT / env_name / f"{role}.npz").is_file()


def load_policy(path: str | Path) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """`(weights, record)` of the policy file `path` (`.npz` weights beside a `.json` record);
    refuses a file that is not a behaviour policy or whose weights differ from the checksum."""
    npz = Path(path).with_suffix(".npz")
    sidecar = npz.with_suffix(".json")
    with np.load(npz) as data:
        weights = {k: data[k] for k in data.files}
    record = json.loads(sidecar.read_text())
    if record.get("format") != POLICY_FORMAT:
        raise ValueError(f"{sidecar}: not a behaviour policy (format {record.get('format')!r})")
    if array_checksum(weights) != record.get("checksum"):
        raise ValueError(f"{npz}: weights do not match the checksum recorded in {sidecar}")
    return weights, record


def load_policy_asset(env_name: str, role: str) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """`(weights, record)` of the shipped `role` policy of `env_name` (expert, medium, prey)."""
    npz = POLICY_ROOT / env_name / f"{role}.npz"
    if not npz.is_file():
        raise FileNotFoundError(
            f"no shipped {role!r} policy for {env_name!r} (looked for {npz}); regenerate it with "
            f"python -m dom2_jax behaviour --env {env_name}"
        )
    return load_policy(npz)
