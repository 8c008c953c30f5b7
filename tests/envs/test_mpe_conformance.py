"""Step-exact conformance of our MPE physics, observations and rewards with Farama mpe2.

Both simulators start from the same state and take the same random actions for a whole episode
(the prey too, driven by the same actions); our side runs as one jitted `lax.scan`, vmapped over
a batch of episodes. Under `protocol="mpe2"` everything, rewards included, must agree to 1e-5.
Under the paper's `protocol="omar"`, the reference is mpe2 with OpenAI MPE's integration order
(velocity first, as in OMAR's code) and OMAR's rewards transcribed below from its scenarios.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from dom2_jax.envs import make

ref = pytest.importorskip("mpe2_reference", reason="mpe2 (dev extra) is not installed")

ATOL = 1e-5
N_EPISODES = 4
T = 25


def omar_spread_rewards(pos: np.ndarray, n: int = 3) -> np.ndarray:
    """OMAR simple_spread.reward, per agent, for `pos [E, 2]` (agents then landmarks)."""
    agents, marks = pos[:n], pos[n:]
    rew = sum(min(1.0 / min(np.linalg.norm(a - lm) for a in agents), 10.0) for lm in marks)
    out = []
    for i in range(n):
        hits = sum(np.linalg.norm(agents[i] - agents[j]) < 0.3 for j in range(n) if j != i)
        out.append(rew - 5.0 * hits)
    return np.array(out)


def omar_tag_rewards(pos: np.ndarray, n: int = 3) -> np.ndarray:
    """OMAR simple_tag.adversary_reward (shaped), the same for every predator."""
    prey = pos[n]
    rew = -0.1 * sum(np.linalg.norm(prey - pos[i]) for i in range(n))
    rew += 10.0 * sum(np.linalg.norm(prey - pos[i]) < 0.075 + 0.05 for i in range(n))
    return np.full(n, rew)


OMAR_REWARDS = {"mpe_spread": omar_spread_rewards, "mpe_tag": omar_tag_rewards}


def initial_positions(env, params, n: int) -> np.ndarray:
    keys = jax.random.split(jax.random.key(7), n)
    pos = np.array(jax.vmap(lambda k: env.reset(k, params)[1].pos)(keys))
    # Episode 0 starts with the last agent (the prey in tag) touching agent 0, so contacts and
    # catches occur.
    last = env.n_all_agents - 1
    overlap = 0.99 * float(params.size[0] + params.size[last])
    pos[0, last] = pos[0, 0] + np.array([overlap, 0.0])
    return pos


@pytest.fixture(
    scope="module",
    params=[
        ("mpe_spread", "mpe2"),
        ("mpe_spread", "omar"),
        ("mpe_tag", "mpe2"),
        ("mpe_tag", "omar"),
    ],
    ids=lambda p: f"{p[0]}-{p[1]}",
)
def paired_rollouts(request):
    name, protocol = request.param
    env, params = make(name, protocol=protocol)
    pos0 = initial_positions(env, params, N_EPISODES)
    actions = np.array(
        jax.random.uniform(
            jax.random.key(3), (N_EPISODES, T, env.n_all_agents, 2), minval=-1.0, maxval=1.0
        )
    )
    # ... and the two push into each other for the first steps.
    actions[0, :3, 0] = [1.0, 0.0]
    actions[0, :3, env.n_all_agents - 1] = [-1.0, 0.0]

    def episode(pos, acts):
        state = env.reset(jax.random.key(0), params)[1].replace(pos=pos)

        def step(state, a):
            state = env.step_all_agents(state, a, params)
            opp = env.observe_opponents(state, params) if env.n_opponents else jnp.zeros((0,))
            return state, (
                state.pos,
                state.vel,
                env.observe(state, params),
                opp,
                env.learner_rewards(state, params),
            )

        return jax.lax.scan(step, state, acts)[1]

    ours = jax.jit(jax.vmap(episode))(jnp.asarray(pos0), jnp.asarray(actions))
    theirs = [
        ref.rollout(
            ref.make_reference(name), pos0[e], actions[e], openai_integration=(protocol == "omar")
        )
        for e in range(N_EPISODES)
    ]
    return name, protocol, env, [np.asarray(x) for x in ours], theirs


def test_positions_and_velocities_match(paired_rollouts):
    _, _, _, (pos, vel, *_), theirs = paired_rollouts
    for e, r in enumerate(theirs):
        np.testing.assert_allclose(pos[e], r["pos"], atol=ATOL, rtol=0)
        np.testing.assert_allclose(vel[e], r["vel"], atol=ATOL, rtol=0)


def test_observations_match(paired_rollouts):
    _, _, env, (_, _, obs, opp_obs, _), theirs = paired_rollouts
    for e, r in enumerate(theirs):
        for i in range(env.n_agents):
            np.testing.assert_allclose(obs[e][:, i], r["obs"][i], atol=ATOL, rtol=0)
        for k in range(env.n_opponents):
            np.testing.assert_allclose(opp_obs[e][:, k], r["obs"][env.n_agents + k], atol=ATOL)


def test_rewards_match(paired_rollouts):
    name, protocol, env, (_, _, _, _, rew), theirs = paired_rollouts
    n = env.n_agents
    for e, r in enumerate(theirs):
        if protocol == "mpe2":
            expected = r["rewards"][:, :n]
        else:
            expected = np.stack([OMAR_REWARDS[name](p) for p in r["pos"]])
        np.testing.assert_allclose(rew[e], expected, atol=ATOL, rtol=1e-5)
    # The comparison is not vacuous: agent 0 and the last agent (the prey in tag) overlapped at
    # some step of episode 0, so the collision / catch terms were compared too.
    pos0 = theirs[0]["pos"]
    d = np.linalg.norm(pos0[:, 0] - pos0[:, env.n_all_agents - 1], axis=-1)
    size = np.asarray(env.default_params().size)
    assert np.any(d < size[0] + size[env.n_all_agents - 1]), "expected a contact in episode 0"
