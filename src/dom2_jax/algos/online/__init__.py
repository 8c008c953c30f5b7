"""Online behaviour-policy training (OMAR protocol): MATD3 with exploration noise.

`make_matd3(env, params, MATD3Config(...))` -> pure `init`, `train_chunk`, `evaluate`;
`behaviour_policy(actor, act_mask, noise_std)` -> `act(key, obs)` for `data.generate`.
The host loop (progress, evaluation, snapshots, files) is `dom2_jax.io.policies`.
"""

from dom2_jax.algos.online.config import MATD3Config
from dom2_jax.algos.online.matd3 import (
    MATD3Fns,
    MATD3State,
    behaviour_policy,
    make_matd3,
    smoothed_target_actions,
    td3_target,
)
from dom2_jax.algos.online.networks import actor_apply, joint_actions

__all__ = [
    "MATD3Config",
    "MATD3Fns",
    "MATD3State",
    "actor_apply",
    "behaviour_policy",
    "joint_actions",
    "make_matd3",
    "smoothed_target_actions",
    "td3_target",
]
