"""Blocking generates exactly the pairs that share a key; comparators give the expected levels."""

import itertools

import numpy as np
import pytest

from canonical.matching.blocking import BlockingRule, _pairs_from_groups, candidate_pairs
from canonical.matching.compare import MISSING, compare, prepare_column


def test_pairs_from_groups_is_every_pair_within_each_group():
    rng = np.random.default_rng(0)
    group = rng.integers(-1, 40, 500)

    left, right = _pairs_from_groups(group, max_block=1000)

    got = {tuple(sorted(p)) for p in zip(left.tolist(), right.tolist(), strict=True)}
    expected = {(i, j) for i, j in itertools.combinations(range(500), 2) if group[i] == group[j] >= 0}
    assert got == expected


def test_oversized_blocks_are_skipped():
    group = np.array([0] * 10 + [1] * 3)

    left, right = _pairs_from_groups(group, max_block=5)

    assert set(zip(left.tolist(), right.tolist(), strict=True)) == {(10, 11), (10, 12), (11, 12)}


def test_with_fresh_members_only_pairs_with_one_of_them_are_made():
    rng = np.random.default_rng(3)
    group = rng.integers(-1, 30, 400)
    fresh = rng.random(400) < 0.2

    left, right = _pairs_from_groups(group, max_block=1000, fresh=fresh)

    got = [tuple(sorted(p)) for p in zip(left.tolist(), right.tolist(), strict=True)]
    expected = {(i, j) for i, j in itertools.combinations(range(400), 2)
                if group[i] == group[j] >= 0 and (fresh[i] or fresh[j])}
    assert len(got) == len(set(got)) and set(got) == expected


def test_the_budget_counts_only_the_pairs_made():
    """A hot key holding many records placed before and one new record brings as many pairs as the old ones: it
    is not dropped for the pairs of old records with each other, which are never made."""
    group = np.array([0] * 60 + [1] * 4)  # group 0: 60 old records and then the new one at index 0
    fresh = np.zeros(64, dtype=bool)
    fresh[[0, 60]] = True

    everything = _pairs_from_groups(group, max_block=1000, max_pairs=100)
    with_fresh = _pairs_from_groups(group, max_block=1000, max_pairs=100, fresh=fresh)

    assert set(everything[0].tolist()) | set(everything[1].tolist()) == {60, 61, 62, 63}  # group 0 dropped: 1,770
    made = set(zip(with_fresh[0].tolist(), with_fresh[1].tolist(), strict=True))
    assert {(0, j) for j in range(1, 60)} <= made and {(60, j) for j in (61, 62, 63)} <= made
    assert len(made) == 59 + 3


def test_candidate_pairs_leave_out_pairs_of_records_matched_before():
    codes = {"zip": np.array([3, 3, 3, 3, 4, 4])}
    values = {"zip": codes["zip"].astype(object)}

    pairs = candidate_pairs([BlockingRule(("zip",))], codes, values, max_block=100, fresh=2)

    assert set(zip(pairs.left.tolist(), pairs.right.tolist(), strict=True)) == {(0, 1), (0, 2), (0, 3), (1, 2),
                                                                                 (1, 3)}


def test_candidate_pairs_union_rules_and_respect_link_sources():
    codes = {"tax": np.array([1, 1, 0, 2, 2]), "zip": np.array([3, 0, 3, 3, 4])}
    values = {k: v.astype(object) for k, v in codes.items()}
    rules = [BlockingRule(("tax",)), BlockingRule(("zip",))]

    dedupe = candidate_pairs(rules, codes, values, max_block=100)
    link = candidate_pairs(rules, codes, values, max_block=100, source=np.array([0, 1, 1, 0, 1]))

    assert set(zip(dedupe.left.tolist(), dedupe.right.tolist(), strict=True)) == {(0, 1), (3, 4), (0, 2), (0, 3),
                                                                                   (2, 3)}
    assert set(zip(link.left.tolist(), link.right.tolist(), strict=True)) == {(0, 1), (3, 4), (0, 2), (2, 3)}
    assert set(dedupe.by_rule) == {"tax", "zip"}


def test_blocking_recall_on_noisy_duplicates():
    """Every true duplicate pair that shares any one key is found, however the keys are spread."""
    rng = np.random.default_rng(5)
    entity = np.repeat(np.arange(300), 2)
    keys = {name: entity.copy() + 1 for name in ("a", "b", "c")}
    for name in keys:
        keys[name][rng.random(len(entity)) < 0.4] = 0  # each key missing 40% of the time
    values = {k: v.astype(object) for k, v in keys.items()}

    pairs = candidate_pairs([BlockingRule((k,)) for k in keys], keys, values, max_block=50)

    found = set(zip(pairs.left.tolist(), pairs.right.tolist(), strict=True))
    reachable = {(2 * e, 2 * e + 1) for e in range(300)
                 if any(keys[k][2 * e] and keys[k][2 * e + 1] for k in keys)}
    assert reachable <= found
    assert len(reachable) / 300 > 0.7


@pytest.mark.parametrize(("field_type", "a", "b", "level"), [
    ("company_name", "acme consulting", "acme consulting", "exact"),
    ("company_name", "acme consulting", "acme consultnig", "close"),
    ("company_name", "consulting acme", "acme consulting", "close"),
    ("company_name", "acme consulting", "acme consulting group", "similar"),
    ("company_name", "graphic lucerne analytics", "graphic lucerne foods", "far"),
    ("company_name", "acme consulting", "zenith partners", "far"),
    ("name", "catherine smith", "katherine smith", "close"),
    ("address", "12 high st", "12 high st flat 3", "similar"),
    ("address", "12 high st", "12 hgh st", "close"),
    ("address", "12 high st", "14 high st", "similar"),
    ("address", "12 high st leeds", "9 park rd york", "far"),
    ("postcode", "SW1A1AA", "SW1A1AB", "close"),
    ("date", "2026-03-01", "2026-03-02", "close"),
    ("date", "2026-03-01", "2026-03-20", "similar"),
    ("date", "2026-03-01", "2027-09-01", "far"),
    ("number", "1000", "1005", "close"),
    ("number", "1000", "1090", "similar"),
    ("number", "1000", "2000", "far"),
    ("tax_id", "GB980780684", "GB980780684", "exact"),
    ("tax_id", "GB980780684", "GB123456789", "far"),
])
def test_comparator_levels(field_type, a, b, level):
    column = prepare_column(field_type, [a, b])

    got = compare(column, np.array([0]), np.array([1]))[0]

    assert column.levels[got] == level


def test_missing_on_either_side_is_missing():
    column = prepare_column("company_name", ["acme", "", "acme"])

    assert compare(column, np.array([0, 1]), np.array([1, 2])).tolist() == [MISSING, MISSING]
