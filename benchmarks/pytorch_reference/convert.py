"""Weights between dom2-jax (flax) and the PyTorch reference: same layers, transposed kernels.

Flax `Dense` kernels are `[in, out]`, PyTorch `Linear` weights `[out, in]`. The flax trees of
dom2-jax stack agents (and twin critics) on leading axes; `load_dom2_state` takes agent j's slice.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
from torch import nn

from benchmarks.pytorch_reference.nets import MLP, NoiseNet, QNetwork


def _mlp_pairs(mlp: MLP) -> list[tuple[nn.Linear, tuple[str, ...]]]:
    layers = [*mlp.layers, mlp.out]
    return [(layer, ("MLP_0", f"Dense_{i}")) for i, layer in enumerate(layers)]


def linear_pairs(module: nn.Module) -> list[tuple[nn.Linear, tuple[str, ...]]]:
    """Each `nn.Linear` of a NoiseNet or QNetwork with its flax path under `params`."""
    if isinstance(module, NoiseNet):
        return [
            (module.time.fc1, ("TimeEmbedding_0", "Dense_0")),
            (module.time.fc2, ("TimeEmbedding_0", "Dense_1")),
            *_mlp_pairs(module.mlp),
        ]
    if isinstance(module, QNetwork):
        return _mlp_pairs(module.mlp)
    raise TypeError(f"no flax layout known for {type(module).__name__}")


def _get(tree, path):
    for name in path:
        tree = tree[name]
    return tree


@torch.no_grad()
def load_flax(module: nn.Module, params, index: tuple[int, ...] = ()) -> None:
    """Copy flax `params` (`{'params': ...}`, leaves indexed by `index`) into `module`."""
    for linear, path in linear_pairs(module):
        leaf = _get(params["params"], path)
        kernel = np.asarray(leaf["kernel"])[index]
        bias = np.asarray(leaf["bias"])[index]
        linear.weight.copy_(torch.as_tensor(kernel.T.copy()))
        linear.bias.copy_(torch.as_tensor(bias.copy()))


def to_flax(module: nn.Module, value: Callable[[torch.Tensor], torch.Tensor] = lambda p: p) -> dict:
    """`{'params': ...}` numpy tree of `value(parameter)` for every parameter of `module`."""
    out: dict = {}
    for linear, path in linear_pairs(module):
        node = out
        for name in path:
            node = node.setdefault(name, {})
        node["kernel"] = value(linear.weight).detach().cpu().numpy().T
        node["bias"] = value(linear.bias).detach().cpu().numpy()
    return {"params": out}


def load_dom2_state(learners, agents) -> None:
    """Copy a dom2-jax `AgentLearner` pytree (leaves `[n_agents, ...]`) into a `TorchDOM2`.

    Networks and targets only; the optimisers keep their fresh state (use it on a freshly
    initialised dom2-jax state, whose Adam moments are zero too).
    """
    for j, agent in enumerate(learners.agents):
        load_flax(agent.actor, agents.actor, (j,))
        load_flax(agent.actor_ema, agents.actor_ema, (j,))
        for k, name in enumerate(("q1", "q2")):
            load_flax(getattr(agent.critic, name), agents.critic, (j, k))
            load_flax(getattr(agent.critic_target, name), agents.critic_target, (j, k))


def stacked_flax_agents(learners) -> dict[str, dict]:
    """A `TorchDOM2`'s networks as dom2-jax trees: `actor`, `actor_ema` `[n_agents, ...]`;
    `critic`, `critic_target` `[n_agents, 2, ...]` (the other direction of `load_dom2_state`)."""

    def stack(trees):
        return {"params": _stack_leaves([t["params"] for t in trees])}

    def twin(module):
        return stack([to_flax(module.q1), to_flax(module.q2)])

    return {
        "actor": stack([to_flax(a.actor) for a in learners.agents]),
        "actor_ema": stack([to_flax(a.actor_ema) for a in learners.agents]),
        "critic": stack([twin(a.critic) for a in learners.agents]),
        "critic_target": stack([twin(a.critic_target) for a in learners.agents]),
    }


def _stack_leaves(trees: list[dict]) -> dict:
    if isinstance(trees[0], dict):
        return {k: _stack_leaves([t[k] for t in trees]) for k in trees[0]}
    return np.stack(trees)
