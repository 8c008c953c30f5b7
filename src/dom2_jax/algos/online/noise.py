"""The behaviour policies' exploration noise, a distrax distribution added to the deterministic
actions (`common.gaussian_noise`, which TD3's clipped target-policy smoothing shares).

It is a draw of `eps ~ distrax.Normal(0, s)` shaped like the actions, added to them: the same
bits as the hand-written `mu + s * jax.random.normal(key, mu.shape)` they replaced (distrax
draws `jax.random.normal` from the same key and returns `s * eps + 0`), so the shipped behaviour
policies and the datasets generated from them reproduce unchanged (`tests/algos/test_matd3.py`
pins the equality under jit). `distrax.Normal(mu, s).sample(...)` is the same distribution but
not the same program: its leading sample axis changes XLA's fusion, and under jit some actions
move by one ulp.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from dom2_jax.algos.common import gaussian_noise
from dom2_jax.algos.online.networks import joint_actions


def explore(key: jax.Array, mu: jax.Array, noise_std: float) -> jax.Array:
    """Exploratory actions clipped to the action box: `clip(mu + eps, -1, 1)`, `eps ~
    N(0, noise_std^2)` shaped like `mu`. Padded dimensions are the caller's to zero."""
    eps = gaussian_noise(noise_std).sample(seed=key, sample_shape=mu.shape)
    return jnp.clip(mu + eps, -1.0, 1.0)


def behaviour_policy(actor, act_mask, noise_std: float = 0.0):
    """`act(key, obs [n_agents, obs_dim]) -> actions`: the trained actors plus Gaussian noise
    (`noise_std` 0: deterministic), the signature `data.generate.make_collect` rolls out."""
    mask = jnp.asarray(act_mask, jnp.float32)

    def act(key, obs):
        mu = joint_actions(actor, obs, mask)
        if noise_std == 0.0:
            return mu
        return explore(key, mu, noise_std) * mask

    return act
