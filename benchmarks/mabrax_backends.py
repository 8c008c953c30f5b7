"""Brax backend choice for MaMuJoCo envs: throughput and return scale vs C MuJoCo (gymnasium).

For each brax backend: env steps/s of 256 vmapped single-agent halfcheetahs (jitted scan), and
the 1000-step return of a fixed open-loop gait (the same joint actions every run) next to the
return gymnasium's HalfCheetah-v5 (C MuJoCo) gives for the same actions. The gait is a
sinusoid per joint, `a_j(t) = 0.8 sin(2 pi t / 20 + phase_j)`, plus a zero-action run.

    python -m benchmarks.mabrax_backends [--write benchmarks/RESULTS.md]
"""

from __future__ import annotations

import argparse

import jax
import jax.numpy as jnp
import numpy as np

from benchmarks.common import header, package_versions, timed, write_section

BACKENDS = ("spring", "positional", "generalized", "mjx")
PHASES = np.array([0.0, 1.0, 2.0, 3.0, 4.0, 5.0])


def gait(t: np.ndarray) -> np.ndarray:
    return 0.8 * np.sin(2 * np.pi * t[:, None] / 20.0 + PHASES[None, :])


def brax_return(backend: str, actions: np.ndarray) -> float:
    from brax import envs

    env = envs.get_environment("halfcheetah", backend=backend)
    state = env.reset(jax.random.key(0))  # then start exactly at rest, as the gymnasium run
    pipeline = env.pipeline_init(env.sys.init_q, jnp.zeros(env.sys.qd_size()))
    state = state.replace(pipeline_state=pipeline, obs=env._get_obs(pipeline))

    def step(s, a):
        s = env.step(s, a)
        return s, s.reward

    _, rewards = jax.jit(lambda s, a: jax.lax.scan(step, s, a))(state, jnp.asarray(actions))
    return float(np.sum(rewards))


def brax_throughput(backend: str, n_envs: int = 256, n_steps: int = 100) -> float:
    from brax import envs

    env = envs.get_environment("halfcheetah", backend=backend)
    states = jax.vmap(env.reset)(jax.random.split(jax.random.key(0), n_envs))

    @jax.jit
    def run(s):
        def step(s, t):
            a = jnp.sin(t * 0.3 + jnp.arange(6.0)) * jnp.ones((n_envs, 6))
            return jax.vmap(env.step)(s, a), None

        return jax.lax.scan(step, s, jnp.arange(n_steps, dtype=jnp.float32))[0]

    jax.block_until_ready(run(states))
    return n_envs * n_steps / timed(lambda: jax.block_until_ready(run(states)))


def gym_return(actions: np.ndarray) -> float:
    import gymnasium as gym

    env = gym.make("HalfCheetah-v5")
    env.reset(seed=0)
    env.unwrapped.set_state(env.unwrapped.init_qpos, env.unwrapped.init_qvel)
    total = 0.0
    for a in actions:
        total += env.step(a)[1]
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--write")
    parser.add_argument("--backends", default=",".join(BACKENDS))
    args = parser.parse_args()
    policies = {"sinusoid gait": gait(np.arange(1000.0)), "zero actions": np.zeros((1000, 6))}
    lines = header("Brax backends for halfcheetah: throughput and return scale vs C MuJoCo")
    lines += [f"- versions: {package_versions('brax', 'jax', 'mujoco', 'gymnasium')}", ""]
    lines += [
        "| simulator | 256-env steps/s | return: sinusoid gait | return: zero actions |",
        "|---|---|---|---|",
    ]
    ref = {k: gym_return(v) for k, v in policies.items()}
    lines.append(
        f"| gymnasium HalfCheetah-v5 (C MuJoCo, 1 env) | - | "
        f"{ref['sinusoid gait']:.1f} | {ref['zero actions']:.1f} |"
    )
    print(lines[-1], flush=True)
    for backend in args.backends.split(","):
        sps = brax_throughput(backend)
        rets = {k: brax_return(backend, v) for k, v in policies.items()}
        lines.append(
            f"| brax {backend} | {sps:,.0f} | {rets['sinusoid gait']:.1f} | "
            f"{rets['zero actions']:.1f} |"
        )
        print(lines[-1], flush=True)
    print("\n".join(lines))
    if args.write:
        write_section(args.write, "mabrax_backends", lines)


if __name__ == "__main__":
    main()
