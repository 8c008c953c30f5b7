"""The paper's claims judged from the stages' CSV records: one row per claim, a verdict.

Each stage's records (as `experiments.tables.Table.records` writes them: per row and column the
per-seed scores) give its claims (`STAGES`): DOM2 against each baseline by 95% bootstrap
intervals over seeds of the OMAR-normalised score (`experiments.stats`; rankings do not depend
on the normalisation: it is affine per env). "holds" needs DOM2's interval above every
baseline's; a baseline's interval above DOM2's makes it "does not hold"; overlaps are ties.
`experiments.summary` writes the rows into SUMMARY.md and the README.
"""

from __future__ import annotations

from collections import defaultdict

SCORE = "score_omar"
PAPER_SHIFT_WINS, PAPER_SHIFTS = 28, 30


def _by_row(records, value, score=SCORE, **match) -> dict[tuple, dict[str, object]]:
    """(the records' grouping keys) -> {column: value(record)} for the scored records matching
    `match`."""
    out: dict[tuple, dict[str, object]] = defaultdict(dict)
    for r in records:
        if r.get("score") != score or any(r.get(k) != str(v) for k, v in match.items()):
            continue
        if r["mean"] != "" and r.get("seeds", "") != "":
            key = tuple(r.get(k, "") for k in ("env", "level", "row", "table"))
            out[key][r["column"]] = value(r)
    return dict(out)


def _means(records, field="mean", **match) -> dict[tuple, dict[str, float]]:
    """{row key: {column: mean (or std)}}."""
    return _by_row(records, lambda r: float(r[field]), **match)


def _columns(records) -> list[str]:
    return list(dict.fromkeys(r["column"] for r in records))


def _seeds(records, **match) -> dict[tuple, dict[str, list[float]]]:
    """{row key: {column: per-seed scores}}."""
    return _by_row(records, lambda r: [float(v) for v in r["seeds"].split()], **match)


def _count(records, columns: list[str], **match):
    """Per row with every column scored, DOM2 against each baseline by 95% bootstrap intervals
    over seeds (`experiments.stats`): (rows where DOM2's interval sits above every baseline's,
    rows where it sits below some baseline's, rows scored, those rows' descriptions). The other
    rows are ties: some interval overlaps DOM2's and none is above it."""
    from experiments import stats

    others = [c for c in columns if c != "dom2"]
    beats, loses, total, lost = 0, 0, 0, []
    for key, seeds in _seeds(records, **match).items():
        if key[2] == "unshifted" or "dom2" not in seeds or any(c not in seeds for c in others):
            continue
        total += 1
        ci = {c: stats.cell_interval(seeds[c], name=c) for c in ["dom2", *others]}
        verdicts = {c: stats.verdict(ci["dom2"], ci[c]) for c in others}
        beats += all(v == "beats" for v in verdicts.values())
        above = [c for c, v in verdicts.items() if v == "loses"]
        loses += bool(above)
        if above:
            best = max(above, key=lambda c: ci[c][0])
            where = key[2] if key[0] in key[2] else f"{key[0]} {key[2]}"
            lost.append(
                f"{where} ({best} {stats.format_interval(*ci[best])} vs dom2 "
                f"{stats.format_interval(*ci['dom2'])})"
            )
    return beats, loses, total, lost


def _wins_text(beats, loses, total, what="tasks") -> str:
    return (
        f"DOM2's 95% interval above every baseline's on {beats} / {total} {what}, below some "
        f"baseline's on {loses}, overlapping (tie) on {total - beats - loses}"
    )


def _verdict_all(beats: int, loses: int, total: int, what: str) -> str:
    if total == 0:
        return "not measured"
    if beats == total:
        return "holds"
    if loses == 0:
        return f"ties: DOM2 is ahead by intervals on {beats} of {total} {what}, level on the rest"
    return f"does not hold: a baseline is ahead by intervals on {loses} of {total} {what}"


def main_claims(records) -> list[tuple[str, str, str, str]]:
    columns = _columns(records)
    beats, loses, total, lost = _count(records, columns)
    claims = [
        (
            "Main table: DOM2 beats every baseline on every MPE task x dataset and on "
            "HalfCheetah 2x3",
            "qualitative (DOM2's tables are not in any copy we have)",
            _wins_text(beats, loses, total) + (f"; behind on: {'; '.join(lost)}" if lost else ""),
            _verdict_all(beats, loses, total, "tasks"),
        )
    ]
    beats, loses, total, _ = _count(records, columns, level="random")
    claims.append(
        (
            "... including the random datasets, where conservative methods fail",
            "qualitative",
            _wins_text(beats, loses, total, "random datasets"),
            _verdict_all(beats, loses, total, "random datasets"),
        )
    )
    return claims


def shift_claims(records) -> list[tuple[str, str, str, str]]:
    columns = _columns(records)
    claims = []
    levels = list(dict.fromkeys(r["level"] for r in records))
    for level in sorted(levels, key=lambda lv: lv != "expert"):
        wins, loses, total, _ = _count(records, columns, level=level)
        if total == 0:
            verdict = "not measured"
        elif wins * PAPER_SHIFTS >= PAPER_SHIFT_WINS * total:
            verdict = "holds" + ("" if total == PAPER_SHIFTS else f" (on {total} shifts)")
        else:
            verdict = f"does not hold ({wins / total:.0%} against the paper's 93%)"
        claims.append(
            (
                f"Shifts ({level} policies): DOM2 beats the baselines in 28 of 30 shifted envs"
                + (" (headline)" if level == "expert" else ""),
                f"{PAPER_SHIFT_WINS} / {PAPER_SHIFTS}",
                _wins_text(wins, loses, total, "shifts"),
                verdict,
            )
        )
    return claims


def efficiency_claims(records) -> list[tuple[str, str, str, str]]:
    """DOM2 "matches" a baseline's 100% score at a fraction where its 95% interval is not below
    the baseline's (overlapping or above: `stats.verdict` is not "loses")."""
    from experiments import stats

    columns = _columns(records)
    by_task: dict[tuple, dict[float, dict[str, tuple]]] = defaultdict(dict)
    for r in records:
        if r.get("score") == SCORE and r["mean"] != "" and r.get("seeds", ""):
            seeds = [float(v) for v in r["seeds"].split()]
            by_task[(r["env"], r["level"])].setdefault(float(r["fraction"]), {})[r["column"]] = (
                stats.cell_interval(seeds, name=r["column"])
            )
    claims = []
    for (env, level), rows in by_task.items():
        full = rows.get(1.0, {})
        parts, good, total = [], [], 0
        for baseline in (c for c in columns if c != "dom2"):
            if baseline not in full:
                continue
            total += 1
            hits = [
                f
                for f, m in rows.items()
                if "dom2" in m and stats.verdict(m["dom2"], full[baseline]) != "loses"
            ]
            fraction = min(hits) if hits else None
            if fraction is None:
                parts.append(f"{baseline}: never")
            else:
                dom2 = stats.format_interval(*rows[fraction]["dom2"])
                base = stats.format_interval(*full[baseline])
                parts.append(f"{baseline}: {100 * fraction:g}% ({dom2} vs {base})")
            if fraction is not None and fraction <= 0.05:
                good.append(baseline)
        if total == 0:
            verdict = "not measured"
        elif len(good) == total:
            verdict = "holds"
        elif good:
            verdict = f"holds only against {', '.join(good)}"
        else:
            verdict = "does not hold"
        claims.append(
            (
                f"Data efficiency ({env} / {level}): DOM2 with <= 5% of the data matches the "
                'baselines with 100% ("20x")',
                "<= 5% (fractions and numbers not retrieved)",
                "smallest DOM2 fraction whose 95% interval is not below the baseline's at 100%: "
                + "; ".join(parts),
                verdict,
            )
        )
    return claims


def ablation_claims(records) -> list[tuple[str, str, str, str]]:
    claims = []
    fair = [r for r in records if r.get("table") == "all_reweighted"]
    if fair:
        beats, loses, total, lost = _count(fair, _columns(fair))
        claims.append(
            (
                "(reviewers) DOM2 still beats every baseline when the baselines get the same "
                "trajectory reweighting",
                "not in the paper",
                _wins_text(beats, loses, total)
                + (f"; behind on: {'; '.join(lost)}" if lost else ""),
                _verdict_all(beats, loses, total, "tasks"),
            )
        )
    comp = [r for r in records if r.get("table") == "components"]
    rows, stds = _means(comp), _means(comp, field="std")
    for column in _columns(comp)[1:]:
        pairs = [
            (m[column] - m["DOM2"], max(stds[k][column], stds[k]["DOM2"]))
            for k, m in rows.items()
            if "DOM2" in m and column in m
        ]
        if not pairs:
            continue
        n = len(pairs)
        worse = sum(d < 0 for d, _ in pairs)
        beyond = sum(abs(d) > sd for d, sd in pairs)
        if beyond == 0:
            verdict = "no effect beyond the seeds' std"
        elif worse == n:
            verdict = "DOM2's choice helps on every task"
        elif worse == 0:
            verdict = "DOM2's choice does not help here"
        else:
            verdict = "mixed: helps on some tasks only"
        claims.append(
            (
                f"(reviewers) {column} vs DOM2",
                "not in the paper",
                f"lower than DOM2 on {worse} / {n} tasks, mean Δ "
                f"{sum(d for d, _ in pairs) / n:+.1f}; the gap exceeds the seeds' std on "
                f"{beyond} / {n}",
                verdict,
            )
        )
    rw = [r for r in records if r.get("table") == "reweighting"]
    deltas = defaultdict(list)
    for key, m in _means(rw).items():
        if "with reweighting" in m and "without reweighting" in m:
            deltas[key[2].split(": ")[-1]].append(m["with reweighting"] - m["without reweighting"])
    if deltas:
        text = "; ".join(f"{a} {sum(d) / len(d):+.1f}" for a, d in deltas.items())
        claims.append(
            (
                "(reviewers) trajectory reweighting, applied to each algorithm",
                "not in the paper",
                f"mean Δ (with − without): {text}",
                "see the reweighting table",
            )
        )
    return claims


UNRUN_CLAIMS = {  # the claims a stage judges, named while it has no file yet
    "main_table": "Main table: DOM2 beats every baseline on every task, random datasets included",
    "shifts": "Shifts: DOM2 beats the baselines in 28 of 30 shifted envs (expert policies)",
    "data_efficiency": 'Data efficiency: DOM2 with <= 5% of the data matches the baselines ("20x")',
    "ablations": "(reviewers) DOM2 vs reweighted baselines; DOM2's components",
}
STAGES = {
    "main_table": main_claims,
    "shifts": shift_claims,
    "data_efficiency": efficiency_claims,
    "ablations": ablation_claims,
}
