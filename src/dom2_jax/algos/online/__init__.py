"""Online behaviour-policy training (OMAR protocol): MATD3 with exploration noise.

`make_matd3(env, params, MATD3Config(...))` -> pure `init`, `train_chunk`, `evaluate`;
`behaviour_policy(actor, act_mask, noise_std)` -> `act(key, obs)` for `data.generate`; its
Gaussian exploration noise is a distrax distribution (`gaussian_noise`, `explore`).
The host loop (progress, evaluation, snapshots) is `dom2_jax.io.behaviour`; files `io.policies`.
The TD3 pieces it shares with the offline TD3 family live in `algos.common` (re-exported).
"""

from dom2_jax.algos.common import gaussian_noise, smoothed_target_actions, td3_target
from dom2_jax.algos.online.config import MATD3Config
from dom2_jax.algos.online.matd3 import MATD3Fns, MATD3State, make_matd3
from dom2_jax.algos.online.networks import actor_apply, joint_actions
from dom2_jax.algos.online.noise import behaviour_policy, explore

__all__ = [
    "MATD3Config",
    "MATD3Fns",
    "MATD3State",
    "actor_apply",
    "behaviour_policy",
    "explore",
    "gaussian_noise",
    "joint_actions",
    "make_matd3",
    "smoothed_target_actions",
    "td3_target",
]
