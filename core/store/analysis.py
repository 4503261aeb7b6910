"""Study analysis: review rates, errors, reading time, Turing-test accuracy and agreement.

Pure functions over :class:`core.store.records.StudyData` (plain tuples), so the figures and the
command line read the same numbers. Every table is a list of flat dicts (one CSV row each),
with ``scope`` either a reader's username or ``"all"`` (pooled over readers).

Statistics come from maintained libraries, not re-implemented here: Cohen's and Fleiss' kappa
from ``statsmodels.stats.inter_rater``, the intraclass correlation from ``pingouin``
(ICC(A,1): two-way random effects, absolute agreement, one rater - "ICC2" in Shrout & Fleiss),
the Turing-test confidence interval from ``statsmodels`` (Wilson score, 95 %).

What is compared:
- *Sentence actions* (accept / edit / reject): one item per (arm, sentence) - a reader reviews
  the same pinned prediction in every arm, and the arm may change their verdict. Cohen's kappa
  for each pair of readers over the items both reviewed; Fleiss' kappa over the items every
  reader reviewed (needs at least 2 readers and 2 categories in use).
- *Usefulness ratings* (Likert 1-5): one target per (arm, case); ICC over the targets every
  reader rated.
- *Turing test*: accuracy = share of items where the reader named the true source; 0.5 is
  chance. When the human scanpaths come from simulated readers (``synthetic``), the accuracy
  measures how well the model imitates the *simulator*, not real radiologists; the report says so.
"""

from __future__ import annotations

import itertools
import math
import statistics
import warnings
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from core.store.records import StudyData

__all__ = [
    "StudyReport",
    "analyse",
    "cohen_kappa",
    "fleiss_kappa",
    "icc_absolute",
    "wilson_interval",
]

ALL = "all"
NORMAL = "(normal statement)"  # the finding column of a sentence that reports none
ACTIONS = ("accept", "edit", "reject")

Row = dict[str, Any]


@dataclass(frozen=True)
class StudyReport:
    """Per-reader and pooled tables of one study; ``tables()`` names them for CSV/JSON."""

    study: str
    description: str
    arms: tuple[str, ...]
    readers: tuple[str, ...]
    synthetic_humans: bool | None  # Turing human scanpaths from simulated readers (None: none)
    progress: list[Row]
    actions_by_finding: list[Row]
    actions_by_region: list[Row]
    errors: list[Row]
    time_per_case: list[Row]
    turing: list[Row]
    agreement: list[Row]

    def tables(self) -> dict[str, list[Row]]:
        return {
            "progress": self.progress,
            "actions_by_finding": self.actions_by_finding,
            "actions_by_region": self.actions_by_region,
            "errors": self.errors,
            "time_per_case": self.time_per_case,
            "turing": self.turing,
            "agreement": self.agreement,
        }

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def analyse(data: StudyData) -> StudyReport:
    """All tables of the study report from the study's data."""
    synthetic = [t[6] for t in data.turing if t[3] == "human" and t[6] is not None]
    return StudyReport(
        study=data.study.name,
        description=data.study.description,
        arms=tuple(a.name for a in data.study.arms),
        readers=data.study.readers,
        synthetic_humans=any(synthetic) if synthetic else None,
        progress=[
            {"reader": r.username, "done": r.done, "total": r.total} for r in data.progress.readers
        ],
        actions_by_finding=_action_rates(
            data.reviews, key=lambda r: [r[5] or NORMAL], column="finding"
        ),
        actions_by_region=_action_rates(data.reviews, key=lambda r: list(r[6]), column="region"),
        errors=_errors(data.reviews),
        time_per_case=_times(data.times),
        turing=_turing(data.turing),
        agreement=_agreement(data),
    )


# --- tables ----------------------------------------------------------------------------------


def _scopes(reader: str) -> tuple[str, str]:
    return (reader, ALL)


def _action_rates(reviews: Iterable[tuple[Any, ...]], *, key: Any, column: str) -> list[Row]:
    counts: dict[tuple[str, str, str], Counter[str]] = defaultdict(Counter)
    for r in reviews:
        reader, arm, action = r[0], r[2], r[7]
        for value in key(r):
            for scope in _scopes(reader):
                counts[(scope, arm, value)][action] += 1
    rows = []
    for (scope, arm, value), c in sorted(counts.items(), key=lambda kv: (kv[0][0] != ALL, kv[0])):
        n = sum(c.values())
        row: Row = {"scope": scope, "arm": arm, column: value, "n": n}
        for action in ACTIONS:
            row[action] = c[action]
        for action in ACTIONS:
            row[f"{action}_rate"] = c[action] / n
        rows.append(row)
    return rows


def _errors(reviews: Iterable[tuple[Any, ...]]) -> list[Row]:
    counts: Counter[tuple[str, str, str, str]] = Counter()
    for r in reviews:
        if r[7] == "accept":
            continue
        for scope in _scopes(r[0]):
            counts[(scope, r[2], r[8] or "unspecified", r[9] or "unspecified")] += 1
    return [
        {"scope": s, "arm": arm, "error_category": cat, "significance": sig, "n": n}
        for (s, arm, cat, sig), n in sorted(counts.items(), key=lambda kv: (kv[0][0] != ALL, kv[0]))
    ]


def _times(times: Iterable[tuple[str, int, str, str, float]]) -> list[Row]:
    by: dict[tuple[str, str], list[float]] = defaultdict(list)
    for reader, _aid, arm, _case, seconds in times:
        for scope in _scopes(reader):
            by[(scope, arm)].append(seconds)
    rows = []
    for (scope, arm), xs in sorted(by.items(), key=lambda kv: (kv[0][0] != ALL, kv[0])):
        rows.append(
            {
                "scope": scope,
                "arm": arm,
                "cases": len(xs),
                "mean_s": statistics.fmean(xs),
                "median_s": statistics.median(xs),
                "sd_s": statistics.stdev(xs) if len(xs) > 1 else math.nan,
            }
        )
    return rows


def _turing(answers: Iterable[tuple[Any, ...]]) -> list[Row]:
    by: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for reader, _aid, _case, shown, answer, _conf, _synth in answers:
        for scope in _scopes(reader):
            by[scope].append((shown, answer))
    rows = []
    for scope, items in sorted(by.items(), key=lambda kv: (kv[0] != ALL, kv[0])):
        correct = sum(shown == answer for shown, answer in items)
        model = [answer for shown, answer in items if shown == "model"]
        lo, hi = wilson_interval(correct, len(items))
        rows.append(
            {
                "scope": scope,
                "n": len(items),
                "correct": correct,
                "accuracy": correct / len(items),
                "ci95_low": lo,
                "ci95_high": hi,
                "model_items": len(model),
                "model_judged_human": (model.count("human") / len(model)) if model else math.nan,
            }
        )
    return rows


def _agreement(data: StudyData) -> list[Row]:
    rows: list[Row] = []
    actions: dict[tuple[str, int], dict[str, str]] = defaultdict(dict)  # (arm, sentence) -> reader
    for r in data.reviews:
        actions[(r[2], r[4])][r[0]] = r[7]
    readers = list(data.study.readers)
    for a, b in itertools.combinations(readers, 2):
        pairs = [(v[a], v[b]) for v in actions.values() if a in v and b in v]
        if pairs:
            rows.append(
                {
                    "measure": "cohen_kappa",
                    "of": "sentence action",
                    "raters": f"{a}+{b}",
                    "items": len(pairs),
                    "value": cohen_kappa([p[0] for p in pairs], [p[1] for p in pairs]),
                    "ci95_low": math.nan,
                    "ci95_high": math.nan,
                }
            )
    complete = [[v[r] for r in readers] for v in actions.values() if all(r in v for r in readers)]
    if len(readers) >= 2 and complete:
        rows.append(
            {
                "measure": "fleiss_kappa",
                "of": "sentence action",
                "raters": "+".join(readers),
                "items": len(complete),
                "value": fleiss_kappa(complete),
                "ci95_low": math.nan,
                "ci95_high": math.nan,
            }
        )
    scores: dict[tuple[str, str], dict[str, float]] = defaultdict(dict)  # (arm, case) -> reader
    for reader, _aid, arm, case, usefulness, _trust, _human in data.ratings:
        scores[(arm, case)][reader] = float(usefulness)
    table = [[v[r] for r in readers] for v in scores.values() if all(r in v for r in readers)]
    if len(readers) >= 2 and len(table) >= 3:
        value, lo, hi = icc_absolute(table)
        rows.append(
            {
                "measure": "icc_a1",
                "of": "usefulness rating",
                "raters": "+".join(readers),
                "items": len(table),
                "value": value,
                "ci95_low": lo,
                "ci95_high": hi,
            }
        )
    return rows


# --- statistics (library calls) --------------------------------------------------------------


def cohen_kappa(a: Sequence[str], b: Sequence[str]) -> float:
    """Cohen's kappa of two raters' labels on the same items (statsmodels).

    nan when it is undefined: no items, or both raters used one and the same single label.
    """
    from statsmodels.stats.inter_rater import cohens_kappa

    if len(a) != len(b):
        raise ValueError(f"cohen_kappa needs paired labels, got {len(a)} and {len(b)}")
    labels = sorted(set(a) | set(b))
    if not a or len(labels) < 2:
        return math.nan
    index = {label: i for i, label in enumerate(labels)}
    table = np.zeros((len(labels), len(labels)))
    for x, y in zip(a, b, strict=True):
        table[index[x], index[y]] += 1
    return float(cohens_kappa(table, return_results=False))


def fleiss_kappa(ratings: Sequence[Sequence[str]]) -> float:
    """Fleiss' kappa of items x raters labels, every item rated by the same number of raters
    (statsmodels); nan when undefined (fewer than 2 raters or a single label in use)."""
    from statsmodels.stats.inter_rater import aggregate_raters
    from statsmodels.stats.inter_rater import fleiss_kappa as _fleiss

    if not ratings or len(ratings[0]) < 2:
        return math.nan
    labels = sorted({x for item in ratings for x in item})
    if len(labels) < 2:
        return math.nan
    index = {label: i for i, label in enumerate(labels)}
    coded = np.array([[index[x] for x in item] for item in ratings])
    counts, _ = aggregate_raters(coded, n_cat=len(labels))
    return float(_fleiss(counts, method="fleiss"))


def icc_absolute(table: Sequence[Sequence[float]]) -> tuple[float, float, float]:
    """ICC(A,1) with its 95 % CI of a targets x raters table without gaps (pingouin)."""
    import pandas as pd
    import pingouin

    arr = np.asarray(table, dtype=float)
    if arr.ndim != 2 or arr.shape[0] < 3 or arr.shape[1] < 2:
        raise ValueError(f"icc needs at least 3 targets x 2 raters, got shape {arr.shape}")
    n, k = arr.shape
    long = pd.DataFrame(
        {
            "target": np.repeat(np.arange(n), k),
            "rater": np.tile(np.arange(k), n),
            "score": arr.ravel(),
        }
    )
    with warnings.catch_warnings():  # pingouin's own use of deprecated pandas arguments
        warnings.filterwarnings("ignore", module="pingouin")
        res = pingouin.intraclass_corr(long, targets="target", raters="rater", ratings="score")
    row = res.set_index("Type").loc["ICC(A,1)"]
    lo, hi = row["CI95"]
    return float(row["ICC"]), float(lo), float(hi)


def wilson_interval(successes: int, n: int) -> tuple[float, float]:
    """95 % Wilson score interval of a proportion (statsmodels); (nan, nan) for n == 0."""
    from statsmodels.stats.proportion import proportion_confint

    if n == 0:
        return math.nan, math.nan
    lo, hi = proportion_confint(successes, n, alpha=0.05, method="wilson")
    return float(lo), float(hi)
