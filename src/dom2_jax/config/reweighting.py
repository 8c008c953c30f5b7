"""`ReweightConfig`: DOM2's trajectory reweighting, and the lookup of the authors' thresholds.

Re-exported by `dom2_jax.config`; the thresholds are `config.tables.AUTHORS_THRESHOLDS`, the rule
itself is `dom2_jax.data.reweight`.
"""

from __future__ import annotations

from dataclasses import dataclass

from dom2_jax.config.tables import AUTHORS_QUANTILES, AUTHORS_THRESHOLDS
from dom2_jax.config.validation import require

REWEIGHT_RULES = ("authors", "quantile")
THRESHOLD_KINDS = ("absolute", "quantile")


@dataclass(frozen=True)
class ReweightConfig:
    """Trajectory-based reweighting (DOM2's data scheme, notes.md section 2).

    Replicating episode e `c_e` times and sampling uniformly is sampling its transitions with
    weight `c_e` (`data.reweight`; no array is copied).

    - `rule="authors"` (default): the DOM2 authors' rule. Each agent's *own* episode return R
      (so each agent samples from its own distribution), `c = 1 + sum_k [R > th_k]` with the
      thresholds of `AUTHORS_THRESHOLDS[env][level]` (absolute returns or return quantiles; none
      on random data), unless `thresholds` / `threshold_kind` override them.
    - `rule="quantile"`: our earlier guess. The team return (`team_return`), shared by all agents,
      `c = 1 + sum_k extra_k [R >= quantile_k(R)]`; defaults top 50% x2, top 20% x5, top 5% x10.
    """

    enabled: bool = True
    rule: str = "authors"
    team_returns: bool = False
    """`authors` rule on the team return, one distribution shared by all agents (what a
    centralised critic, which trains on joint transitions, needs); False: each agent's own."""
    thresholds: tuple[float, ...] | None = None
    """`authors` rule: override the table's thresholds (None: `AUTHORS_THRESHOLDS`)."""
    threshold_kind: str = "absolute"
    """Kind of an explicit `thresholds` override: absolute returns or return quantiles."""
    quantiles: tuple[float, ...] = (0.5, 0.8, 0.95)
    """`quantile` rule: team-return quantiles."""
    extra: tuple[int, ...] = (1, 3, 5)
    """`quantile` rule: extra copies per quantile cleared."""

    def __post_init__(self):
        require(self.rule in REWEIGHT_RULES, "rule", f"must be one of {REWEIGHT_RULES}")
        require(
            self.threshold_kind in THRESHOLD_KINDS,
            "threshold_kind",
            f"must be one of {THRESHOLD_KINDS}",
        )
        require(len(self.quantiles) == len(self.extra), "extra", "one per quantile")
        require(all(0.0 <= q < 1.0 for q in self.quantiles), "quantiles", "must be in [0, 1)")
        require(all(e >= 0 for e in self.extra), "extra", "must be >= 0")
        if self.thresholds is not None and self.threshold_kind == "quantile":
            require(
                all(0.0 <= q <= 1.0 for q in self.thresholds), "thresholds", "quantiles in [0, 1]"
            )

    @property
    def per_agent(self) -> bool:
        """Whether each agent samples with its own weights (the authors' rule)."""
        return self.enabled and self.rule == "authors" and not self.team_returns

    def authors_thresholds(self, env_name: str, level: str) -> tuple[str, tuple[float, ...]]:
        """(kind, thresholds) of the authors' rule for (env, level); the override if set."""
        if self.thresholds is not None:
            return self.threshold_kind, tuple(self.thresholds)
        table = AUTHORS_THRESHOLDS.get(env_name)
        if table is None:
            return "quantile", AUTHORS_QUANTILES  # an env the authors never ran
        if level not in table:
            raise ValueError(
                f"reweight: no authors' thresholds for {env_name}/{level} (config.tables."
                f"AUTHORS_THRESHOLDS has levels {sorted(table)}); pass thresholds= or "
                "rule='quantile'"
            )
        return table[level]
