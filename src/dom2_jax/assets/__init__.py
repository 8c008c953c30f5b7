"""Package data: the shipped behaviour policies and the frozen prey, read-only, checksummed.

`dom2_jax/assets/policies/<env>/<role>.npz` holds a policy's weights and `<role>.json` its
record (returns, config, seed, the command that regenerates it, and the SHA-256 of the weights).
Loading verifies the checksum. Like a constants table, these files are part of the code: reading
them is not run-time I/O of the kind `dom2_jax.io` handles.
"""

from __future__ import annotations

import hashlib
import json
from importlib import resources
from typing import Any

import numpy as np

POLICY_FORMAT = "dom2_jax.behaviour_policy"


def array_checksum(arrays: dict[str, np.ndarray]) -> str:
    """SHA-256 over every array's name, dtype, shape and bytes, in name order."""
    digest = hashlib.sha256()
    for name in sorted(arrays):
        arr = np.ascontiguousarray(arrays[name])
        digest.update(f"{name}|{arr.dtype.str}|{arr.shape}|".encode())
        digest.update(arr.tobytes())
    return digest.hexdigest()


def has_policy(env_name: str, role: str) -> bool:
    return resources.files(__name__).joinpath("policies", env_name, f"{role}.npz").is_file()


def load_policy_asset(env_name: str, role: str) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """`(weights, record)` of the shipped `role` policy of `env_name` (expert, medium, prey)."""
    base = resources.files(__name__).joinpath("policies", env_name)
    npz, sidecar = base.joinpath(f"{role}.npz"), base.joinpath(f"{role}.json")
    if not npz.is_file():
        raise FileNotFoundError(
            f"no shipped {role!r} policy for {env_name!r} (looked for {npz}); regenerate it with "
            f"python -m dom2_jax.io.policies --env {env_name}"
        )
    with npz.open("rb") as f, np.load(f) as data:
        weights = {k: data[k] for k in data.files}
    record = json.loads(sidecar.read_text())
    if record.get("format") != POLICY_FORMAT or array_checksum(weights) != record["checksum"]:
        raise ValueError(f"{npz}: weights do not match the checksum recorded in {sidecar}")
    return weights, record
