"""Pieces every algorithm shares: target updates, TD targets and losses, TD3 target smoothing,
the CQL penalty, a gradient step."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

import jax
import jax.numpy as jnp
import optax

if TYPE_CHECKING:
    import distrax


def soft_update(target, online, tau: float):
    """Polyak averaging: `tau * online + (1 - tau) * target`, leaf by leaf."""
    return jax.tree.map(lambda t, o: tau * o + (1.0 - tau) * t, target, online)


def ema_update(ema, online, step: jax.Array, decay: float, every: int, start: int):
    """Diffusion-QL's actor EMA: copy before `start`, then EMA every `every` updates."""
    mixed = soft_update(ema, online, 1.0 - decay)
    use = jnp.where(step < start, 0, jnp.where(step % every == 0, 1, 2))
    return jax.tree.map(
        lambda o, m, e: jnp.select([use == 0, use == 1], [o, m], e), online, mixed, ema
    )


def td_target(reward: jax.Array, terminal: jax.Array, next_q: jax.Array, gamma: float):
    """`r + gamma (1 - terminal) Q'`: truncations bootstrap, only true terminals cut."""
    return reward + gamma * (1.0 - terminal.astype(jnp.float32)) * next_q


N_CRITICS = 2  # twin critics (TD3 / Diffusion-QL): the minimum of two curbs overestimation


def td3_target(rewards, terminals, next_q_twins: jax.Array, gamma: float) -> jax.Array:
    """`r + gamma (1 - terminal) min(Q1', Q2')`; `next_q_twins [2, ...]` (clipped double Q)."""
    return td_target(rewards, terminals, jnp.min(next_q_twins, axis=0), gamma)


def twin_td_loss(q: jax.Array, target: jax.Array) -> jax.Array:
    """`sum_k mean_B (Q_k - y)^2` over the twins `q [N_CRITICS, B]` against one target `[B]`."""
    return jnp.sum(jnp.mean((q - target) ** 2, axis=1))


def gaussian_noise(noise_std: float) -> distrax.Normal:
    """`N(0, noise_std^2)`, one independent draw per action dimension (`sample_shape`): TD3's
    target smoothing and the behaviour policies' exploration. `sample(seed=k, sample_shape=s)`
    gives the bits of `noise_std * jax.random.normal(k, s)` (`tests/algos/test_matd3.py`).

    distrax is imported here, when a program is built: importing it (with TensorFlow
    Probability) is a second of every command's start, errors included."""
    import distrax

    return distrax.Normal(0.0, noise_std)


def smoothed_target_actions(
    target_actions: jax.Array, key: jax.Array, noise_std: float, noise_clip: float, act_mask
) -> jax.Array:
    """TD3 target policy smoothing: `clip(mubar(o') + clip(eps, -c, c), -1, 1)`, eps ~ N(0, s^2)."""
    eps = gaussian_noise(noise_std).sample(seed=key, sample_shape=target_actions.shape)
    noise = jnp.clip(eps, -noise_clip, noise_clip)
    return jnp.clip(target_actions + noise, -1.0, 1.0) * act_mask


def select(use_new: jax.Array, new, old):
    """`new` where `use_new`, else `old`, leaf by leaf (TD3's delayed updates)."""
    return jax.tree.map(lambda n, o: jnp.where(use_new, n, o), new, old)


CQL_POLICY_NOISE = 0.2  # std of the Gaussian around policy actions (OMAR: cql_sample_noise_level)


def noisy_policy_actions(
    actions: jax.Array,  # [B, act_dim] the policy's actions (centres; no gradient flows back)
    key: jax.Array,
    n_samples: int,
    act_mask: jax.Array,  # [act_dim] bool: real action dimensions
    noise_std: float = CQL_POLICY_NOISE,
) -> tuple[jax.Array, jax.Array]:
    """OMAR's `get_policy_actions`: `n_samples` copies `clip(a + eps, -1, 1)`, `eps ~ N(0, s^2)`,
    and the log-density `log N(eps; 0, s^2)` of each over the real dimensions.

    Returns `(actions [n_samples, B, act_dim], log_density [n_samples, B])`. As in OMAR's release
    the density is the noise's, taken before the clip to [-1, 1]; padded dimensions get no noise
    and no density. The centres are held fixed (`stop_gradient`).
    """
    mask = act_mask.astype(jnp.float32)
    centre = jax.lax.stop_gradient(actions)
    noise = jax.random.normal(key, (n_samples, *centre.shape)) * noise_std * mask
    noisy = jnp.clip(centre + noise, -1.0, 1.0) * mask
    z = noise / noise_std
    log_pdf = -0.5 * z**2 - jnp.log(noise_std) - 0.5 * jnp.log(2.0 * jnp.pi)
    return noisy, jnp.sum(log_pdf * mask, axis=-1)


def cql_proposals(
    key: jax.Array,
    data_actions: jax.Array,  # [B, act_dim]
    n_samples: int,
    act_mask: jax.Array,  # [act_dim] bool: real action dimensions
    policy_actions: Sequence[jax.Array] = (),  # each [B, act_dim]
    noise_std: float = CQL_POLICY_NOISE,
) -> tuple[jax.Array, jax.Array]:
    """The actions one critic's CQL term scores, `[S, B, act_dim]`, and the log-density of the
    proposal each came from, `[S, B]` (S = `n_samples * (1 + len(policy_actions))`): first
    `n_samples` uniform draws on `[-1, 1]^|A|`, then `n_samples` noisy copies of each array in
    `policy_actions` (`noisy_policy_actions`, key `fold_in(key, i + 1)`). See `cql_penalty`."""
    batch, act_dim = data_actions.shape
    random = jax.random.uniform(key, (n_samples, batch, act_dim), minval=-1.0, maxval=1.0)
    actions = [random * act_mask]
    log_density = [jnp.full((n_samples, batch), jnp.sum(act_mask) * jnp.log(0.5))]
    for i, centre in enumerate(policy_actions):  # proposal sets (o, o')
        noisy, log_pdf = noisy_policy_actions(
            centre, jax.random.fold_in(key, i + 1), n_samples, act_mask, noise_std
        )
        actions.append(noisy)
        log_density.append(log_pdf)
    return jnp.concatenate(actions, axis=0), jnp.concatenate(log_density, axis=0)


def cql_from_q(q_proposals: jax.Array, log_density: jax.Array, q_data: jax.Array) -> jax.Array:
    """`mean_B [logsumexp_S (Q(o, a_s) - log p(a_s)) - Q(o, a_data)]` from the critic's values:
    `q_proposals [..., S, B]` (on `cql_proposals`' actions), `log_density [S, B]`,
    `q_data [..., B]`; returns `[...]`."""
    lse = jax.scipy.special.logsumexp(q_proposals - log_density, axis=-2)
    return jnp.mean(lse - q_data, axis=-1)


def cql_penalty(
    q_fn: Callable[[jax.Array, jax.Array], jax.Array],
    obs: jax.Array,  # [B, obs_dim]
    data_actions: jax.Array,  # [B, act_dim]
    key: jax.Array,
    n_samples: int,
    act_mask: jax.Array,  # [act_dim] bool: real action dimensions
    policy_actions: Sequence[jax.Array] = (),  # each [B, act_dim]
    noise_std: float = CQL_POLICY_NOISE,
) -> jax.Array:
    """OMAR's MA-CQL regulariser for one critic `q_fn(obs, actions) -> [B]`, averaged over the
    batch.

    Uniform form (OMAR's MPE code; no `policy_actions`):
    `logsumexp_k(Q(o, a_k) - log p_U(a_k)) - Q(o, a_data)` with `a_k ~ U[-1, 1]^|A|` (density
    `0.5^|A|`, |A| the real action size), CQL(H) with the uniform proposal as in OMAR's release.
    Positive when Q rates random actions above the data's; minimising it pushes Q down off-data.

    Mixed form (OMAR's HalfCheetah code, CQL(H) with CQL's own mixed proposals): every array in
    `policy_actions` (the current policy's actions at o and at o', no gradient) adds `n_samples`
    noisy copies (`noisy_policy_actions`), each corrected by its Gaussian log-density; all
    `n_samples * (1 + len(policy_actions))` terms share one logsumexp. As in the OMAR and CQL
    releases every sample is scored at o, including those drawn from the policy at o'. (OMAR's
    release subtracts the Gaussian *density* where it names a log-density; here it is the log.)
    The training code uses `twin_cql_penalty`, the same numbers in one batched critic call.
    """
    actions, log_density = cql_proposals(
        key, data_actions, n_samples, act_mask, policy_actions, noise_std
    )
    q = jax.vmap(q_fn, in_axes=(None, 0))(obs, actions)  # [S, B]
    return cql_from_q(q, log_density, q_fn(obs, data_actions))


def twin_cql_penalty(
    q_sets: Callable[[jax.Array], jax.Array],
    data_actions: jax.Array,  # [B, act_dim]
    key: jax.Array,
    n_samples: int,
    act_mask: jax.Array,
    policy_actions: Sequence[jax.Array] = (),
) -> tuple[jax.Array, jax.Array]:
    """`cql_penalty` summed over the `N_CRITICS` twin critics, each with its own random draws
    (`fold_in(key, k)`): the MA-CQL term of DOM2, MA-CQL and OMAR. `policy_actions` (shared by
    both critics) selects the mixed form, see `cql_penalty`.

    `q_sets(actions [N_CRITICS, S, B, act_dim]) -> [N_CRITICS, S, B]` scores each critic's own
    action sets at the batch's observations (`nets.critics.ensemble_q`): the data action and
    every proposal go through the critics in that one call. Returns `(penalty, q_data)`, with
    `q_data [N_CRITICS, B]` the critics' Q of the data action, which the TD loss reuses.
    """
    proposals = [
        cql_proposals(jax.random.fold_in(key, k), data_actions, n_samples, act_mask, policy_actions)
        for k in range(N_CRITICS)
    ]
    actions = jnp.stack([a for a, _ in proposals])  # [N_CRITICS, S, B, act_dim]
    log_density = jnp.stack([d for _, d in proposals])  # [N_CRITICS, S, B]
    data = jnp.broadcast_to(data_actions, (N_CRITICS, 1, *data_actions.shape))
    q = q_sets(jnp.concatenate([data, actions], axis=1))  # [N_CRITICS, 1 + S, B]
    q_data = q[:, 0]
    penalty = jax.vmap(cql_from_q)(q[:, 1:], log_density, q_data)  # critics
    return jnp.sum(penalty), q_data


def masked_mse(x: jax.Array, y: jax.Array, act_mask: jax.Array) -> jax.Array:
    """Mean squared error over a batch `[B, act_dim]` and the real action dimensions only."""
    mask = act_mask.astype(x.dtype)
    return jnp.sum((x - y) ** 2 * mask) / (x.shape[0] * jnp.maximum(jnp.sum(mask), 1.0))


def clipped_adam(lr: float, grad_clip: float | None) -> optax.GradientTransformation:
    """Adam after a global gradient-norm clip (`grad_clip` None: no clip)."""
    adam = optax.adam(lr)
    return adam if grad_clip is None else optax.chain(optax.clip_by_global_norm(grad_clip), adam)


class GradientStep(NamedTuple):
    params: Any
    opt_state: Any
    loss: jax.Array
    aux: Any  # the loss's aux dict (None: none)
    grad_norm: jax.Array


def gradient_step(loss_fn, params, opt_state, optimizer, *args) -> GradientStep:
    """One optimiser step on `loss_fn(params, *args) -> (loss, aux)`; returns grad norm too."""
    (loss, aux), grads = jax.value_and_grad(loss_fn, has_aux=True)(params, *args)
    updates, opt_state = optimizer.update(grads, opt_state, params)
    params = optax.apply_updates(params, updates)
    return GradientStep(params, opt_state, loss, aux, optax.tree.norm(grads))


def step_metrics(**steps: GradientStep) -> dict[str, jax.Array]:
    """`<name>_loss` and `<name>_grad_norm` of each named step, plus every step's aux entries."""
    metrics = {}
    for name, step in steps.items():
        metrics |= {f"{name}_loss": step.loss, f"{name}_grad_norm": step.grad_norm}
    for step in steps.values():
        metrics |= step.aux or {}
    return metrics


def critic_then_actor(
    learner, critic_loss, critic_tx, critic_args, actor_loss, actor_tx, actor_args
) -> tuple[GradientStep, GradientStep, dict[str, jax.Array]]:
    """The actor-critic step DOM2 and the TD3 family share: a critic step on
    `critic_loss(critic, *critic_args)`, then an actor step on `actor_loss(actor, new critic,
    *actor_args)`. `learner` has `critic`, `critic_opt`, `actor`, `actor_opt`. Returns both steps
    and their metrics."""
    c = gradient_step(critic_loss, learner.critic, learner.critic_opt, critic_tx, *critic_args)
    a = gradient_step(actor_loss, learner.actor, learner.actor_opt, actor_tx, c.params, *actor_args)
    return c, a, step_metrics(critic=c, actor=a)
