"""Learning curves: the reported score and the convergence flag on synthetic curves."""

from __future__ import annotations

import numpy as np
import pytest

from dom2_jax.curves import convergence, reported_score


def test_reported_score_is_the_mean_of_the_last_three_evaluations():
    curve = np.array([[0.0, 10.0, 20.0, 30.0, 40.0], [1.0, 1.0, 2.0, 2.0, 5.0]])
    np.testing.assert_allclose(reported_score(curve), [30.0, 3.0])
    np.testing.assert_allclose(reported_score([[7.0, 9.0]]), [8.0])  # shorter than 3


def test_a_plateau_with_noise_is_converged():
    rng = np.random.default_rng(0)
    steps = np.arange(1, 21) * 500
    rise = 80.0 * (1.0 - np.exp(-steps / 1500.0))
    curve = rise + rng.normal(0.0, 3.0, (5, 20))
    flag = convergence(curve, steps)
    assert flag.converged and flag.window == 4
    assert flag.drift <= flag.spread or flag.drift <= 1.0


def test_a_climbing_curve_is_not_converged():
    steps = np.arange(1, 21) * 500
    curve = np.linspace(0.0, 100.0, 20) + np.random.default_rng(1).normal(0.0, 1.0, (5, 20))
    flag = convergence(curve, steps)
    assert not flag.converged
    assert flag.drift > 10.0 > flag.spread


def test_one_seed_uses_the_window_noise_and_short_curves_are_never_converged():
    flat = np.array([[50.0, 52.0, 49.0, 51.0, 50.0, 50.5, 49.5, 50.0, 51.0, 50.0]])
    assert convergence(flat).converged
    assert not convergence([[1.0, 2.0]]).converged
    with pytest.raises(ValueError, match="one entry per evaluation"):
        convergence(flat, steps=[1, 2])
