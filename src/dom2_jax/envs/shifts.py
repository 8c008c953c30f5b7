"""Environment shifts: the paper's 30 shifted settings as named `params -> params` edits.

A shift changes only env params (never the env object), so the unshifted params and every shifted
copy stack into one batch and evaluation is one vmapped, once-compiled call:

    names, batch = shift_batch("mpe_tag", params)        # "unshifted" + the env's 8 shifts
    jax.vmap(episode, in_axes=(None, 0))(key, batch)     # params batch

Each `Shift` is data: a tuple of `Edit`s, each scaling (or setting) one params field on one group
of entities. MPE entities are ordered learners, scripted opponents (the prey), landmarks; per-agent
fields (`accel`, `max_speed`, `mass`) cover the first two groups, per-entity fields (`size`,
`collide`, `spawn_range`) all three. Group indices come from the params' shapes and the env's
number of scripted opponents (its class's `n_opponents`), so `apply` needs only the params.

The 30 settings (8 per MPE task, 6 for HalfCheetah 2x3):

- MPE, all three tasks: learners' speed (their `accel` and `max_speed`) x0.5, x0.75, x1.25, x1.5;
  learner 0 immobilised (`accel` 0 and `max_speed` 0: its velocity is capped to zero, so contact
  forces cannot move it either); every entity's `size` x1.5.
- mpe_tag, mpe_world: the prey's speed (its `accel` and `max_speed`) x0.75, x1.25.
- mpe_spread (no prey): the landmarks' `spawn_range` x0.5, x1.5.
- halfcheetah_2x3: every actuator's strength (`gear_scale`), every body's mass and inertia
  (`mass_scale`), every geom's friction (`friction_scale`), each x0.5 and x1.5.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from dom2_jax.envs import env_class
from dom2_jax.envs.core import replace_params

UNSHIFTED = "unshifted"

# env -> (params class name, its settings: the MPE ones or the MaMuJoCo ones). How many scripted
# opponents follow the learners is the env's fact (`n_opponents`), read from its class.
ENVS: dict[str, tuple[str, str]] = {
    "mpe_spread": ("SpreadParams", "mpe"),
    "mpe_tag": ("TagParams", "mpe"),
    "mpe_world": ("WorldParams", "mpe"),
    "halfcheetah_2x3": ("MaBraxParams", "mabrax"),
}
GROUPS = ("all", "learners", "learner0", "opponents", "landmarks")
PER_AGENT_FIELDS = ("accel", "max_speed", "mass")  # [n_all_agents]: no landmark entries


@dataclasses.dataclass(frozen=True)
class Edit:
    """`params.<field>[group] *= value` (`op="scale"`) or `= value` (`op="set"`)."""

    field: str
    value: float
    group: str = "all"
    op: str = "scale"


@dataclasses.dataclass(frozen=True)
class Shift:
    name: str  # unique within the env, e.g. "learner_speed_x0.5"
    env: str  # the env it applies to
    family: str  # shifts of one kind, plotted together: score vs magnitude
    magnitude: float  # the factor applied to the family's quantity (1 = unshifted)
    description: str
    edits: tuple[Edit, ...]

    @property
    def fields(self) -> tuple[str, ...]:
        """The params fields this shift changes (every other leaf stays as it was)."""
        return tuple(dict.fromkeys(e.field for e in self.edits))


def _mpe_shifts(env: str) -> list[Shift]:
    shifts = []
    for k in (0.5, 0.75, 1.25, 1.5):
        shifts.append(
            Shift(
                f"learner_speed_x{k}",
                env,
                "learner_speed",
                k,
                f"learners' accel and max_speed x{k}",
                (Edit("accel", k, "learners"), Edit("max_speed", k, "learners")),
            )
        )
    shifts.append(
        Shift(
            "learner0_immobilised",
            env,
            "learner_immobilised",
            0.0,
            "learner 0 cannot move: accel 0 and max_speed 0 (velocity capped to zero)",
            (
                Edit("accel", 0.0, "learner0", "set"),
                Edit("max_speed", 0.0, "learner0", "set"),
            ),
        )
    )
    if env_class(env).n_opponents:  # a prey moves: shift its speed
        for k in (0.75, 1.25):
            shifts.append(
                Shift(
                    f"prey_speed_x{k}",
                    env,
                    "prey_speed",
                    k,
                    f"the scripted prey's accel and max_speed x{k}",
                    (Edit("accel", k, "opponents"), Edit("max_speed", k, "opponents")),
                )
            )
    else:
        for k in (0.5, 1.5):
            shifts.append(
                Shift(
                    f"landmark_spawn_x{k}",
                    env,
                    "landmark_spawn",
                    k,
                    f"landmarks spawn in [-r, r]^2 with r x{k}",
                    (Edit("spawn_range", k, "landmarks"),),
                )
            )
    shifts.append(
        Shift(
            "entity_size_x1.5",
            env,
            "entity_size",
            1.5,
            "every entity's radius (agents, prey, landmarks) x1.5",
            (Edit("size", 1.5),),
        )
    )
    return shifts


def _mabrax_shifts(env: str) -> list[Shift]:
    what = {
        "gear": ("gear_scale", "every actuator's strength (gear)"),
        "mass": ("mass_scale", "every body's mass and inertia"),
        "friction": ("friction_scale", "every geom's friction"),
    }
    return [
        Shift(f"{family}_x{k}", env, family, k, f"{text} x{k}", (Edit(field, k),))
        for family, (field, text) in what.items()
        for k in (0.5, 1.5)
    ]


SHIFTS: tuple[Shift, ...] = tuple(
    s for env in ENVS for s in (_mpe_shifts(env) if ENVS[env][1] == "mpe" else _mabrax_shifts(env))
)


def shifts_for(env_name: str) -> tuple[Shift, ...]:
    """The registered shifts of `env_name`, in table order."""
    if env_name not in ENVS:
        raise ValueError(f"no shifts for env {env_name!r}; envs with shifts: {sorted(ENVS)}")
    return tuple(s for s in SHIFTS if s.env == env_name)


def get_shift(env_name: str, name: str) -> Shift:
    for s in shifts_for(env_name):
        if s.name == name:
            return s
    valid = [s.name for s in shifts_for(env_name)]
    raise ValueError(f"{env_name}: unknown shift {name!r}; valid shifts: {valid}")


def _indices(env: str, group: str, field: str, params: Any) -> np.ndarray | slice:
    """Indices of `group` in `params.<field>` (static: from the params' shapes)."""
    if group == "all":
        return slice(None)
    if ENVS[env][1] != "mpe":
        raise ValueError(f"{env}: entity group {group!r} exists only in MPE envs")
    n_opponents = env_class(env).n_opponents
    n_all_agents = params.accel.shape[-1]
    n_learners = n_all_agents - n_opponents
    if group == "landmarks" and field in PER_AGENT_FIELDS:
        raise ValueError(f"{env}: {field!r} is a per-agent field, it has no landmark entries")
    ranges = {
        "learners": (0, n_learners),
        "learner0": (0, 1),
        "opponents": (n_learners, n_all_agents),
        "landmarks": (n_all_agents, params.size.shape[-1]),
    }
    if group not in ranges:
        raise ValueError(f"{env}: unknown entity group {group!r}; valid: {GROUPS}")
    return np.arange(*ranges[group])


def apply(shift: Shift, params: Any) -> Any:
    """`params` (one env's, unbatched) with `shift`'s edits applied; refuses params of another
    env (by params type). Pure and traceable (indices are static), so it also works in `jit`.
    """
    expected = ENVS[shift.env][0]
    if type(params).__name__ != expected:
        raise TypeError(
            f"shift {shift.name!r} is for {shift.env} ({expected}), "
            f"got params of type {type(params).__name__}"
        )
    updates: dict[str, jax.Array] = {}
    for edit in shift.edits:
        arr = jnp.asarray(updates.get(edit.field, getattr(params, edit.field)))
        idx = _indices(shift.env, edit.group, edit.field, params)
        if edit.op == "scale":
            arr = arr.at[idx].multiply(edit.value)
        elif edit.op == "set":
            arr = arr.at[idx].set(edit.value)
        else:
            raise ValueError(f"shift {shift.name!r}: unknown op {edit.op!r}; valid: scale, set")
        updates[edit.field] = arr
    return replace_params(shift.env, params, updates)


def stack_params(params_list: list[Any] | tuple[Any, ...]) -> Any:
    """One params pytree with a leading `[n_params]` axis on every leaf, for `jax.vmap`."""
    if not params_list:
        raise ValueError("stack_params needs at least one params object")
    first = jax.tree.structure(params_list[0])
    for i, p in enumerate(params_list[1:], start=1):
        if jax.tree.structure(p) != first:
            raise ValueError(
                f"stack_params: params {i} has pytree structure {jax.tree.structure(p)}, "
                f"params 0 has {first}"
            )
    return jax.tree.map(lambda *xs: jnp.stack([jnp.asarray(x) for x in xs]), *params_list)


def shift_batch(
    env_name: str, params: Any, names: list[str] | tuple[str, ...] | None = None
) -> tuple[tuple[str, ...], Any]:
    """(`("unshifted", *names)`, stacked params): the unshifted params first, then each shift.

    `names=None` takes every registered shift of the env, in table order.
    """
    shifts = shifts_for(env_name) if names is None else tuple(get_shift(env_name, n) for n in names)
    batch = [params] + [apply(s, params) for s in shifts]
    return (UNSHIFTED, *(s.name for s in shifts)), stack_params(batch)
