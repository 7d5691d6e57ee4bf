"""Fellegi-Sunter scoring, with m and u probabilities estimated from the data, without labels.

u (how often two *different* entities agree at a level) is measured on random pairs, almost all of
which are non-matches. m (how often the *same* entity agrees at a level) and the prior share of
matches are estimated by expectation-maximisation on the blocked candidate pairs, one training
session per blocking rule with that rule's own fields held out (they agree by construction), as
Splink does. A pair's match weight is the sum of log2(m/u) over its comparisons, plus a term-frequency
adjustment on exact agreements (agreeing on a common value is weaker evidence than on a rare one).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from canonical.matching.compare import MISSING

SMOOTH = 1e-6
M_FLOOR, U_FLOOR = 1e-4, 1e-7


@dataclass
class Model:
    """The learnt parameters: per field and level, m and u; and the prior share of matching candidates."""

    fields: list[str]
    levels: list[tuple[str, ...]]
    m: list[np.ndarray]
    u: list[np.ndarray]
    prior: float
    tf: list[bool] = field(default_factory=list)
    iterations: int = 0

    def bayes_factors(self) -> list[np.ndarray]:
        return [np.log2(np.maximum(m, M_FLOOR) / np.maximum(u, U_FLOOR)) for m, u in zip(self.m, self.u, strict=True)]

    def to_dict(self) -> dict:
        return {
            "fields": self.fields, "levels": [list(lv) for lv in self.levels], "prior": self.prior,
            "m": [m.round(8).tolist() for m in self.m], "u": [u.round(10).tolist() for u in self.u], "tf": self.tf,
        }

    @classmethod
    def from_dict(cls, data: dict) -> Model:
        return cls(
            data["fields"], [tuple(lv) for lv in data["levels"]], [np.asarray(m, float) for m in data["m"]],
            [np.asarray(u, float) for u in data["u"]], float(data["prior"]), list(data.get("tf", [])),
        )


def default_m(n_levels: int) -> np.ndarray:
    """A starting point for EM: matches mostly agree exactly, rarely disagree completely."""
    m = np.array([0.9 * 0.5**i for i in range(n_levels - 1)] + [0.05])
    return m / m.sum()


def default_u(n_levels: int) -> np.ndarray:
    """A cold-start guess of u before any training: different entities rarely agree."""
    u = np.array([0.002 * 4**i for i in range(n_levels - 1)] + [0.0])
    u[-1] = 1.0 - u.sum()
    return u


def level_frequencies(gamma: np.ndarray, n_levels: Sequence[int]) -> list[np.ndarray]:
    result = []
    for f, n in enumerate(n_levels):
        col = gamma[:, f]
        counts = np.bincount(col[col != MISSING], minlength=n).astype(np.float64) + SMOOTH
        result.append(counts / counts.sum())
    return result


def expectation_maximisation(
    gamma: np.ndarray,
    n_levels: Sequence[int],
    u: Sequence[np.ndarray],
    *,
    m: Sequence[np.ndarray] | None = None,
    prior: float = 0.1,
    held_out: frozenset[int] = frozenset(),
    fix_m: bool = False,
    max_iterations: int = 100,
    tolerance: float = 1e-5,
) -> tuple[list[np.ndarray], float, int]:
    """EM over the distinct comparison patterns (weighted by count), with u fixed.

    Fields in ``held_out`` take no part (their agreement is an artefact of blocking). With ``fix_m``
    only the prior is estimated. Returns (m, prior, iterations).
    """
    m = [np.array(x, dtype=np.float64) for x in (m or [default_m(n) for n in n_levels])]
    if len(gamma) == 0:
        return m, prior, 0
    patterns, counts = np.unique(gamma, axis=0, return_counts=True)
    counts = counts.astype(np.float64)
    active = [f for f in range(len(n_levels)) if f not in held_out]
    log_u = np.zeros(len(patterns))
    for f in active:
        present = patterns[:, f] != MISSING
        log_u[present] += np.log(np.maximum(u[f], U_FLOOR))[patterns[present, f]]
    iterations = 0
    for iterations in range(1, max_iterations + 1):  # noqa: B007 (reported after the loop)
        log_m = np.zeros(len(patterns))
        for f in active:
            present = patterns[:, f] != MISSING
            log_m[present] += np.log(np.maximum(m[f], M_FLOOR))[patterns[present, f]]
        logit = np.log(prior) - np.log1p(-prior) + log_m - log_u
        p = 1.0 / (1.0 + np.exp(-np.clip(logit, -700, 700)))
        weighted = counts * p
        new_prior = float(np.clip(weighted.sum() / counts.sum(), 1e-9, 1 - 1e-9))
        change = abs(new_prior - prior)
        prior = new_prior
        if not fix_m:
            for f in active:
                present = patterns[:, f] != MISSING
                sums = np.bincount(patterns[present, f], weights=weighted[present], minlength=len(m[f])) + SMOOTH
                new = sums / sums.sum()
                change = max(change, float(np.abs(new - m[f]).max()))
                m[f] = new
        if change < tolerance:
            break
    return m, prior, iterations


def match_weights(
    model: Model, gamma: np.ndarray, tf_adjustment: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """(weight, per-field contributions) of each pair; weight includes the prior's log-odds."""
    factors = model.bayes_factors()
    contributions = np.zeros(gamma.shape, dtype=np.float64)
    for f, bf in enumerate(factors):
        col = gamma[:, f]
        present = col != MISSING
        contributions[present, f] = bf[col[present]]
    if tf_adjustment is not None:
        contributions += tf_adjustment
    prior_logit = np.log2(model.prior / (1 - model.prior))
    return prior_logit + contributions.sum(axis=1), contributions


def probability(weight: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp2(-np.clip(weight, -1000, 1000)))


def auto_match_threshold(probabilities: np.ndarray) -> float:
    """The threshold that maximises the F1 the model itself expects (its posteriors taken at their word)."""
    if len(probabilities) == 0:
        return 0.5
    ordered = np.sort(probabilities)[::-1]
    expected_tp = np.cumsum(ordered)
    expected_matches = ordered.sum()
    f1 = 2 * expected_tp / (np.arange(1, len(ordered) + 1) + expected_matches)
    best = int(np.argmax(f1))
    return float(min(max(ordered[best], 0.05), 0.99))
