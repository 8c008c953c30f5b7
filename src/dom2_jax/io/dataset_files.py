"""Read and write dataset files (format `dom2-jax-dataset`, version `schema.FORMAT_VERSION`).

One `.npz` file (a zip of `.npy` arrays, readable by `numpy.load` with no pickle and without
this package): the schema's arrays, plus `episode_returns [n_episodes, n_agents]` for
convenience, plus `metadata`, a 0-d unicode array holding a JSON object. The metadata's
`checksum` is the SHA-256 of every array (name, dtype, shape and bytes, in name order); loading
recomputes and compares it. Writes are atomic (`io.files.atomic_write`: a temporary file in the
same folder, then `os.replace`), so a killed writer never leaves a half-written dataset under the
final name.
"""

from __future__ import annotations

import datetime as _dt
import json
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from dom2_jax import __version__
from dom2_jax.assets import array_checksum as checksum
from dom2_jax.data.dataset import Dataset, episode_returns
from dom2_jax.data.schema import (
    FORMAT_NAME,
    FORMAT_VERSION,
    DatasetError,
    validate,
    validate_specs,
)
from dom2_jax.io.files import atomic_write

METADATA_KEY = "metadata"
DERIVED_KEYS = ("episode_returns",)


def write_dataset(path: str | Path, dataset: Dataset, metadata: dict[str, Any]) -> Path:
    """Write `dataset` and `metadata` to `path` atomically; returns the path.

    The caller's metadata (env name and params, level, behaviour policy, seed, reference
    returns, ...) is completed with the format name and version, package version, sizes, creation
    time and checksum.
    """
    path = Path(path)
    arrays = dataset.arrays()
    validate(arrays, str(path))
    arrays["episode_returns"] = episode_returns(dataset).astype(np.float32)
    meta = dict(metadata)
    meta.update(
        format=FORMAT_NAME,
        format_version=FORMAT_VERSION,
        package_version=__version__,
        n_transitions=dataset.n_transitions,
        n_episodes=dataset.n_episodes,
        n_agents=dataset.n_agents,
        created=_dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        checksum=checksum(arrays),
    )
    metadata_array = {METADATA_KEY: np.array(json.dumps(meta))}
    return atomic_write(path, lambda f: np.savez_compressed(f, **arrays, **metadata_array))


def read_metadata(path: str | Path) -> dict[str, Any]:
    """Only the metadata of a dataset file (cheap: no array is decompressed)."""
    return _open(Path(path))[1]


def load_dataset(
    path: str | Path,
    n_agents: int | None = None,
    obs_dim: int | None = None,
    act_dim: int | None = None,
    env: Any = None,
) -> tuple[Dataset, dict[str, Any]]:
    """Load, verify (format, version, checksum, schema, env sizes) and return (dataset, metadata).

    Pass `env` (or the sizes) to refuse a dataset made for another agent count or obs/act size;
    with `env`, every action must also lie inside the env's jumanji `action_spec` bounds (padded
    dimensions 0), and observations inside any bounds its `observation_spec` declares.
    Every refusal is a `DatasetError` naming the file and field.
    """
    path = Path(path)
    if env is not None:
        n_agents, obs_dim, act_dim = env.n_agents, env.obs_dim, env.act_dim
    npz, meta = _open(path)
    with npz:
        try:
            arrays = {k: npz[k] for k in npz.files if k != METADATA_KEY}
        except (zipfile.BadZipFile, EOFError, ValueError, OSError) as err:
            raise DatasetError(str(path), None, f"file is truncated or corrupt ({err})") from err
    expected = meta.get("checksum")
    if checksum(arrays) != expected:
        raise DatasetError(
            str(path),
            "checksum",
            f"arrays do not match the stored checksum {expected!r}: the "
            "file was modified or damaged; regenerate it",
        )
    validate(arrays, str(path), n_agents=n_agents, obs_dim=obs_dim, act_dim=act_dim)
    dataset = Dataset.from_arrays({k: v for k, v in arrays.items() if k not in DERIVED_KEYS})
    if env is not None and meta.get("env") not in (None, env.name):
        raise DatasetError(str(path), "env", f"dataset is for {meta['env']!r}, not {env.name!r}")
    if env is not None:
        validate_specs(
            arrays, str(path), env.action_spec(), env.observation_spec(), act_mask=env.act_mask
        )
    return dataset, meta


def _open(path: Path):
    if not path.exists():
        raise DatasetError(str(path), None, "no such dataset file")
    try:
        npz = np.load(path, allow_pickle=False)
    except (zipfile.BadZipFile, EOFError, ValueError, OSError) as err:
        raise DatasetError(
            str(path), None, f"not a readable .npz dataset (truncated or corrupt?): {err}"
        ) from err
    if METADATA_KEY not in npz.files:
        npz.close()
        raise DatasetError(str(path), METADATA_KEY, "missing: not a dom2-jax dataset file")
    try:
        meta = json.loads(str(npz[METADATA_KEY]))
    except (ValueError, zipfile.BadZipFile, EOFError, OSError) as err:
        npz.close()
        raise DatasetError(str(path), METADATA_KEY, f"unreadable JSON ({err})") from err
    if meta.get("format") != FORMAT_NAME:
        npz.close()
        raise DatasetError(
            str(path), "format", f"must be {FORMAT_NAME!r}, got {meta.get('format')!r}"
        )
    version = meta.get("format_version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        npz.close()
        raise DatasetError(
            str(path),
            "format_version",
            f"{version!r} is newer than this package reads (<= {FORMAT_VERSION}); upgrade dom2-jax",
        )
    return npz, meta
