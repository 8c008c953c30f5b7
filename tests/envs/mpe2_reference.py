"""Drive Farama mpe2 (the reference particle simulator) from a given state and 2-D actions."""

from __future__ import annotations

import numpy as np

mpe2 = __import__("pytest").importorskip("mpe2", reason="mpe2 (dev extra) is not installed")
from mpe2 import simple_spread_v3, simple_tag_v3  # noqa: E402


def make_reference(scenario: str):
    if scenario == "mpe_spread":
        env = simple_spread_v3.parallel_env(N=3, max_cycles=25, continuous_actions=True)
    elif scenario == "mpe_tag":
        env = simple_tag_v3.parallel_env(max_cycles=25, continuous_actions=True)
    else:
        raise ValueError(scenario)
    env.reset(seed=0)
    return env


def use_openai_integration(world) -> None:
    """Make this mpe2 world integrate as OpenAI MPE / OMAR do: velocity first, then position."""

    def integrate_state(p_force):
        for i, entity in enumerate(world.entities):
            if not entity.movable:
                continue
            entity.state.p_vel = entity.state.p_vel * (1 - world.damping)
            if p_force[i] is not None:
                entity.state.p_vel += (p_force[i] / entity.mass) * world.dt
            if entity.max_speed is not None:
                speed = np.sqrt(np.square(entity.state.p_vel[0]) + np.square(entity.state.p_vel[1]))
                if speed > entity.max_speed:
                    entity.state.p_vel = entity.state.p_vel / speed * entity.max_speed
            entity.state.p_pos += entity.state.p_vel * world.dt

    world.integrate_state = integrate_state


def set_state(env, pos: np.ndarray) -> None:
    """Place every entity (agents then landmarks) at `pos [E, 2]`, at rest."""
    world = env.unwrapped.world
    for entity, p in zip(world.entities, pos, strict=True):
        entity.state.p_pos = np.asarray(p, np.float64).copy()
        entity.state.p_vel = np.zeros(2)


def to_mpe2_action(u: np.ndarray) -> np.ndarray:
    """Our 2-D force direction -> mpe2's 5-value continuous action."""
    ux, uy = float(u[0]), float(u[1])
    return np.array([0.0, max(-ux, 0), max(ux, 0), max(-uy, 0), max(uy, 0)], np.float32)


def rollout(env, pos0: np.ndarray, actions: np.ndarray, openai_integration: bool = False):
    """Step mpe2 from `pos0` with `actions [T, n_all_agents, 2]`.

    Returns per-step arrays after each step: pos [T, E, 2], vel [T, A, 2], obs (list per agent of
    [T, d]), rewards [T, A].
    """
    env.reset(seed=0)
    set_state(env, pos0)
    world = env.unwrapped.world
    if openai_integration:
        use_openai_integration(world)
    names = env.possible_agents
    out = {"pos": [], "vel": [], "obs": [], "rewards": []}
    for t in range(actions.shape[0]):
        obs, rew, _, _, _ = env.step(
            {name: to_mpe2_action(actions[t, k]) for k, name in enumerate(names)}
        )
        out["pos"].append(np.stack([e.state.p_pos for e in world.entities]))
        out["vel"].append(np.stack([a.state.p_vel for a in world.agents]))
        out["obs"].append([obs[name] for name in names])
        out["rewards"].append(np.array([rew[name] for name in names]))
    return {
        "pos": np.stack(out["pos"]),
        "vel": np.stack(out["vel"]),
        "obs": [np.stack([o[k] for o in out["obs"]]) for k in range(len(names))],
        "rewards": np.stack(out["rewards"]),
        "world": world,
    }
