"""`mpe_world` against OMAR's `simple_world` definition on hand-built states.

mpe2 has no such scenario (its simple_world_comm is a 4-vs-2 game with communication), so the
reference is a NumPy transcription of OMAR's scenario: 3 predators (size 0.075) vs 1 prey (0.045),
entities [obstacle 0.2, food 0.03 x2, forest 0.3 x2], every agent a leader.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from dom2_jax.envs import make

SIZES = np.array([0.075] * 3 + [0.045] + [0.2, 0.03, 0.03, 0.3, 0.3])
FORESTS, FOOD = (7, 8), (5, 6)


def collide(pos, i, j):
    return np.linalg.norm(pos[i] - pos[j]) < SIZES[i] + SIZES[j]


def omar_observation(pos, vel, i):
    others = [j for j in range(4) if j != i]
    parts = [vel[i], pos[i]] + [pos[lm] - pos[i] for lm in range(4, 9)]
    parts += [pos[j] - pos[i] for j in others]
    parts += [vel[j] for j in others if j == 3]  # only the prey's velocity
    parts += [np.array([1.0 if collide(pos, i, f) else -1.0]) for f in FORESTS]
    return np.concatenate(parts)


def omar_predator_reward(pos):
    rew = -0.1 * sum(np.linalg.norm(pos[3] - pos[a]) for a in range(3))
    return rew + 5.0 * sum(collide(pos, 3, a) for a in range(3))


def omar_prey_reward(pos):
    rew = 0.1 * sum(np.linalg.norm(pos[3] - pos[a]) for a in range(3))
    rew -= 5.0 * sum(collide(pos, a, 3) for a in range(3))

    def bound(x):
        return 0 if x < 0.9 else (x - 0.9) * 10 if x < 1.0 else min(np.exp(2 * x - 2), 10)

    rew -= sum(2 * bound(abs(pos[3, p])) for p in range(2))
    rew += sum(2 for f in FOOD if collide(pos, 3, f))
    return rew + 0.05 * min(np.linalg.norm(pos[f] - pos[3]) for f in FOOD)


def hand_built_states():
    rng = np.random.default_rng(0)
    states = []
    for case in range(6):
        pos = rng.uniform(-0.9, 0.9, (9, 2))
        vel = rng.uniform(-1.0, 1.0, (4, 2))
        if case == 1:  # predator 0 inside forest 0, catching the prey
            pos[0] = pos[7] + 0.1
            pos[3] = pos[0] + 0.05
        if case == 2:  # prey on a food, near the arena edge
            pos[3] = np.array([0.95, -1.2])
            pos[5] = pos[3] + 0.01
        if case == 3:  # two predators catching the prey inside forest 1
            pos[3] = pos[8]
            pos[1], pos[2] = pos[3] + [0.1, 0], pos[3] - [0.0, 0.1]
        states.append((pos.astype(np.float32), vel.astype(np.float32)))
    return states


@pytest.fixture(scope="module")
def world():
    env, params = make("mpe_world")
    fns = jax.jit(
        lambda s: (
            env.observe(s, params),
            env.observe_opponents(s, params),
            env.learner_rewards(s, params),
            env.opponent_rewards(s, params),
        )
    )
    return env, params, fns


def test_layout_constants(world):
    env, params, _ = world
    np.testing.assert_allclose(np.asarray(params.size), SIZES, rtol=1e-6)
    assert list(np.asarray(params.collide)) == [True] * 5 + [False] * 4
    assert env.obs_sizes == (24, 24, 24) and env.opponent_obs_size == 22


@pytest.mark.parametrize("case", range(6))
def test_observations_and_rewards_match_omar(world, case):
    env, params, fns = world
    pos, vel = hand_built_states()[case]
    state = env.reset(jax.random.key(0), params)[1].replace(
        pos=jnp.asarray(pos), vel=jnp.asarray(vel)
    )
    obs, prey_obs, rew, prey_rew = (np.asarray(x) for x in fns(state))
    for i in range(3):
        np.testing.assert_allclose(obs[i], omar_observation(pos, vel, i), atol=1e-6)
    np.testing.assert_allclose(prey_obs[0], omar_observation(pos, vel, 3), atol=1e-6)
    np.testing.assert_allclose(rew, np.full(3, omar_predator_reward(pos)), atol=1e-5)
    np.testing.assert_allclose(prey_rew[0], omar_prey_reward(pos), atol=1e-5)
    if case == 1:
        assert obs[0, 22] == 1.0 and rew[0] > 4.0
    if case == 3:
        assert rew[0] > 9.0
