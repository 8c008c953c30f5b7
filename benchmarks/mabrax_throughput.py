"""MaMuJoCo on brax: throughput of vmapped `halfcheetah_2x3` vs C MuJoCo, and the return scale.

Two tables from one run on one machine:

1. Steps/s. `dom2_jax.envs.make("halfcheetah_2x3", backend=b)` stepped as one jitted `lax.scan`
   over a `vmap` of N envs (compile excluded; best of `--repeats`), for every brax backend at
   `--batch` (and at all `--sizes` for the default backend), next to the raw single-agent brax
   env (our wrapper's cost) and gymnasium's HalfCheetah-v5 (C MuJoCo) stepped in a Python loop.
2. Return scale. 1000-step returns of fixed joint-action sequences, run from the model's exact
   initial pose at rest in every simulator: zero actions, uniform random actions (mean over
   numpy seeds 0-3) and `--gaits` open-loop sinusoid gaits `a_j(t) = A sin(2 pi f t dt + phase_j)`
   with A, f, phases drawn from numpy seed 1. Brax runs through our multi-agent env (the team
   reward, agent actions from the same joint actions); C MuJoCo through gymnasium's HalfCheetah-v5.

    python -m benchmarks.mabrax_throughput [--write benchmarks/RESULTS.md]
"""

from __future__ import annotations

import argparse
import os
import time

import jax
import jax.numpy as jnp
import numpy as np

from benchmarks.common import best_seconds, header, package_versions, write_section

EPISODE = 1000


# ----- policies (joint actions, brax/gymnasium actuator order) -----------------------------------
def policies(n_gaits: int, n_random: int = 4, dt: float = 0.05) -> dict[str, np.ndarray]:
    """name -> `[EPISODE, 6]` joint actions in [-1, 1]."""
    t = np.arange(EPISODE)[:, None] * dt
    out = {
        "zero": np.zeros((EPISODE, 6)),
    }
    for k in range(n_random):
        out[f"random{k}"] = np.random.default_rng(k).uniform(-1, 1, (EPISODE, 6))
    rng = np.random.default_rng(1)
    for k in range(n_gaits):
        amp, freq = rng.uniform(0.5, 1.0), rng.uniform(1.0, 4.0)  # Hz
        out[f"gait{k}"] = amp * np.sin(2 * np.pi * freq * t + rng.uniform(0, 2 * np.pi, 6))
    return out


def gym_returns(actions: dict[str, np.ndarray]) -> dict[str, float]:
    import gymnasium as gym

    env = gym.make("HalfCheetah-v5")
    out = {}
    for name, acts in actions.items():
        env.reset(seed=0)
        env.unwrapped.set_state(env.unwrapped.init_qpos, np.zeros_like(env.unwrapped.init_qvel))
        out[name] = float(sum(env.step(a)[1] for a in acts))
    return out


def gym_steps_per_s(n_steps: int) -> float:
    import gymnasium as gym

    env = gym.make("HalfCheetah-v5")
    env.reset(seed=0)
    acts = np.random.default_rng(0).uniform(-1, 1, (n_steps, 6))
    start = time.perf_counter()
    for a in acts:
        env.step(a)  # 1000-step episodes never terminate; the TimeLimit truncates only
    return n_steps / (time.perf_counter() - start)


def env_returns(env, params, actions: dict[str, np.ndarray]) -> dict[str, float]:
    """Team returns of our env from the exact initial pose at rest, vmapped over the policies."""
    acts = jnp.asarray(np.stack(list(actions.values())), jnp.float32)  # [policies, T, 6]
    local = jax.vmap(jax.vmap(env.local_actions))(acts)  # [policies, T, n_agents, act_dim]

    def rollout(local_acts):
        sys = env.base_sys
        _, state = env.reset_to(jnp.asarray(sys.init_q), jnp.zeros(sys.qd_size()), params)

        def body(s, a):
            _, s, r, _, _ = env.step(jax.random.key(0), s, a, params)
            return s, r[0]

        return jnp.sum(jax.lax.scan(body, state, local_acts)[1])

    totals = jax.jit(jax.vmap(rollout))(local)  # policies
    return dict(zip(actions, np.asarray(totals).tolist(), strict=True))


def env_steps_per_s(env, params, n_envs: int, budget: int, repeats: int) -> float:
    n_steps = min(max(20, budget // n_envs), EPISODE)
    keys = jax.random.split(jax.random.key(0), n_envs)
    _, states = jax.vmap(env.reset, in_axes=(0, None))(keys, params)
    phase = jnp.arange(n_envs, dtype=jnp.float32)[:, None, None]

    @jax.jit
    def run(s):
        def body(s, t):
            a = 0.8 * jnp.sin(0.3 * t + phase + jnp.arange(env.act_dim))
            a = jnp.broadcast_to(a, (n_envs, env.n_agents, env.act_dim))
            s = jax.vmap(env.step, in_axes=(None, 0, 0, None))(jax.random.key(0), s, a, params)[1]
            return s, None

        return jax.lax.scan(body, s, jnp.arange(n_steps, dtype=jnp.float32))[0]

    jax.block_until_ready(run(states))  # compile
    return n_envs * n_steps / best_seconds(lambda: jax.block_until_ready(run(states)), repeats)


def raw_brax_steps_per_s(backend: str, n_envs: int, budget: int, repeats: int) -> float:
    """The single-agent brax env alone (no multi-agent wrapper, no params): our wrapper's cost."""
    from brax import envs

    env = envs.get_environment("halfcheetah", backend=backend)
    n_steps = min(max(20, budget // n_envs), EPISODE)
    states = jax.vmap(env.reset)(jax.random.split(jax.random.key(0), n_envs))
    phase = jnp.arange(n_envs, dtype=jnp.float32)[:, None]

    @jax.jit
    def run(s):
        def body(s, t):
            return jax.vmap(env.step)(s, 0.8 * jnp.sin(0.3 * t + phase + jnp.arange(6.0))), None

        return jax.lax.scan(body, s, jnp.arange(n_steps, dtype=jnp.float32))[0]

    jax.block_until_ready(run(states))
    return n_envs * n_steps / best_seconds(lambda: jax.block_until_ready(run(states)), repeats)


def main() -> None:
    from dom2_jax.envs import mabrax

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--write", help="markdown file to write the tables into (a section)")
    parser.add_argument("--backends", default=",".join(mabrax.BACKENDS))
    parser.add_argument("--sizes", default="1,64,256", help="batch sizes, default backend")
    parser.add_argument("--batch", type=int, default=256, help="batch size for other backends")
    parser.add_argument("--budget", type=int, default=25_600, help="env steps per timing")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--gaits", type=int, default=8)
    args = parser.parse_args()
    backends = args.backends.split(",")
    sizes = [int(s) for s in args.sizes.split(",")]

    lines = header("MaMuJoCo halfcheetah_2x3 on brax: throughput and return scale vs C MuJoCo")
    lines += [f"- versions: {package_versions('brax', 'jax', 'mujoco', 'gymnasium')}"]
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    lines += [f"- load average at start (1/5/15 min; other processes share the CPU): {load}"]
    lines += [
        f"- timing: jitted scan over vmapped envs, compile excluded, best of "
        f"{args.repeats}, ~{args.budget} env steps per timing; C MuJoCo: one "
        f"gymnasium HalfCheetah-v5 in a Python loop",
        "",
    ]
    rows = ["| simulator | envs | steps/s |", "|---|---|---|"]
    gym_sps = gym_steps_per_s(args.budget)
    rows.append(f"| gymnasium HalfCheetah-v5 (C MuJoCo, Python loop) | 1 | {gym_sps:,.0f} |")
    print(rows[-1], flush=True)
    for backend in backends:
        env, params = mabrax.halfcheetah_2x3(backend=backend), None
        params = env.default_params()
        default = backend == mabrax.DEFAULT_BACKEND
        for n in sizes if default else [args.batch]:
            sps = env_steps_per_s(env, params, n, args.budget, args.repeats)
            tag = " (default)" if default else ""
            rows.append(f"| dom2-jax halfcheetah_2x3, brax {backend}{tag} | {n} | {sps:,.0f} |")
            print(rows[-1], flush=True)
        if default:
            sps = raw_brax_steps_per_s(backend, args.batch, args.budget, args.repeats)
            rows.append(
                f"| raw brax halfcheetah, {backend} (no wrapper) | {args.batch} | {sps:,.0f} |"
            )
            print(rows[-1], flush=True)

    acts = policies(args.gaits)
    gaits = [k for k in acts if k.startswith("gait")]
    randoms = [k for k in acts if k.startswith("random")]
    ref = gym_returns(acts)
    ret_rows = [
        "| simulator | zero | random (mean of 4) | gaits: mean | gaits: mean abs diff to C MuJoCo "
        "| gaits: corr. with C MuJoCo |",
        "|---|---|---|---|---|---|",
    ]

    def ret_row(label: str, r: dict[str, float]) -> str:
        g, g_ref = np.array([r[k] for k in gaits]), np.array([ref[k] for k in gaits])
        corr = np.corrcoef(g, g_ref)[0, 1] if len(gaits) > 1 else float("nan")
        return (
            f"| {label} | {r['zero']:.1f} | {np.mean([r[k] for k in randoms]):.1f} | "
            f"{g.mean():.1f} | "
            f"{np.abs(g - g_ref).mean():.1f} | {corr:.2f} |"
        )

    ret_rows.append(ret_row("gymnasium HalfCheetah-v5 (C MuJoCo)", ref))
    print(ret_rows[-1], flush=True)
    per_gait = {"C MuJoCo": ref}
    for backend in backends:
        env = mabrax.halfcheetah_2x3(backend=backend)
        r = env_returns(env, env.default_params(), acts)
        per_gait[f"brax {backend}"] = r
        ret_rows.append(ret_row(f"dom2-jax halfcheetah_2x3, brax {backend}", r))
        print(ret_rows[-1], flush=True)
    gait_rows = ["| gait | " + " | ".join(per_gait) + " |", "|---" * (len(per_gait) + 1) + "|"]
    gait_rows += [
        f"| {k} | " + " | ".join(f"{r[k]:.1f}" for r in per_gait.values()) + " |" for k in gaits
    ]

    lines += ["Throughput (env steps/s; one env step = 5 MuJoCo-equivalent 0.01 s frames):", ""]
    lines += rows + [
        "",
        "1000-step returns of fixed joint actions from the same initial pose "
        "(team reward = single-agent reward):",
        "",
    ]
    lines += ret_rows + ["", "Per gait:", ""] + gait_rows
    print("\n".join(lines))
    if args.write:
        write_section(args.write, "mabrax_throughput", lines)


if __name__ == "__main__":
    main()
