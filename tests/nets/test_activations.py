"""The cheaper exact Mish against `x * tanh(softplus(x))`: values and gradients."""

import jax
import jax.numpy as jnp
import numpy as np

from dom2_jax.nets.activations import mish


def _reference(x):
    return x * jnp.tanh(jax.nn.softplus(x))


X = jnp.concatenate(
    [jnp.linspace(-100.0, 100.0, 20_001), jnp.array([-1e4, -88.0, 0.0, 19.99, 20.0, 20.01, 1e4])]
).astype(jnp.float32)


def test_values_match_the_definition_to_float32_rounding():
    got, want = np.asarray(mish(X)), np.asarray(_reference(X))
    np.testing.assert_allclose(got, want, rtol=2e-6, atol=1e-7)
    assert np.all(np.isfinite(got))


def test_gradients_match_autodiff_of_the_definition():
    grad = jax.vmap(jax.grad(mish))(X)
    want = jax.vmap(jax.grad(_reference))(X)
    np.testing.assert_allclose(np.asarray(grad), np.asarray(want), rtol=1e-5, atol=1e-6)
    assert np.all(np.isfinite(np.asarray(grad)))


def test_works_under_jit_vmap_and_in_a_loss():
    w = jnp.linspace(-3.0, 3.0, 12).reshape(3, 4)

    def loss(w, f):
        return jnp.sum(f(jnp.ones((5, 3)) @ w) ** 2)

    got = jax.jit(jax.grad(loss), static_argnums=1)(w, mish)
    want = jax.grad(loss)(w, _reference)
    np.testing.assert_allclose(np.asarray(got), np.asarray(want), rtol=1e-5)
