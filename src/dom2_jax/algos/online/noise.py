"""The behaviour policies' noise as distrax distributions: Gaussian exploration added to the
deterministic actions, and TD3's clipped target-policy smoothing noise.

Both are draws of `eps ~ distrax.Normal(0, s)` shaped like the actions, added to them: the same
bits as the hand-written `mu + s * jax.random.normal(key, mu.shape)` they replaced (distrax
draws `jax.random.normal` from the same key and returns `s * eps + 0`), so the shipped behaviour
policies and the datasets generated from them reproduce unchanged (`tests/algos/test_matd3.py`
pins the equality under jit). `distrax.Normal(mu, s).sample(...)` is the same distribution but
not the same program: its leading sample axis changes XLA's fusion, and under jit some actions
move by one ulp.
"""

from __future__ import annotations

import distrax
import jax
import jax.numpy as jnp

from dom2_jax.algos.online.networks import joint_actions


def gaussian_noise(noise_std: float) -> distrax.Normal:
    """`N(0, noise_std^2)`, one independent draw per action dimension (`sample_shape`)."""
    return distrax.Normal(0.0, noise_std)


def explore(key: jax.Array, mu: jax.Array, noise_std: float) -> jax.Array:
    """Exploratory actions clipped to the action box: `clip(mu + eps, -1, 1)`, `eps ~
    N(0, noise_std^2)` shaped like `mu`. Padded dimensions are the caller's to zero."""
    eps = gaussian_noise(noise_std).sample(seed=key, sample_shape=mu.shape)
    return jnp.clip(mu + eps, -1.0, 1.0)


def smoothed_target_actions(
    target_actions: jax.Array, key: jax.Array, noise_std: float, noise_clip: float, act_mask
) -> jax.Array:
    """TD3 target policy smoothing: `clip(mubar(o') + clip(eps, -c, c), -1, 1)`, eps ~ N(0, s^2)."""
    eps = gaussian_noise(noise_std).sample(seed=key, sample_shape=target_actions.shape)
    noise = jnp.clip(eps, -noise_clip, noise_clip)
    return jnp.clip(target_actions + noise, -1.0, 1.0) * act_mask


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
