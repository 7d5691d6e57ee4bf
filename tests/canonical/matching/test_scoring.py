"""Fellegi-Sunter with EM: parameters recovered from a known synthetic mixture, without labels."""

import numpy as np

from canonical.matching.compare import MISSING
from canonical.matching.scoring import (
    Model,
    auto_match_threshold,
    expectation_maximisation,
    level_frequencies,
    match_weights,
    probability,
)

TRUE_M = [np.array([0.85, 0.10, 0.05]), np.array([0.70, 0.30]), np.array([0.9, 0.06, 0.04])]
TRUE_U = [np.array([0.01, 0.04, 0.95]), np.array([0.05, 0.95]), np.array([0.02, 0.08, 0.90])]
N_LEVELS = [3, 2, 3]


def _mixture(n: int, prior: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    is_match = rng.random(n) < prior
    gamma = np.empty((n, len(N_LEVELS)), dtype=np.int8)
    for f, levels in enumerate(N_LEVELS):
        gamma[is_match, f] = rng.choice(levels, is_match.sum(), p=TRUE_M[f])
        gamma[~is_match, f] = rng.choice(levels, (~is_match).sum(), p=TRUE_U[f])
    return gamma, is_match


def test_em_recovers_m_and_prior_from_a_known_mixture():
    rng = np.random.default_rng(7)
    gamma, _ = _mixture(200_000, 0.2, rng)
    random_pairs, _ = _mixture(200_000, 0.0, rng)
    u = level_frequencies(random_pairs, N_LEVELS)

    m, prior, iterations = expectation_maximisation(gamma, N_LEVELS, u)

    assert abs(prior - 0.2) < 0.01
    for estimated, true in zip(m, TRUE_M, strict=True):
        assert np.abs(estimated - true).max() < 0.02
    assert 1 < iterations < 100


def test_missing_values_take_no_part():
    rng = np.random.default_rng(1)
    gamma, _ = _mixture(100_000, 0.3, rng)
    with_gaps = gamma.copy()
    with_gaps[rng.random(len(gamma)) < 0.3, 1] = MISSING
    u = level_frequencies(_mixture(100_000, 0.0, rng)[0], N_LEVELS)

    m_full, prior_full, _ = expectation_maximisation(gamma, N_LEVELS, u)
    m_gaps, prior_gaps, _ = expectation_maximisation(with_gaps, N_LEVELS, u)

    assert abs(prior_full - prior_gaps) < 0.01
    assert np.abs(m_full[1] - m_gaps[1]).max() < 0.02


def test_held_out_fields_are_not_estimated():
    rng = np.random.default_rng(2)
    gamma, _ = _mixture(50_000, 0.3, rng)
    gamma[:, 0] = 0  # blocked on field 0: every pair agrees on it
    u = level_frequencies(_mixture(50_000, 0.0, rng)[0], N_LEVELS)

    m, prior, _ = expectation_maximisation(gamma, N_LEVELS, u, held_out=frozenset({0}))

    assert abs(prior - 0.3) < 0.02
    assert np.abs(m[2] - TRUE_M[2]).max() < 0.03


def test_scores_separate_matches_and_threshold_is_chosen_by_expected_f1():
    rng = np.random.default_rng(3)
    gamma, is_match = _mixture(50_000, 0.1, rng)
    model = Model(["a", "b", "c"], [("x",) * 3, ("x",) * 2, ("x",) * 3], TRUE_M, TRUE_U, 0.1)

    weights, contributions = match_weights(model, gamma)
    p = probability(weights)
    threshold = auto_match_threshold(p)
    predicted = p >= threshold

    precision = (predicted & is_match).sum() / predicted.sum()
    recall = (predicted & is_match).sum() / is_match.sum()
    assert precision > 0.9 and recall > 0.9
    assert 0.05 <= threshold <= 0.99
    assert contributions.shape == gamma.shape
    assert np.allclose(weights, np.log2(0.1 / 0.9) + contributions.sum(axis=1))


def test_model_round_trips_through_json():
    model = Model(["a"], [("exact", "far")], [np.array([0.9, 0.1])], [np.array([0.01, 0.99])], 0.05, [True])

    again = Model.from_dict(model.to_dict())

    assert again.fields == ["a"] and again.prior == 0.05 and again.tf == [True]
    assert np.allclose(again.m[0], [0.9, 0.1]) and np.allclose(again.u[0], [0.01, 0.99])


def test_steward_confirmed_matches_refine_m():
    from canonical.matching.engine import EM_PSEUDO_COUNT, refine_m

    m = [np.array([0.9, 0.1])]
    confirmed = np.array([[1]] * EM_PSEUDO_COUNT, dtype=np.int8)  # stewards merged pairs that disagree

    refined = refine_m(m, confirmed, [2])

    assert np.allclose(refined[0], [0.45, 0.55])
