"""A PyTorch reference implementation of one DOM2 update (benchmarks and the equivalence test).

`TorchDOM2(config.algo, n_agents, obs_dim, act_dim)`: agents updated one after another in Python,
as PyTorch DOM2 / Diffusion-QL / OMAR code does; `convert` copies dom2-jax (flax) weights in.
Needs `torch` (the `bench` extra).
"""

from benchmarks.pytorch_reference.convert import (
    load_dom2_state,
    load_flax,
    stacked_flax_agents,
    to_flax,
)
from benchmarks.pytorch_reference.dom2 import AgentBatch, AgentDraws, TorchDOM2

__all__ = [
    "AgentBatch",
    "AgentDraws",
    "TorchDOM2",
    "load_dom2_state",
    "load_flax",
    "stacked_flax_agents",
    "to_flax",
]
