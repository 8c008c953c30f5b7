"""Learning curves: the reported score of a run and whether it converged (pure numpy).

A curve is `[n_seeds, n_evals]`: one evaluation (mean over episodes) every `eval_interval`
updates. Definitions used by every table of the project:

- **reported score** (`reported_score`): per seed, the mean of the last `REPORT_LAST_EVALS`
  (= 3) evaluations, so one lucky or unlucky evaluation does not decide a cell;
- **converged** (`convergence`): over the last `window` (20%) of the evaluations, the drift of
  the seed-mean curve (least-squares slope times the window's span) is at most the curve's seed
  spread (the std over seeds at an evaluation, averaged over the window; for one seed, the std
  of the window's values), or at most `floor` (the curve's unit, e.g. 1 normalised point) when
  both are tiny.
  A curve still climbing (or collapsing) by more than its noise is not converged.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from dom2_jax.config import REPORT_LAST_EVALS

CONVERGENCE_WINDOW = 0.2
CONVERGENCE_FLOOR = 1.0


def _curve(values) -> np.ndarray:
    curve = np.asarray(values, np.float64)
    if curve.ndim == 1:
        curve = curve[None]
    if curve.ndim != 2 or curve.shape[1] == 0:
        raise ValueError(f"a curve must be [n_seeds, n_evals] with n_evals >= 1, got {curve.shape}")
    return curve


def reported_score(values, last: int = REPORT_LAST_EVALS) -> np.ndarray:
    """`[n_seeds]`: the mean of each seed's last `last` evaluations (fewer if the curve is
    shorter)."""
    curve = _curve(values)
    return curve[:, -last:].mean(axis=1)


class Convergence(NamedTuple):
    converged: bool
    drift: float  # |slope| x span of the window, in the curve's unit
    spread: float  # seed spread (or the window's own std with one seed)
    window: int  # evaluations in the window


def convergence(
    values,
    steps=None,
    window: float = CONVERGENCE_WINDOW,
    floor: float = CONVERGENCE_FLOOR,
) -> Convergence:
    """Whether the last `window` of a `[n_seeds, n_evals]` curve moved less than its noise.

    `steps` (the updates of each evaluation) default to 0, 1, 2, ...; a curve with fewer than 3
    evaluations cannot show a plateau and is never converged.
    """
    curve = _curve(values)
    n = curve.shape[1]
    steps = np.arange(n, dtype=np.float64) if steps is None else np.asarray(steps, np.float64)
    if steps.shape != (n,):
        raise ValueError(f"steps must have one entry per evaluation ({n}), got {steps.shape}")
    size = max(2, math.ceil(window * n))
    if n < 3:
        return Convergence(False, math.nan, math.nan, min(size, n))
    x, y = steps[-size:], curve[:, -size:]
    mean = y.mean(axis=0)
    slope = np.polyfit(x, mean, 1)[0]
    drift = float(abs(slope) * (x[-1] - x[0]))
    if curve.shape[0] > 1:
        spread = float(np.mean(np.std(y, axis=0, ddof=1)))
    else:
        spread = float(np.std(mean, ddof=1))
    return Convergence(bool(drift <= max(spread, floor)), drift, spread, size)
