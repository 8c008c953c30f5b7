"""The fast application paths (issue 15) equal the flax modules they stand for.

`ensemble_q` computes a critic's first-layer observation part once for every action set and
member; `conditioned_noise_net` computes the noise net's observation part once per batch and its
time part once per step. Both must give `module.apply`'s values and gradients to float32 rounding,
whatever the activation, the critic's input normalisation and the shape of `t`.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from dom2_jax.nets.critics import QNetwork, apply_ensemble, ensemble_q, init_ensemble
from dom2_jax.nets.denoiser import NoiseNet, conditioned_noise_net

OBS, ACT, B, SETS = 7, 3, 16, 4


def inputs():
    keys = jax.random.split(jax.random.key(0), 3)
    obs = jax.random.normal(keys[0], (B, OBS))
    own = jax.random.uniform(keys[1], (2, SETS, B, ACT), minval=-1, maxval=1)
    return obs, own, keys[2]


@pytest.mark.parametrize(("activation", "input_norm"), [("mish", False), ("relu", True)])
def test_ensemble_q_equals_per_set_apply(activation, input_norm):
    net = QNetwork((32, 32), activation, input_norm)
    obs, own, key = inputs()
    params = init_ensemble(net, key, 2, obs[:1], own[0, 0, :1])
    expected = jnp.stack(
        [apply_ensemble(net, params, obs, own[0, s]) for s in range(SETS)], axis=1
    )  # every member on set s of member 0's sets: the shared-sets form
    np.testing.assert_allclose(ensemble_q(net, params, obs, own[0]), expected, atol=2e-6)
    member = [jax.tree.map(lambda x, k=k: x[k], params) for k in range(2)]
    own_expected = jnp.stack(
        [jnp.stack([net.apply(member[k], obs, own[k, s]) for s in range(SETS)]) for k in range(2)]
    )
    np.testing.assert_allclose(ensemble_q(net, params, obs, own), own_expected, atol=2e-6)

    def total(fn):  # jitted: one program, not a compile per op
        return jax.jit(jax.grad(lambda p, a: jnp.sum(jnp.tanh(fn(p, a))), argnums=(0, 1)))(
            params, own
        )

    sets = range(SETS)
    fast = total(lambda p, a: ensemble_q(net, p, obs, a))
    slow = total(
        lambda p, a: jnp.stack(
            [
                jnp.stack(
                    [net.apply(jax.tree.map(lambda x, k=k: x[k], p), obs, a[k, s]) for s in sets]
                )
                for k in range(2)
            ]
        )
    )
    for got, want in zip(jax.tree.leaves(fast), jax.tree.leaves(slow), strict=True):
        np.testing.assert_allclose(got, want, atol=1e-5)


@pytest.mark.parametrize("activation", ["mish", "mish_xla"])
def test_conditioned_noise_net_equals_apply(activation):
    net = NoiseNet(ACT, (32, 32), 8, activation)
    obs, own, key = inputs()
    x = own[0, 0]
    params = net.init(key, x, jnp.zeros((B,), jnp.int32), obs)
    per_row = jax.random.randint(jax.random.key(5), (B,), 0, 5)
    for t, rows in ((per_row, per_row), (jnp.int32(3), jnp.full((B,), 3))):
        fast = conditioned_noise_net(net, params, obs, 5)(x, t)
        np.testing.assert_allclose(fast, net.apply(params, x, rows, obs), atol=2e-6)

        def loss(p, a, t=t, rows=rows, fast=True):
            if fast:
                out = conditioned_noise_net(net, p, obs, 5)(a, t)
            else:
                out = net.apply(p, a, rows, obs)
            return jnp.sum(jnp.sin(out))

        got = jax.jit(jax.grad(loss, argnums=(0, 1)))(params, x)
        want = jax.jit(jax.grad(partial_slow(loss), argnums=(0, 1)))(params, x)
        for g, w in zip(jax.tree.leaves(got), jax.tree.leaves(want), strict=True):
            np.testing.assert_allclose(g, w, atol=1e-5)


def partial_slow(loss):
    return lambda p, a: loss(p, a, fast=False)
