"""Particle-world physics shared by every MPE scenario, written once as array functions.

Matches the multi-agent particle environments (OpenAI MPE, the OMAR fork and Farama mpe2):
soft contact forces between colliding entities, linear damping, an optional speed cap, and an
explicit Euler step with dt. The two code lines differ in one place, the order of the update:

- `velocity_first=True` (OpenAI MPE and OMAR, hence the paper's datasets): damp and accelerate
  the velocity, cap it, then move with the *new* velocity;
- `velocity_first=False` (mpe2): move with the *old* velocity, then update the velocity.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp


def contact_forces(
    pos: jax.Array,  # [E, 2] entity positions
    size: jax.Array,  # [E] radii
    collide: jax.Array,  # [E] bool
    contact_force: jax.Array,  # () stiffness
    contact_margin: jax.Array,  # () softness of the penetration softplus
) -> jax.Array:
    """Total soft-contact force on every entity, `[E, 2]`.

    For each colliding pair (a, b), force on a = contact_force * (p_a - p_b) / |p_a - p_b| *
    k * softplus(-(|p_a - p_b| - (r_a + r_b)) / k), and the opposite force on b (MPE's
    `get_collision_force`).
    """
    n = pos.shape[0]
    delta = pos[:, None, :] - pos[None, :, :]  # [E, E, 2] p_a - p_b
    dist = jnp.sqrt(jnp.sum(delta**2, axis=-1))  # [E, E]
    not_self = ~jnp.eye(n, dtype=bool)
    safe_dist = jnp.where(not_self, dist, 1.0)
    dist_min = size[:, None] + size[None, :]
    k = contact_margin
    penetration = jnp.logaddexp(0.0, -(safe_dist - dist_min) / k) * k
    magnitude = contact_force * penetration / safe_dist
    active = collide[:, None] & collide[None, :] & not_self
    pair_force = jnp.where(active[..., None], delta * magnitude[..., None], 0.0)
    return jnp.sum(pair_force, axis=1)


def cap_speed(vel: jax.Array, max_speed: jax.Array) -> jax.Array:
    """Rescale each row of `vel [A, 2]` whose norm exceeds `max_speed [A]` (inf = no cap)."""
    speed = jnp.sqrt(jnp.sum(vel**2, axis=-1))
    too_fast = speed > max_speed
    scale = jnp.where(too_fast, max_speed / jnp.where(too_fast, speed, 1.0), 1.0)
    return vel * scale[:, None]


def integrate(
    pos: jax.Array,  # [A, 2] movable entities
    vel: jax.Array,  # [A, 2]
    force: jax.Array,  # [A, 2] action force + contact force
    mass: jax.Array,  # [A]
    max_speed: jax.Array,  # [A], inf for no cap
    damping: jax.Array,
    dt: jax.Array,
    velocity_first: bool,
) -> tuple[jax.Array, jax.Array]:
    """One explicit Euler step of the movable entities; see the module docstring for the order."""

    def new_velocity(v):
        v = v * (1.0 - damping) + force / mass[:, None] * dt
        return cap_speed(v, max_speed)

    if velocity_first:
        vel = new_velocity(vel)
        pos = pos + vel * dt
    else:
        pos = pos + vel * dt
        vel = new_velocity(vel)
    return pos, vel


def is_collision(pos_a: jax.Array, pos_b: jax.Array, size_a, size_b) -> jax.Array:
    """MPE's `is_collision`: strictly closer than the sum of the radii (broadcasts)."""
    return jnp.sqrt(jnp.sum((pos_a - pos_b) ** 2, axis=-1)) < size_a + size_b


def distance(pos_a: jax.Array, pos_b: jax.Array) -> jax.Array:
    return jnp.sqrt(jnp.sum((pos_a - pos_b) ** 2, axis=-1))


def boundary_penalty(abs_coord: jax.Array) -> jax.Array:
    """MPE's `bound(x)` for prey leaving the arena: 0 below 0.9, linear to 1, then exp, cap 10."""
    x = abs_coord
    return jnp.where(
        x < 0.9,
        0.0,
        jnp.where(x < 1.0, (x - 0.9) * 10.0, jnp.minimum(jnp.exp(2.0 * x - 2.0), 10.0)),
    )
