"""Environment shifts: the 30-setting table, which params each shift edits, what dynamics change.

Every shift is checked twice: on the params (the named fields change, every other leaf of the
pytree is bit-identical) and on the simulator (a speed shift scales how far a learner moves under
the same actions, an immobilised learner stays put, a spawn shift scales landmark resets, a size
shift creates contacts, a prey shift moves only the prey, HalfCheetah's gear/mass/friction shifts
change a fixed-action trajectory). MPE entity order (learners, then the prey, then landmarks) is
taken from the env objects, not from `shifts`.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from dom2_jax.envs import make, shifts

MPE = ("mpe_spread", "mpe_tag", "mpe_world")
HC = "halfcheetah_2x3"


@pytest.fixture(scope="module")
def envs():
    """name -> (env, default params); HalfCheetah (brax) is built once for the module."""
    return {name: make(name) for name in (*MPE, HC)}


def leaves(params) -> dict[str, np.ndarray]:
    return {
        jax.tree_util.keystr(path): np.asarray(leaf)
        for path, leaf in jax.tree_util.tree_leaves_with_path(params)
    }


# ----- the table ---------------------------------------------------------------------------------
def test_registry_has_the_30_settings():
    assert len(shifts.SHIFTS) == 30
    assert {env: len(shifts.shifts_for(env)) for env in (*MPE, HC)} == {
        "mpe_spread": 8,
        "mpe_tag": 8,
        "mpe_world": 8,
        HC: 6,
    }
    for env in (*MPE, HC):
        names = [s.name for s in shifts.shifts_for(env)]
        assert len(set(names)) == len(names) and shifts.UNSHIFTED not in names
        for s in shifts.shifts_for(env):
            assert s.env == env and s.description and s.fields
            assert shifts.get_shift(env, s.name) is s
    spread = {s.name for s in shifts.shifts_for("mpe_spread")}
    assert {"landmark_spawn_x0.5", "landmark_spawn_x1.5"} <= spread
    assert not any(n.startswith("prey") for n in spread)
    for env in ("mpe_tag", "mpe_world"):
        assert {"prey_speed_x0.75", "prey_speed_x1.25"} <= {s.name for s in shifts.shifts_for(env)}
    assert [s.magnitude for s in shifts.SHIFTS if s.family == "learner_speed"][:4] == [
        0.5,
        0.75,
        1.25,
        1.5,
    ]


def test_unknown_names_are_refused_with_the_valid_ones():
    with pytest.raises(ValueError, match="mpe_spread.*halfcheetah_2x3|halfcheetah_2x3.*mpe_"):
        shifts.shifts_for("mpe_nope")
    with pytest.raises(ValueError, match="learner_speed_x0.5"):
        shifts.get_shift("mpe_tag", "gravity_x2")
    with pytest.raises(ValueError, match="prey_speed_x0.75"):
        shifts.shift_batch("mpe_tag", None, ["nope"])


def test_apply_refuses_params_of_another_env(envs):
    with pytest.raises(TypeError, match="mpe_tag.*SpreadParams"):
        shifts.apply(shifts.get_shift("mpe_tag", "entity_size_x1.5"), envs["mpe_spread"][1])
    with pytest.raises(TypeError, match="WorldParams"):  # world params subclass tag's: exact type
        shifts.apply(shifts.get_shift("mpe_world", "prey_speed_x0.75"), envs["mpe_tag"][1])


def expected_edits(env, shift, params) -> dict[str, np.ndarray]:
    """The fields a shift must produce, written from the env's entity counts."""
    k = shift.magnitude
    mabrax = {"gear": "gear_scale", "mass": "mass_scale", "friction": "friction_scale"}
    if shift.family in mabrax:  # every actuator / body / geom
        field = mabrax[shift.family]
        return {field: np.asarray(getattr(params, field)) * k}
    n, a, e = env.n_agents, env.n_all_agents, env.n_entities
    accel, max_speed = np.asarray(params.accel).copy(), np.asarray(params.max_speed).copy()
    if shift.family == "learner_speed":
        accel[:n] *= k
        max_speed[:n] *= k
        return {"accel": accel, "max_speed": max_speed}
    if shift.family == "learner_immobilised":
        accel[0] = max_speed[0] = 0.0
        return {"accel": accel, "max_speed": max_speed}
    if shift.family == "prey_speed":
        assert a == n + 1  # one prey, after the learners
        accel[n:] *= k
        max_speed[n:] *= k
        return {"accel": accel, "max_speed": max_speed}
    if shift.family == "landmark_spawn":
        spawn = np.asarray(params.spawn_range).copy()
        spawn[a:e] *= k
        return {"spawn_range": spawn}
    assert shift.family == "entity_size"
    return {"size": np.asarray(params.size) * k}


@pytest.mark.parametrize("shift", shifts.SHIFTS, ids=lambda s: f"{s.env}-{s.name}")
def test_shift_changes_its_fields_and_only_those(envs, shift):
    env, params = envs[shift.env]
    before, after = leaves(params), leaves(shifts.apply(shift, params))
    assert before.keys() == after.keys()
    expected = expected_edits(env, shift, params)
    assert set(expected) == set(shift.fields)
    changed = {p for p in before if not np.array_equal(before[p], after[p])}
    # ...except where the edit is a no-op on the default: spread's learners have no speed cap
    # (max_speed inf), so learner_speed there changes accel only
    assert changed and changed == {
        f".{f}" for f, want in expected.items() if not np.array_equal(want, before[f".{f}"])
    }
    for field, want in expected.items():
        np.testing.assert_allclose(after[f".{field}"], want, rtol=1e-6)
        assert after[f".{field}"].dtype == before[f".{field}"].dtype


def test_stack_params_batches_every_leaf(envs):
    _, params = envs["mpe_tag"]
    names, batch = shifts.shift_batch("mpe_tag", params)
    assert names[0] == shifts.UNSHIFTED and len(names) == 9
    for path, leaf in leaves(batch).items():
        assert leaf.shape[0] == 9, path
        np.testing.assert_array_equal(leaf[0], leaves(params)[path])
    with pytest.raises(ValueError, match="structure"):
        shifts.stack_params([params, envs["mpe_spread"][1]])
    shift = shifts.get_shift("mpe_tag", "learner0_immobilised")
    traced = jax.jit(lambda p: shifts.apply(shift, p))(params)  # apply is traceable
    for path, leaf in leaves(traced).items():
        np.testing.assert_array_equal(leaf, leaves(batch)[path][names.index(shift.name)])


# ----- dynamics: MPE -----------------------------------------------------------------------------
def rollout_positions(env, n_steps):
    """`run(params) -> [n_steps + 1, n_entities, 2]` positions under fixed learner actions."""
    traces = []

    def run(params):
        traces.append(1)
        _, state = env.reset(jax.random.key(7), params)
        actions = jnp.tile(jnp.array([[1.0, 0.5]]), (env.n_agents, 1))

        def body(s, k):
            s = env.step(k, s, actions, params)[1]
            return s, s.pos

        _, pos = jax.lax.scan(body, state, jax.random.split(jax.random.key(1), n_steps))
        return jnp.concatenate([state.pos[None], pos])

    return run, traces


@pytest.fixture(scope="module")
def mpe_runs(envs):
    """env -> (names, positions [n_params, 4, n_entities, 2] from one vmapped call, traces, run)."""
    out = {}
    for name in MPE:
        env, params = envs[name]
        names, batch = shifts.shift_batch(name, params)
        run, traces = rollout_positions(env, n_steps=3)
        pos = np.asarray(jax.jit(jax.vmap(run))(batch))  # params
        out[name] = (names, pos, traces, run)
    return out


def displacement(pos, agents):
    return np.linalg.norm(pos[-1, agents] - pos[0, agents], axis=-1)


@pytest.mark.parametrize("name", MPE)
def test_vmapped_shift_batch_compiles_once_and_matches_each_shift(envs, mpe_runs, name):
    env, params = envs[name]
    names, pos, traces, run = mpe_runs[name]
    assert len(traces) == 1 and np.all(np.isfinite(pos))
    single = jax.jit(run)
    for i, shift_name in enumerate(names[1:], start=1):
        shifted = shifts.apply(shifts.get_shift(name, shift_name), params)
        np.testing.assert_allclose(pos[i], single(shifted), atol=1e-5, err_msg=shift_name)
    for i, shift_name in enumerate(names[1:], start=1):  # sizes matter only in contact
        assert shift_name == "entity_size_x1.5" or not np.allclose(pos[0], pos[i]), shift_name


@pytest.mark.parametrize("name", MPE)
def test_learner_speed_scales_the_distance_learners_move(envs, mpe_runs, name):
    env = envs[name][0]
    names, pos, _, _ = mpe_runs[name]
    learners = np.arange(env.n_agents)
    base = displacement(pos[0], learners)
    assert np.all(base > 0.05)
    for k in (0.5, 0.75, 1.25, 1.5):
        moved = displacement(pos[names.index(f"learner_speed_x{k}")], learners)
        # accel and max_speed both x k, from rest, no contacts: the whole path scales by k
        np.testing.assert_allclose(moved, k * base, rtol=1e-4)


@pytest.mark.parametrize("name", MPE)
def test_immobilised_learner_does_not_move(envs, mpe_runs, name):
    env = envs[name][0]
    names, pos, _, _ = mpe_runs[name]
    shifted = pos[names.index("learner0_immobilised")]
    np.testing.assert_array_equal(shifted[:, 0], shifted[0:1, 0].repeat(len(shifted), 0))
    np.testing.assert_allclose(shifted[:, 1 : env.n_agents], pos[0][:, 1 : env.n_agents])


@pytest.mark.parametrize("name", ("mpe_tag", "mpe_world"))
def test_prey_speed_moves_the_prey_only(envs, mpe_runs, name):
    env = envs[name][0]
    n = env.n_agents
    names, pos, _, _ = mpe_runs[name]
    base_step = np.linalg.norm(pos[0, 1, n] - pos[0, 0, n])
    assert base_step > 0
    for k in (0.75, 1.25):
        shifted = pos[names.index(f"prey_speed_x{k}")]
        np.testing.assert_allclose(shifted[:, :n], pos[0][:, :n], atol=1e-6)  # learners
        np.testing.assert_allclose(shifted[:, n + 1 :], pos[0][:, n + 1 :])  # landmarks
        # first step from rest: same observation, same prey action, k x the displacement
        first = np.linalg.norm(shifted[1, n] - shifted[0, n])
        np.testing.assert_allclose(first, k * base_step, rtol=1e-4)


def test_landmark_spawn_range_scales_the_landmark_reset(envs):
    env, params = envs["mpe_spread"]
    names, batch = shifts.shift_batch("mpe_spread", params)
    keys = jax.random.split(jax.random.key(3), 64)

    def resets(p):
        return jax.vmap(lambda k: env.reset(k, p)[1].pos)(keys)  # keys

    pos = np.asarray(jax.jit(jax.vmap(resets))(batch))  # params
    lm = slice(env.n_all_agents, env.n_entities)
    for k in (0.5, 1.5):
        shifted = pos[names.index(f"landmark_spawn_x{k}")]
        np.testing.assert_allclose(shifted[:, lm], k * pos[0][:, lm], rtol=1e-6)
        np.testing.assert_array_equal(shifted[:, : env.n_agents], pos[0][:, : env.n_agents])
        assert np.abs(shifted[:, lm]).max() <= k and np.abs(shifted[:, lm]).max() > 0.9 * k


@pytest.mark.parametrize("name", MPE)
def test_entity_size_creates_contacts(envs, name):
    """Learners 0 and 1 at 2.5 radii apart: untouched at size x1, pushed apart at x1.5."""
    env, params = envs[name]
    r = float(params.size[0])
    _, state = env.reset(jax.random.key(0), params)
    far = [[1.6 * np.cos(t), 1.6 * np.sin(t)] for t in np.linspace(0.5, 5.5, env.n_entities)]
    pos = np.asarray(far, np.float32)
    pos[0], pos[1] = (0.0, 0.0), (2.5 * r, 0.0)
    state = state.replace(pos=jnp.asarray(pos))
    zeros = jnp.zeros((env.n_agents, env.act_dim))

    @jax.jit
    def gap_after_step(p):
        s = env.step(jax.random.key(0), state, zeros, p)[1]
        return jnp.linalg.norm(s.pos[1] - s.pos[0])

    shifted = shifts.apply(shifts.get_shift(name, "entity_size_x1.5"), params)
    np.testing.assert_allclose(gap_after_step(params), 2.5 * r, rtol=1e-5)
    assert gap_after_step(shifted) > 2.5 * r + 1e-3


# ----- dynamics: HalfCheetah ---------------------------------------------------------------------
@pytest.fixture(scope="module")
def cheetah_runs(envs):
    """One mjx compilation: 5 fixed-action steps vmapped over unshifted + the 6 shifts."""
    env, params = envs[HC]
    names, batch = shifts.shift_batch(HC, params)
    traces = []

    def run(p):
        traces.append(1)
        _, state = env.reset(jax.random.key(0), p)

        def body(s, t):
            a = jnp.sin(0.5 * t + jnp.arange(6.0)).reshape(2, 3)
            return env.step(jax.random.key(0), s, a, p)[1], None

        final, _ = jax.lax.scan(body, state, jnp.arange(5, dtype=jnp.float32))
        return final.brax.pipeline_state.q

    compiled = jax.jit(jax.vmap(run))  # params
    return names, batch, compiled, np.asarray(compiled(batch)), traces


@pytest.mark.slow
def test_cheetah_shifts_change_the_trajectory_in_one_compilation(cheetah_runs):
    names, batch, compiled, q, traces = cheetah_runs
    assert np.all(np.isfinite(q)) and len(traces) == 1
    for i, name in enumerate(names[1:], start=1):
        assert np.abs(q[i] - q[0]).max() > 5e-3, name
    reordered = jax.tree.map(lambda x: x[::-1], batch)
    np.testing.assert_allclose(np.asarray(compiled(reordered)), q[::-1], atol=1e-5)
    assert len(traces) == 1
