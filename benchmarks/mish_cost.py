"""What the exact cheaper Mish (`dom2_jax.nets.activations.mish`) saves against `jax.nn.mish`.

Three measurements, each an A/B in one run (interleaved reps, so load drift hits both sides):
the activation alone (value and gradient of a CQL-sized `[2816, 256]` array: batch 256 x 11
actions), a 3x256 Mish critic's value-and-gradient on the same rows, and one compiled DOM2
training chunk (every network's Mish swapped, the trainer's real update) at the `cpu` and
`paper` presets. Reports the reference's time over ours: above 1 is a saving.

    python -m benchmarks.mish_cost [--write benchmarks/RESULTS.md] [--reps 5] [--updates 20]
"""

from __future__ import annotations

import argparse
import statistics

import jax
import jax.numpy as jnp
import numpy as np

from benchmarks.common import header, load_average, package_versions, timed, write_section
from dom2_jax.config import preset
from dom2_jax.data.generate import make_collect, to_dataset
from dom2_jax.envs import make
from dom2_jax.envs.rollout import random_policy
from dom2_jax.nets import mlp
from dom2_jax.nets.activations import mish
from dom2_jax.train import make_train, make_train_data, seed_keys

ROWS, WIDTH = 256 * 11, 256


def reference_mish(x):
    return x * jnp.tanh(jax.nn.softplus(x))


def activation_case(act):
    x = jax.random.normal(jax.random.key(0), (ROWS, WIDTH)) * 3.0
    f = jax.jit(jax.value_and_grad(lambda x: jnp.sum(act(x))))
    return lambda: jax.block_until_ready(f(x))


def critic_case(act):
    keys = jax.random.split(jax.random.key(1), 4)
    sizes = [(30, WIDTH), (WIDTH, WIDTH), (WIDTH, WIDTH), (WIDTH, 1)]
    ws = [jax.random.normal(k, s) / np.sqrt(s[0]) for k, s in zip(keys, sizes, strict=True)]
    x = jax.random.normal(jax.random.key(2), (ROWS, 30))

    def loss(ws):
        h = x
        for w in ws[:-1]:
            h = act(h @ w)
        return jnp.sum((h @ ws[-1]) ** 2)

    f = jax.jit(jax.value_and_grad(loss))
    return lambda: jax.block_until_ready(f(ws))


def dom2_case(act, preset_name: str, updates: int, dataset, env, params):
    """One compiled DOM2 chunk with every network's Mish set to `act` (traced at compile)."""
    config = preset(
        preset_name, level="random", algo="dom2", n_updates=updates, chunk_updates=updates,
        eval_episodes=1, n_seeds=1,
    )  # fmt: skip
    saved = mlp.ACTIVATIONS["mish"]
    mlp.ACTIVATIONS["mish"] = act
    try:
        fns = make_train(config, env, params)
        data = make_train_data(dataset, config.env, config)
        states = jax.vmap(fns.init)(seed_keys(0, 1))
        compiled = jax.jit(jax.vmap(fns.train_chunk, in_axes=(0, None))).lower(states, data)
        compiled = compiled.compile()
    finally:
        mlp.ACTIVATIONS["mish"] = saved
    return lambda: jax.block_until_ready(compiled(states, data))


def ab(reference, ours, reps: int) -> tuple[float, float, float]:
    """(median reference s, median ours s, median of the per-rep ratios reference / ours)."""
    reference(), ours()  # warm
    pairs = [(timed(reference), timed(ours)) for _ in range(reps)]
    ref, new = zip(*pairs, strict=True)
    return (
        statistics.median(ref),
        statistics.median(new),
        statistics.median(r / o for r, o in pairs),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--write", help="RESULTS.md to update")
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--updates", type=int, default=20, help="DOM2 updates per timed chunk")
    parser.add_argument("--presets", nargs="+", default=["cpu", "paper"])
    args = parser.parse_args()
    load = load_average()
    env, params = make("mpe_spread")
    traj = jax.jit(make_collect(env, params, random_policy(env), 100, 100))(jax.random.key(0))
    dataset = to_dataset(jax.tree.map(np.asarray, traj))
    cases = [
        ("Mish alone, value + gradient, [2816, 256]", activation_case),
        ("3x256 Mish critic, value + gradient, 2816 rows", critic_case),
    ] + [
        (
            f"DOM2 training chunk, `{p}` preset, {args.updates} updates",
            lambda act, p=p: dom2_case(act, p, args.updates, dataset, env, params),
        )
        for p in args.presets
    ]
    lines = header("Exact cheaper Mish against x * tanh(softplus(x)) (issue 15)")
    lines += [
        f"- versions: {package_versions('jax', 'jaxlib', 'flax')}",
        f"- {args.reps} interleaved timed reps per side after a warm call; the ratio is the "
        "median of the per-rep ratios (reference / ours: above 1 is faster)",
        f"- load average at start (1/5/15 min): {load} (other jobs on the CPU skew timings)",
        "",
    ]
    # absolute times only from an accelerator: on a shared CPU only the one-run ratio means much
    absolute = jax.default_backend() != "cpu"
    lines += (
        ["| case | reference ms | ours ms | speed-up |", "|---|---|---|---|"]
        if absolute
        else ["| case | speed-up |", "|---|---|"]
    )
    for name, build in cases:
        ref, new, ratio = ab(build(reference_mish), build(mish), args.reps)
        times = f" {1e3 * ref:.1f} | {1e3 * new:.1f} |" if absolute else ""
        lines.append(f"| {name} |{times} {ratio:.2f}x |")
        print(lines[-1], flush=True)
    print("\n".join(lines))
    if args.write:
        write_section(args.write, "mish_cost", lines)


if __name__ == "__main__":
    main()
