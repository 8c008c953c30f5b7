"""A circular replay buffer as a pure pytree: fixed capacity, insert a batch, sample uniformly.

Transitions are stored in insertion order modulo `capacity`, so the `n` newest are at
`(ptr - n + arange(n)) % capacity` (the host reads a chunk's transitions back that way). Field
names follow the dataset format (`data.generate.make_collect`).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from flax import struct

FIELDS = ("obs", "actions", "rewards", "next_obs", "terminals", "truncations")


@struct.dataclass
class ReplayBuffer:
    data: dict[str, jax.Array]  # each [capacity, n_agents, ...]
    ptr: jax.Array  # () int32, next write position
    size: jax.Array  # () int32, filled slots (<= capacity)

    @property
    def capacity(self) -> int:
        return jax.tree.leaves(self.data)[0].shape[0]


def init_buffer(capacity: int, example: dict[str, jax.Array]) -> ReplayBuffer:
    """Empty buffer for transitions shaped like `example` (one transition, no batch axis)."""
    if capacity < 1:
        raise ValueError(f"replay capacity must be >= 1, got {capacity}")
    data = {k: jnp.zeros((capacity, *jnp.shape(v)), jnp.result_type(v)) for k, v in example.items()}
    return ReplayBuffer(data=data, ptr=jnp.int32(0), size=jnp.int32(0))


def insert(buffer: ReplayBuffer, batch: dict[str, jax.Array]) -> ReplayBuffer:
    """Write `batch` (leaves `[n, ...]`, `n <= capacity`) at the write pointer, wrapping around."""
    n = jax.tree.leaves(batch)[0].shape[0]
    capacity = buffer.capacity
    if n > capacity:
        raise ValueError(f"cannot insert {n} transitions into a buffer of capacity {capacity}")
    idx = (buffer.ptr + jnp.arange(n)) % capacity
    data = {k: buffer.data[k].at[idx].set(batch[k].astype(buffer.data[k].dtype)) for k in batch}
    return ReplayBuffer(
        data=data,
        ptr=(buffer.ptr + n) % capacity,
        size=jnp.minimum(buffer.size + n, capacity).astype(jnp.int32),
    )


def sample(buffer: ReplayBuffer, key: jax.Array, batch_size: int) -> dict[str, jax.Array]:
    """`batch_size` transitions drawn uniformly (with replacement) from the filled slots."""
    idx = jax.random.randint(key, (batch_size,), 0, jnp.maximum(buffer.size, 1))
    return {k: v[idx] for k, v in buffer.data.items()}


def newest_indices(ptr: int, n: int, capacity: int):
    """Slots of the `n` newest transitions, oldest first (works on ints or arrays)."""
    return (ptr - n + jnp.arange(n)) % capacity
