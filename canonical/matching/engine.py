"""The matching engine: normalise, block, compare, learn m/u by EM, score, threshold, cluster.

It works on columns of plain strings (one list per field), so the hub's batch re-match, the CSV command
and the benchmark all run the very same code; the hub's online path scores a record against its
candidates with the same comparators and the model learnt here.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from canonical.matching import normalise
from canonical.matching.blocking import candidate_pairs, rules_for
from canonical.matching.compare import LEVELS, Column, compare, prepare_column
from canonical.matching.scoring import (
    U_FLOOR,
    Model,
    auto_match_threshold,
    exact_dependence,
    expectation_maximisation,
    far_dependence,
    level_frequencies,
    match_weights,
    prior_over_all_pairs,
    probability,
)
from canonical.matching.spec import MatchSpec, Thresholds

RANDOM_PAIRS = 1_000_000
# Blocking rules worth an EM training session: ones keyed on a name or an identifier. A location key
# (postcode, street, city) puts many different entities in one block and is correlated with the other
# location fields, which would teach EM that "same street and city" means "same company".
TRAINING_TYPES = frozenset({"company_name", "name", "tax_id", "domain", "email", "phone", "exact"})
TRAINING_PAIRS = 500_000
NO_TF_TYPES = frozenset({"number", "date", "country", "currency"})

_NORMALISERS: dict[str, Callable[[str, str], str]] = {
    "exact": lambda v, c: normalise.exact(v),
    "string": lambda v, c: normalise.text(v),
    "name": lambda v, c: normalise.person_name(v),
    "company_name": lambda v, c: normalise.company_name(v),
    "date": lambda v, c: normalise.date(v),
    "number": lambda v, c: normalise.number(v),
    "postcode": lambda v, c: normalise.postcode(v, c or None),
    "address": lambda v, c: normalise.address(v),
    "phone": lambda v, c: normalise.phone(v, c or None),
    "email": lambda v, c: normalise.email(v),
    "domain": lambda v, c: normalise.domain(v),
    "tax_id": lambda v, c: normalise.tax_id(v, c or None),
    "country": lambda v, c: normalise.country(v),
    "currency": lambda v, c: normalise.currency(v),
}


def normalise_values(field_type: str, values: Sequence[str], countries: Sequence[str] | None = None) -> list[str]:
    fn = _NORMALISERS[field_type]
    if countries is None:
        return [fn(v, "") if v else "" for v in values]
    return [fn(v, c) if v else "" for v, c in zip(values, countries, strict=True)]


@dataclass
class MatchResult:
    """Clusters of record indexes, the scored pairs worth keeping, and how the engine decided."""

    cluster: np.ndarray  # cluster label per record index
    left: np.ndarray
    right: np.ndarray
    probability: np.ndarray
    contributions: np.ndarray  # per pair and field: log2 Bayes factor (with tf adjustment)
    gamma: np.ndarray
    thresholds: Thresholds
    model: Model
    stats: dict = field(default_factory=dict)


def prepare(spec: MatchSpec, columns: Mapping[str, Sequence[str]], *, normalised: bool = False) -> dict[str, Column]:
    """Normalise every compared field (once per record) and factorise it for comparison."""
    if normalised:
        return {f.name: prepare_column(f.type, columns[f.name]) for f in spec.fields}
    countries: dict[str, list[str]] = {}
    prepared = {}
    for f in spec.fields:
        country = None
        if f.country_field:
            if f.country_field not in countries:
                countries[f.country_field] = [normalise.country(v) if v else "" for v in columns[f.country_field]]
            country = countries[f.country_field]
        prepared[f.name] = prepare_column(f.type, normalise_values(f.type, columns[f.name], country))
    return prepared


def comparison_matrix(spec: MatchSpec, prepared: Mapping[str, Column], left: np.ndarray,
                      right: np.ndarray) -> np.ndarray:
    gamma = np.empty((len(left), len(spec.fields)), dtype=np.int8)
    for i, f in enumerate(spec.fields):
        gamma[:, i] = compare(prepared[f.name], left, right)
    return gamma


def tf_adjustments(spec: MatchSpec, model: Model, prepared: Mapping[str, Column], left: np.ndarray,
                   gamma: np.ndarray) -> np.ndarray:
    """log2(u_exact / frequency of the agreed value) on exact agreements of tf-adjusted fields.

    An exact agreement is never turned into evidence *against* a match: a value so common that the
    adjustment would outweigh the agreement itself just counts for nothing."""
    adjustment = np.zeros(gamma.shape, dtype=np.float64)
    factors = model.bayes_factors()
    for i, f in enumerate(spec.fields):
        if not f.tf_adjust or f.type in NO_TF_TYPES:
            continue
        exact = np.flatnonzero(gamma[:, i] == 0)
        column = prepared[f.name]
        freq = column.frequency[column.codes[left[exact]]]
        raw = np.log2(model.u[i][0] / np.maximum(freq, U_FLOOR))
        adjustment[exact, i] = np.maximum(raw, -max(float(factors[i][0]), 0.0))
    return adjustment


def _random_pairs(n: int, source: np.ndarray | None, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    count = int(min(RANDOM_PAIRS, n * (n - 1) // 2))
    if source is None:
        left = rng.integers(0, n, count)
        right = rng.integers(0, n, count)
        keep = left != right
        return left[keep], right[keep]
    first, second = np.flatnonzero(source == 0), np.flatnonzero(source == 1)
    return rng.choice(first, count), rng.choice(second, count)


def _deterministic(spec: MatchSpec, gamma: np.ndarray) -> np.ndarray:
    hit = np.zeros(len(gamma), dtype=bool)
    index = {f.name: i for i, f in enumerate(spec.fields)}
    for rule in spec.deterministic:
        hit |= np.all(np.stack([gamma[:, index[name]] == 0 for name in rule], axis=1), axis=1)
    return hit


# How many pairs' worth of evidence the unsupervised (EM) estimate of m counts for, against which each
# pair a steward confirmed as a match is weighed.
EM_PSEUDO_COUNT = 200


def train(spec: MatchSpec, prepared: Mapping[str, Column], pairs, source: np.ndarray | None,
          n: int, seed: int = 0, confirmed: tuple[np.ndarray, np.ndarray] | None = None) -> Model:
    """u from random pairs, m by one EM session per blocking rule on a name or identifier, and the
    dependence between fields."""
    rng = np.random.default_rng(seed)
    n_levels = [len(LEVELS[f.type]) for f in spec.fields]
    rl, rr = _random_pairs(n, source, rng)
    random_gamma = comparison_matrix(spec, prepared, rl, rr)
    total = float(n * (n - 1) / 2) if source is None else float((source == 0).sum()) * float((source == 1).sum())
    # Before anything is learnt, assume about one duplicate per record.
    rough_prior = min(max(n / max(total, 1.0), 1e-9), 0.5)
    u = level_frequencies(random_gamma, n_levels)
    m, iterations = _estimate_m(spec, prepared, pairs, u, n_levels, rng)
    if confirmed is not None and len(confirmed[0]):
        m = refine_m(m, comparison_matrix(spec, prepared, *confirmed), n_levels)
    model = Model(list(spec.field_names), [LEVELS[f.type] for f in spec.fields], m, u, 0.1,
                  [f.tf_adjust and f.type not in NO_TF_TYPES for f in spec.fields], iterations)

    def random_posterior() -> np.ndarray:
        factors, _ = match_weights(replace(model, prior=0.5), random_gamma)
        return probability(factors + np.log2(rough_prior / (1 - rough_prior)))

    # Dependence between fields is measured among random pairs that are clearly *not* matches: the few
    # true matches a random sample holds agree on everything and would make every field look dependent.
    model.dependence = exact_dependence(random_gamma[random_posterior() < 0.01], model.u)
    return model


def refine_m(m: list[np.ndarray], confirmed_gamma: np.ndarray, n_levels: list[int]) -> list[np.ndarray]:
    """Blend the EM estimate of m with the comparison levels of pairs stewards confirmed as matches."""
    refined = []
    for f, k in enumerate(n_levels):
        col = confirmed_gamma[:, f]
        counts = np.bincount(col[col != -1], minlength=k).astype(np.float64)
        blended = m[f] * EM_PSEUDO_COUNT + counts
        refined.append(blended / blended.sum())
    return refined


def _estimate_m(spec: MatchSpec, prepared: Mapping[str, Column], pairs, u: list[np.ndarray],
                n_levels: list[int], rng: np.random.Generator) -> tuple[list[np.ndarray], int]:
    index = {f.name: i for i, f in enumerate(spec.fields)}
    types = {f.name: f.type for f in spec.fields}
    start = [np.asarray(f.m) if f.m else _untrained_m(k) for f, k in zip(spec.fields, n_levels, strict=True)]
    estimates: list[list[np.ndarray]] = [[] for _ in spec.fields]
    iterations = 0
    sessions = {label: p for label, p in pairs.by_rule.items()
                if any(types[name] in TRAINING_TYPES for name in label.removeprefix("tokens:").split("+"))}
    for label, (left, right) in (sessions or pairs.by_rule).items():
        if len(left) == 0:
            continue
        if len(left) > TRAINING_PAIRS:
            pick = rng.choice(len(left), TRAINING_PAIRS, replace=False)
            left, right = left[pick], right[pick]
        held_out = frozenset(index[name] for name in label.removeprefix("tokens:").split("+"))
        m, _, its = expectation_maximisation(comparison_matrix(spec, prepared, left, right), n_levels, u,
                                             held_out=held_out, m=start)
        iterations += its
        for f in range(len(spec.fields)):
            if f not in held_out:
                estimates[f].append(m[f])
    return [np.mean(est, axis=0) if est else s for est, s in zip(estimates, start, strict=True)], iterations


def _untrained_m(n_levels: int) -> np.ndarray:
    from canonical.matching.scoring import default_m

    return default_m(n_levels)


def clusters_of(n: int, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Connected components: records joined by a chain of matched pairs form one cluster."""
    graph = coo_matrix((np.ones(len(left)), (left, right)), shape=(n, n))
    return connected_components(graph, directed=False)[1]


def score(spec: MatchSpec, model: Model, prepared: Mapping[str, Column], left: np.ndarray,
          right: np.ndarray, gamma: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(probability, contributions, gamma) of each pair: the one scoring path of batch and online."""
    if gamma is None:
        gamma = comparison_matrix(spec, prepared, left, right)
    weights, contributions = match_weights(model, gamma, tf_adjustments(spec, model, prepared, left, gamma))
    return _probabilities(spec, model, gamma, weights), contributions, gamma


SCORE_CHUNK = 2_000_000


def _weights(spec: MatchSpec, model: Model, prepared: Mapping[str, Column], left: np.ndarray,
             gamma: np.ndarray) -> np.ndarray:
    """Match weights of all pairs, a chunk at a time (a per-field matrix of every pair would not fit)."""
    weights = np.empty(len(gamma), dtype=np.float64)
    for start in range(0, len(gamma), SCORE_CHUNK):
        part = slice(start, start + SCORE_CHUNK)
        tf = tf_adjustments(spec, model, prepared, left[part], gamma[part])
        weights[part], _ = match_weights(model, gamma[part], tf)
    return weights


def _probabilities(spec: MatchSpec, model: Model, gamma: np.ndarray, weights: np.ndarray) -> np.ndarray:
    prob = probability(weights)
    for i, f in enumerate(spec.fields):
        if f.required:
            prob[gamma[:, i] == len(LEVELS[f.type]) - 1] = 0.0
    prob[_deterministic(spec, gamma)] = 1.0
    return prob


def run(spec: MatchSpec, columns: Mapping[str, Sequence[str]], *, source: np.ndarray | None = None,
        model: Model | None = None, seed: int = 0, normalised: bool = False,
        confirmed: tuple[np.ndarray, np.ndarray] | None = None, fresh: int | None = None) -> MatchResult:
    """Dedupe (or, with ``source`` of 0/1 per record, link) the records given as columns.

    ``confirmed``: index pairs that stewards confirmed as matches, which refine the learnt m. ``fresh``: only the
    records before that index are new, the others matched before: pairs of two of those are not compared."""
    timings: dict[str, float] = {}
    started = time.perf_counter()
    n = len(columns[spec.id_field])
    prepared = prepare(spec, columns, normalised=normalised)
    timings["normalise_s"] = time.perf_counter() - started
    mark = time.perf_counter()
    pairs = candidate_pairs(
        rules_for(spec, {k: c.codes for k, c in prepared.items()}), {k: c.codes for k, c in prepared.items()},
        {k: c.values for k, c in prepared.items()},
        max_block=spec.max_block_size, source=source, pairs_per_record=spec.pairs_per_record, fresh=fresh,
    )
    timings["blocking_s"] = time.perf_counter() - mark
    mark = time.perf_counter()
    gamma = comparison_matrix(spec, prepared, pairs.left, pairs.right)
    timings["compare_s"] = time.perf_counter() - mark
    mark = time.perf_counter()
    if model is None:
        model = train(spec, prepared, pairs, source, n, seed, confirmed)
        total = float(n * (n - 1) / 2) if source is None else float((source == 0).sum()) * float((source == 1).sum())
        model.prior = 0.5
        # With a prior of 0.5 the log-odds term is zero: these weights are the Bayes factors alone.
        weights = _weights(spec, model, prepared, pairs.left, gamma)
        model.prior = prior_over_all_pairs(weights, total)
        # Which disagreements go together among matches, measured on the pairs now clearly matching.
        likely = probability(weights + np.log2(model.prior / (1 - model.prior))) >= 0.99
        model.far_dependence = far_dependence(gamma[likely], model.m)
        model.prior = 0.5
        weights = _weights(spec, model, prepared, pairs.left, gamma)
        model.prior = prior_over_all_pairs(weights, total)
        del weights
    timings["train_s"] = time.perf_counter() - mark
    mark = time.perf_counter()
    prob = _probabilities(spec, model, gamma, _weights(spec, model, prepared, pairs.left, gamma))
    timings["score_s"] = time.perf_counter() - mark
    thresholds = spec.thresholds
    if thresholds is None:
        match = auto_match_threshold(prob)
        thresholds = Thresholds(match=match, review=max(0.05, min(0.2, match)))
    matched = prob >= thresholds.match
    cluster = clusters_of(n, pairs.left[matched], pairs.right[matched])
    keep = np.flatnonzero(prob >= thresholds.review)
    # Per-comparison contributions only for the pairs worth explaining.
    _, contributions, _ = score(spec, model, prepared, pairs.left[keep], pairs.right[keep], gamma[keep])
    timings["total_s"] = time.perf_counter() - started
    stats = {"records": n, "candidate_pairs": int(len(pairs.left)), "matched_pairs": int(matched.sum()),
             "em_iterations": model.iterations, "prior": model.prior, **timings}
    return MatchResult(cluster, pairs.left[keep], pairs.right[keep], prob[keep], contributions, gamma[keep],
                       thresholds, model, stats)
