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
    # (i, j, bits): fields i and j agree together far more often than chance among different entities
    # (postcode and city, street and postcode). When both agree exactly, the later one counts only what
    # it adds: its Bayes factor is corrected by ``bits`` = log2(u_i * u_j / u_ij) <= 0.
    dependence: list[tuple[int, int, float]] = field(default_factory=list)
    # (i, j, bits): among matches, fields i and j are lost together (a company that moves changes street,
    # postcode and city at once). When both disagree completely, the later one's penalty is reduced by
    # ``bits`` = log2(m_ij / (m_i * m_j)) >= 0, never turning it into evidence for a match.
    far_dependence: list[tuple[int, int, float]] = field(default_factory=list)

    def bayes_factors(self) -> list[np.ndarray]:
        return [np.log2(np.maximum(m, M_FLOOR) / np.maximum(u, U_FLOOR)) for m, u in zip(self.m, self.u, strict=True)]

    def to_dict(self) -> dict:
        return {
            "fields": self.fields, "levels": [list(lv) for lv in self.levels], "prior": self.prior,
            "m": [m.round(8).tolist() for m in self.m], "u": [u.round(10).tolist() for u in self.u], "tf": self.tf,
            "dependence": [[i, j, round(b, 4)] for i, j, b in self.dependence],
            "far_dependence": [[i, j, round(b, 4)] for i, j, b in self.far_dependence],
        }

    @classmethod
    def from_dict(cls, data: dict) -> Model:
        return cls(
            data["fields"], [tuple(lv) for lv in data["levels"]], [np.asarray(m, float) for m in data["m"]],
            [np.asarray(u, float) for u in data["u"]], float(data["prior"]), list(data.get("tf", [])),
            dependence=[(int(i), int(j), float(b)) for i, j, b in data.get("dependence", [])],
            far_dependence=[(int(i), int(j), float(b)) for i, j, b in data.get("far_dependence", [])],
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


MIN_CO_AGREEMENTS = 10
DEPENDENCE_RATIO = 2.0


def _co_occurrence(flags: np.ndarray, marginals: Sequence[float], *, sign: int) -> list[tuple[int, int, float]]:
    """Pairs of fields whose flags (one column per field) are set together far more often than if independent,
    with sign * log2(joint / product of marginals)."""
    result = []
    n = max(len(flags), 1)
    for i in range(flags.shape[1]):
        for j in range(i + 1, flags.shape[1]):
            both = int((flags[:, i] & flags[:, j]).sum())
            if both < MIN_CO_AGREEMENTS:
                continue
            joint, independent = both / n, float(marginals[i]) * float(marginals[j])
            if joint >= DEPENDENCE_RATIO * independent:
                result.append((i, j, sign * float(np.log2(joint / independent))))
    return result


def exact_dependence(gamma_random: np.ndarray, u: Sequence[np.ndarray]) -> list[tuple[int, int, float]]:
    """Pairs of fields whose exact agreements go together among random (non-matching) pairs."""
    return _co_occurrence(gamma_random == 0, [x[0] for x in u], sign=-1)


def far_dependence(gamma_matches: np.ndarray, m: Sequence[np.ndarray]) -> list[tuple[int, int, float]]:
    """Pairs of fields whose complete disagreements go together among (likely) matches."""
    far = gamma_matches == np.array([len(x) - 1 for x in m], dtype=gamma_matches.dtype)
    return _co_occurrence(far.reshape(len(gamma_matches), len(m)), [x[-1] for x in m], sign=1)


def _far_corrections(model: Model, gamma: np.ndarray, contributions: np.ndarray) -> np.ndarray:
    correction = np.zeros(gamma.shape, dtype=np.float64)
    if not model.far_dependence:
        return correction
    dep: dict[tuple[int, int], float] = {}
    for i, j, bits in model.far_dependence:
        dep[(i, j)] = dep[(j, i)] = bits
    factors = model.bayes_factors()
    # The most damning disagreement counts in full; the ones that follow from it are discounted.
    order = sorted(range(gamma.shape[1]), key=lambda f: float(factors[f][-1]))
    far = np.stack([gamma[:, f] == len(model.levels[f]) - 1 for f in range(gamma.shape[1])], axis=1)
    for k, f in enumerate(order):
        for g in order[:k]:
            bits = dep.get((f, g))
            if bits is None:
                continue
            both = far[:, f] & far[:, g]
            correction[both, f] = np.maximum(correction[both, f], bits)
        correction[:, f] = np.minimum(correction[:, f], np.maximum(-contributions[:, f], 0.0))
    return correction


def _dependence_corrections(model: Model, gamma: np.ndarray, contributions: np.ndarray) -> np.ndarray:
    """Per pair and field, the (negative) correction for agreeing with an already-counted dependent field.

    Fields are taken in order of their exact-agreement Bayes factor, strongest first; each exactly agreeing
    field is discounted by its strongest dependence on an earlier one that also agreed, never below zero."""
    correction = np.zeros(gamma.shape, dtype=np.float64)
    if not model.dependence:
        return correction
    dep: dict[tuple[int, int], float] = {}
    for i, j, bits in model.dependence:
        dep[(i, j)] = dep[(j, i)] = bits
    factors = model.bayes_factors()
    order = sorted(range(gamma.shape[1]), key=lambda f: -float(factors[f][0]))
    exact = gamma == 0
    for k, f in enumerate(order):
        for g in order[:k]:
            bits = dep.get((f, g))
            if bits is None:
                continue
            both = exact[:, f] & exact[:, g]
            correction[both, f] = np.minimum(correction[both, f], bits)
        correction[:, f] = np.maximum(correction[:, f], -np.maximum(contributions[:, f], 0.0))
    return correction


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
    contributions += _dependence_corrections(model, gamma, contributions)
    contributions += _far_corrections(model, gamma, contributions)
    prior_logit = np.log2(model.prior / (1 - model.prior))
    return prior_logit + contributions.sum(axis=1), contributions


def prior_over_all_pairs(bayes_factor_sum: np.ndarray, total_pairs: float, *, iterations: int = 200) -> float:
    """The probability that two records picked at random match, by EM over *all* pairs.

    u is measured on random pairs, so Bayes factors are evidence relative to a random pair, and the prior
    they combine with must be the share of matches among all pairs, not among the blocked candidates
    (blocking has already selected pairs that agree on something: counting that again would make every
    candidate look like a match). Pairs that blocking left out count as non-matches, so the fixed point is
    lambda = sum(posterior of each candidate) / all pairs.
    """
    if len(bayes_factor_sum) == 0 or total_pairs <= 0:
        return 1e-6
    prior = min(0.5, len(bayes_factor_sum) / total_pairs)
    for _ in range(iterations):
        logit = np.log2(prior / (1 - prior)) + bayes_factor_sum
        expected = float((1.0 / (1.0 + np.exp2(-np.clip(logit, -1000, 1000)))).sum())
        new = min(max(expected / total_pairs, 1e-12), 0.5)
        if abs(new - prior) <= 1e-6 * prior:
            return new
        prior = new
    return prior


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
