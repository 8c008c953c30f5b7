"""Orbax checkpoints of a (seed-batched) `TrainState`, self-describing and restorable.

Each checkpoint step holds the whole train state (networks, optimiser states, EMA and target
copies, seed keys, update counter) and a JSON record: the resolved config, the dataset's
checksum, the package and format versions. `restore` rebuilds the same pytree or refuses with a
message naming what differs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jax
import orbax.checkpoint as ocp

from dom2_jax import __version__

CHECKPOINT_FORMAT = 1


def _to_storable(state):
    return state.replace(key=jax.random.key_data(state.key))


def _from_storable(state):
    return state.replace(key=jax.random.wrap_key_data(state.key))


class Checkpointer:
    """Save/restore/latest over an orbax `CheckpointManager` in `<run_dir>/checkpoints`."""

    def __init__(self, run_dir: str | Path, max_to_keep: int = 3):
        self.directory = Path(run_dir).absolute() / "checkpoints"
        self.manager = ocp.CheckpointManager(
            self.directory,
            options=ocp.CheckpointManagerOptions(max_to_keep=max_to_keep, create=True),
        )

    def latest_step(self) -> int | None:
        return self.manager.latest_step()

    def save(self, step: int, state, record: dict[str, Any]) -> None:
        record = dict(record, checkpoint_format=CHECKPOINT_FORMAT, package_version=__version__)
        self.manager.save(
            step,
            args=ocp.args.Composite(
                state=ocp.args.StandardSave(_to_storable(state)), record=ocp.args.JsonSave(record)
            ),
        )
        self.manager.wait_until_finished()  # a returned save is on disk (resume relies on it)

    def read_record(self, step: int) -> dict[str, Any]:
        return self.manager.restore(
            step, args=ocp.args.Composite(record=ocp.args.JsonRestore())
        ).record

    def restore(self, step: int, like) -> Any:
        """The state saved at `step`, shaped like `like` (a freshly initialised state)."""
        target = jax.tree.map(ocp.utils.to_shape_dtype_struct, _to_storable(like))
        try:
            restored = self.manager.restore(
                step, args=ocp.args.Composite(state=ocp.args.StandardRestore(target))
            ).state
        except (ValueError, KeyError, TypeError) as err:
            raise ValueError(
                f"{self.directory}/{step}: checkpoint does not match this run's train state "
                f"(different networks, agents or seeds?): {err}"
            ) from err
        return _from_storable(restored)

    def close(self) -> None:
        self.manager.close()
