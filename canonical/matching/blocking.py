"""Blocking: which pairs of records are worth comparing at all.

A blocking rule is a tuple of fields; two records are candidates when they agree on all of its
normalised values (missing values never agree). Pairs are generated in bulk with numpy, and a block
larger than ``max_block`` is skipped, because a key shared by thousands of records identifies nothing.
The hub's online path uses the same rules through Postgres indexes (canonical.services.matching).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from canonical.matching.spec import NAME_TYPES, MatchSpec

TOKEN_BLOCK_CAP = 100
# An automatically chosen key may bring at most this many candidate pairs per record on average:
# a country or a currency "key" would make every record a candidate of every other.
AUTO_PAIRS_PER_RECORD = 10


@dataclass(frozen=True)
class BlockingRule:
    """Agree on all ``fields``; ``tokens=True``: share any one (not too common) word of the single field."""

    fields: tuple[str, ...]
    tokens: bool = False

    @property
    def label(self) -> str:
        return ("tokens:" if self.tokens else "") + "+".join(self.fields)


def rules_for(spec: MatchSpec, codes: Mapping[str, np.ndarray]) -> list[BlockingRule]:
    """The configured rules; or, when none are configured, keys chosen from the data.

    Chosen automatically: every field whose values are selective enough to block on alone (identifiers,
    names), and the rarer words of each name field (which finds typos and reordered words).
    """
    if spec.blocking is not None:
        return [BlockingRule(rule) for rule in spec.blocking]
    rules = []
    for f in spec.fields:
        column = codes[f.name]
        sizes = np.bincount(column)[1:].astype(np.float64)
        if (sizes * (sizes - 1) / 2).sum() <= AUTO_PAIRS_PER_RECORD * max(len(column), 1):
            rules.append(BlockingRule((f.name,)))
        if f.type in NAME_TYPES | {"address"}:
            rules.append(BlockingRule((f.name,), tokens=True))
    return rules


def _pairs_from_groups(
    group: np.ndarray, max_block: int, max_pairs: int | None = None, fresh: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """All pairs of record indexes that share a group id (group < 0: no group), skipping big groups.

    With ``max_pairs``, the largest groups are dropped until the rule's pairs fit in that budget: at a
    million records a key such as a city-centre postcode holds hundreds of companies, and comparing
    each with each would cost more than every selective key together while finding almost nothing.

    ``fresh`` (one flag per element of ``group``): only the pairs with at least one fresh member are made, and
    only they count against the budget. Placing new records among those the hub holds compares each new one with
    the others of its group; the pairs of two records placed before were decided then (made and counted, they
    were most of a hot key's pairs, and pushed its new records' pairs out of the budget)."""
    members = np.flatnonzero(group >= 0)
    if len(members) < 2:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    if fresh is None:
        order = members[np.argsort(group[members], kind="stable")]
    else:  # by group, its fresh members first
        order = members[np.lexsort((~fresh[members], group[members]))]
    g = group[order]
    starts = np.flatnonzero(np.r_[True, g[1:] != g[:-1]])
    sizes = np.diff(np.r_[starts, len(g)])
    if fresh is None:
        counts = sizes * (sizes - 1) // 2
    else:
        new = np.add.reduceat(fresh[order].astype(np.int64), starts)
        counts = new * (2 * sizes - new - 1) // 2  # new with new, and new with the others
    keep = (sizes >= 2) & (sizes <= max_block) & (counts > 0)
    if max_pairs is not None:
        keep &= counts <= _largest_within(counts[keep], max_pairs)
    starts, sizes = starts[keep], sizes[keep]
    if len(starts) == 0:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    # Positions inside kept groups, each paired with every later position of its group (a member that is not
    # fresh, after its group's fresh ones, with none).
    pos = np.repeat(starts, sizes) + _ranges(sizes)
    group_end = np.repeat(starts + sizes, sizes)
    later = group_end - pos - 1
    if fresh is not None:
        later = np.where(fresh[order[pos]], later, 0)
    left_pos = np.repeat(pos, later)
    right_pos = left_pos + 1 + _ranges(later)
    return order[left_pos].astype(np.int64), order[right_pos].astype(np.int64)


def _largest_within(counts: np.ndarray, max_pairs: int) -> int:
    """The largest pair count a group may bring such that all groups up to that count bring at most ``max_pairs``
    pairs together (groups of one size bring as many)."""
    ordered = np.sort(counts).astype(np.int64)
    cumulative = np.cumsum(ordered)
    if len(ordered) == 0 or cumulative[-1] <= max_pairs:
        return int(ordered[-1]) if len(ordered) else 0
    fits = int(np.searchsorted(cumulative, max_pairs, side="right"))
    # Groups of the count that overflows are all left out, so equal keys are treated alike.
    return int(ordered[fits]) - 1 if fits < len(ordered) else int(ordered[-1])


def _ranges(sizes: np.ndarray) -> np.ndarray:
    """Concatenated aranges: [0..s0), [0..s1), ..."""
    total = int(sizes.sum())
    if total == 0:
        return np.empty(0, np.int64)
    offsets = np.repeat(np.cumsum(sizes) - sizes, sizes)
    return np.arange(total, dtype=np.int64) - offsets


def _group_ids(codes: Sequence[np.ndarray]) -> np.ndarray:
    stacked = np.stack(codes, axis=1) if len(codes) > 1 else codes[0][:, None]
    missing = (stacked == 0).any(axis=1)
    if len(codes) == 1:
        group = codes[0].astype(np.int64)
    else:
        _, group = np.unique(stacked, axis=0, return_inverse=True)
        group = group.astype(np.int64).ravel()
    group[missing] = -1
    return group


def _token_pairs(values: np.ndarray, cap: int, max_pairs: int,
                 fresh: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    record, token = [], []
    for i, value in enumerate(values):
        if value:
            for word in set(value.split()):
                if len(word) > 2:
                    record.append(i)
                    token.append(word)
    if not record:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    rec = np.asarray(record, dtype=np.int64)
    _, tok = np.unique(np.asarray(token, dtype=object), return_inverse=True)
    # Each (record, token) row is a member of that token's block.
    left, right = _pairs_from_groups(tok.astype(np.int64), cap, max_pairs, None if fresh is None else rec < fresh)
    return rec[left], rec[right]


@dataclass
class CandidatePairs:
    left: np.ndarray
    right: np.ndarray
    by_rule: dict[str, tuple[np.ndarray, np.ndarray]]


def candidate_pairs(
    rules: Sequence[BlockingRule],
    codes: Mapping[str, np.ndarray],
    values: Mapping[str, np.ndarray],
    *,
    max_block: int,
    source: np.ndarray | None = None,
    pairs_per_record: int = 10,
    fresh: int | None = None,
) -> CandidatePairs:
    """The union of every rule's pairs (left < right), and each rule's own pairs (for training).

    Each rule may bring at most ``pairs_per_record`` x records pairs (its largest blocks go first). With
    ``fresh``, the records from that index on were matched before: no pair of two of them is made."""
    n = len(next(iter(codes.values())))
    flags = None if fresh is None else np.arange(n) < fresh
    budget = max(pairs_per_record * n, 1000)
    by_rule: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    keys = []
    for rule in rules:
        if rule.tokens:
            left, right = _token_pairs(values[rule.fields[0]], min(TOKEN_BLOCK_CAP, max_block), budget, fresh)
        else:
            left, right = _pairs_from_groups(_group_ids([codes[f] for f in rule.fields]), max_block, budget, flags)
        lo, hi = np.minimum(left, right), np.maximum(left, right)
        keep = lo != hi
        if source is not None:
            keep &= source[lo] != source[hi]
        lo, hi = lo[keep], hi[keep]
        rule_keys = np.unique(lo * n + hi)
        by_rule[rule.label] = (rule_keys // n, rule_keys % n)
        keys.append(rule_keys)
    union = np.unique(np.concatenate(keys)) if keys else np.empty(0, np.int64)
    return CandidatePairs(union // n, union % n, by_rule)


NAME_KEY_MARK = "~"
NAME_PREFIX = 4


def name_keys(name: str) -> list[str]:
    """Keys that bring a record named alike to a normalised name (the hub's similar-name lookup).

    Each word of three letters or more, the first four letters of each longer word, and each pair of adjacent
    words' first four letters: "northwind analytics" and "northwnd analytics" share ``~nort``, ``~analytics``,
    ``~anal`` and ``~nort anal``. Like the batch engine's token blocking, a key held by more than
    TOKEN_BLOCK_CAP records is too common to identify a name and is not probed; the pair keys keep names of
    common words findable. All start with ``~``, which no ``field=value`` blocking key does."""
    words = name.split()
    keys = {word for word in words if len(word) >= 3}
    keys.update(word[:NAME_PREFIX] for word in words if len(word) > NAME_PREFIX)
    keys.update(f"{a[:NAME_PREFIX]} {b[:NAME_PREFIX]}" for a, b in zip(words, words[1:], strict=False))
    return sorted(NAME_KEY_MARK + key for key in keys)
