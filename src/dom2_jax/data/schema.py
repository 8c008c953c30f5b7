"""The offline dataset schema: field names, dtypes, ranks, the format version, and validation.

A dataset holds T transitions in episode order (every episode whole and contiguous) for n agents:

| field | dtype | shape | meaning |
|---|---|---|---|
| obs | float32 | [T, n_agents, obs_dim] | observation before the step (zero-padded per agent) |
| actions | float32 | [T, n_agents, act_dim] | action taken, in [-1, 1] (zero-padded) |
| rewards | float32 | [T, n_agents] | reward of the step |
| next_obs | float32 | [T, n_agents, obs_dim] | observation after the step |
| terminals | bool | [T, n_agents] | the step reached a terminal state (no bootstrap) |
| truncations | bool | [T, n_agents] | the step ended the episode by the time limit (bootstrap) |
| episode_ids | int32 | [T] | episode index of the step: 0, 0, ..., 1, 1, ... |
| states | float32 | [T, state_dim] | optional: global state (MaMuJoCo) |
| next_states | float32 | [T, state_dim] | optional: global state after the step |

Errors name the source (file), the field and what was expected. `validate_specs` checks the
arrays against an env's jumanji specs (the action bounds, and observation bounds where the spec
declares them; padded action dimensions must be zero), naming the first offending index.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

FORMAT_NAME = "dom2-jax-dataset"
FORMAT_VERSION = 1

# field -> (dtype, rank); the shared axes are checked separately
FIELDS: dict[str, tuple[str, int]] = {
    "obs": ("float32", 3),
    "actions": ("float32", 3),
    "rewards": ("float32", 2),
    "next_obs": ("float32", 3),
    "terminals": ("bool", 2),
    "truncations": ("bool", 2),
    "episode_ids": ("int32", 1),
}
OPTIONAL_FIELDS: dict[str, tuple[str, int]] = {
    "states": ("float32", 2),
    "next_states": ("float32", 2),
}
FLOAT_FIELDS = ("obs", "actions", "rewards", "next_obs", "states", "next_states")


class DatasetError(ValueError):
    """A dataset that cannot be used, with the file and field that are wrong."""

    def __init__(self, source: str, field: str | None, problem: str):
        where = f"{source}" + (f", field {field!r}" if field else "")
        super().__init__(f"{where}: {problem}")
        self.source, self.field, self.problem = source, field, problem


def validate(
    arrays: Mapping[str, np.ndarray],
    source: str,
    n_agents: int | None = None,
    obs_dim: int | None = None,
    act_dim: int | None = None,
) -> None:
    """Raise `DatasetError` unless `arrays` follow the schema (and the env's sizes, if given)."""
    for field, (dtype, rank) in {**FIELDS, **OPTIONAL_FIELDS}.items():
        if field not in arrays:
            if field in FIELDS:
                raise DatasetError(source, field, f"missing (required fields: {list(FIELDS)})")
            continue
        arr = arrays[field]
        if arr.dtype != np.dtype(dtype):
            raise DatasetError(source, field, f"dtype must be {dtype}, got {arr.dtype}")
        if arr.ndim != rank:
            raise DatasetError(source, field, f"rank must be {rank}, got shape {arr.shape}")
    n_steps = arrays["obs"].shape[0]
    if n_steps == 0:
        raise DatasetError(source, "obs", "dataset is empty (0 transitions)")
    for field in [f for f in {**FIELDS, **OPTIONAL_FIELDS} if f in arrays]:
        if arrays[field].shape[0] != n_steps:
            raise DatasetError(
                source, field, f"must have {n_steps} steps like 'obs', got {arrays[field].shape[0]}"
            )
    agents = arrays["obs"].shape[1]
    for field in ("actions", "rewards", "next_obs", "terminals", "truncations"):
        if arrays[field].shape[1] != agents:
            raise DatasetError(
                source, field, f"must have {agents} agents like 'obs', got {arrays[field].shape[1]}"
            )
    if arrays["next_obs"].shape[2] != arrays["obs"].shape[2]:
        raise DatasetError(
            source,
            "next_obs",
            f"obs_dim must be {arrays['obs'].shape[2]} like 'obs', "
            f"got {arrays['next_obs'].shape[2]}",
        )
    expected = {
        "n_agents": (n_agents, "obs", 1),
        "obs_dim": (obs_dim, "obs", 2),
        "act_dim": (act_dim, "actions", 2),
    }
    for what, (want, field, axis) in expected.items():
        if want is not None and arrays[field].shape[axis] != want:
            raise DatasetError(
                source,
                field,
                f"{what} must be {want} for this env, got {arrays[field].shape[axis]}",
            )
    for field in FLOAT_FIELDS:
        if field in arrays and not np.all(np.isfinite(arrays[field])):
            bad = int(np.argmax(~np.isfinite(arrays[field]).reshape(n_steps, -1).all(axis=1)))
            raise DatasetError(source, field, f"contains NaN or inf (first at step {bad})")
    ids = arrays["episode_ids"]
    steps = np.diff(ids)
    if ids[0] != 0 or np.any((steps != 0) & (steps != 1)):
        raise DatasetError(
            source,
            "episode_ids",
            "must start at 0 and grow by 0 or 1 per step (episodes whole and contiguous)",
        )


def validate_specs(
    arrays: Mapping[str, np.ndarray],
    source: str,
    action_spec: Any,
    observation_spec: Any = None,
    act_mask: np.ndarray | None = None,
) -> None:
    """Raise `DatasetError` unless every step fits the env's jumanji specs.

    Each step of `actions` (and of `obs`/`next_obs` when `observation_spec` is given) must pass
    the spec's `validate` (shape `[n_agents, dim]`, dtype); a `BoundedArray` spec's `minimum`
    and `maximum` (inclusive) bound every value, and where `act_mask` (`[n_agents, act_dim]`
    bool) is False the padded action dimension must be exactly 0. The error names the field,
    the first offending index `(step, agent, dim)`, its value and the allowed bounds.
    """
    checks = [("actions", action_spec, act_mask)]
    if observation_spec is not None:
        checks += [(f, observation_spec, None) for f in ("obs", "next_obs")]
    for field, spec, mask in checks:
        values = np.asarray(arrays[field])
        try:
            spec.validate(values[0])
        except ValueError as err:
            raise DatasetError(source, field, f"a step does not fit the env's spec: {err}") from err
        if not hasattr(spec, "minimum"):
            continue  # an unbounded spec: shape and dtype only
        low = np.broadcast_to(np.asarray(spec.minimum, values.dtype), spec.shape)
        high = np.broadcast_to(np.asarray(spec.maximum, values.dtype), spec.shape)
        if mask is not None:
            low, high = np.where(mask, low, 0), np.where(mask, high, 0)
        outside = (values < low) | (values > high)
        if outside.any():
            index = np.unravel_index(int(np.argmax(outside)), values.shape)
            lo, hi = float(low[index[1:]]), float(high[index[1:]])
            padded = " (a padded dimension)" if mask is not None and not mask[index[1:]] else ""
            raise DatasetError(
                source,
                field,
                f"value {float(values[index])!r} at index {tuple(int(i) for i in index)} "
                f"(step, agent, dim) is outside the env's bounds [{lo}, {hi}]{padded} "
                f"(jumanji spec {spec.name!r})",
            )
