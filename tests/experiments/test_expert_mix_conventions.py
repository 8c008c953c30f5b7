"""The expert-mix convention analysis' rollout: a policy that never acts stays where it started."""

import jax
import jax.numpy as jnp
import numpy as np

from dom2_jax.envs import make
from dom2_jax.io.expert_mix import landmark_assignment
from experiments.expert_mix_conventions import make_policy_rollout


def test_a_still_policy_ends_at_the_landmarks_nearest_its_start():
    env, params = make("mpe_spread")
    rollout = make_policy_rollout(
        env, params, lambda state, obs, key: jnp.zeros((env.n_agents, env.act_dim))
    )
    reset_keys = jax.random.split(jax.random.key(0), 8)
    assign, returns = jax.jit(jax.vmap(rollout, in_axes=(None, 0, 0)))(
        {}, reset_keys, jax.random.split(jax.random.key(1), 8)
    )
    starts = jax.vmap(lambda k: env.reset(k, params)[1].pos)(reset_keys)
    n, first = env.n_agents, env.n_all_agents
    want = landmark_assignment(starts[:, :n], starts[:, first:])
    np.testing.assert_array_equal(np.asarray(assign), np.asarray(want))
    assert returns.shape == (8, n) and np.all(np.isfinite(np.asarray(returns)))
