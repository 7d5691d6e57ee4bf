"""Comparators: turn pairs of normalised values into comparison levels, in bulk.

Each field type has an ordered list of levels, from ``exact`` (0) to ``far`` (last); a pair with a value
missing on either side gets ``MISSING`` (-1) and counts neither for nor against. Comparisons run over
whole arrays of pairs at once (numpy for exact, numeric and date closeness; rapidfuzz's ``cpdist`` for
string similarity), which is what makes a million-record dedupe take minutes, not hours.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import jellyfish
import numpy as np
from rapidfuzz import fuzz, process
from rapidfuzz.distance import JaroWinkler, Levenshtein

MISSING = -1

LEVELS: dict[str, tuple[str, ...]] = {
    "exact": ("exact", "far"),
    "country": ("exact", "far"),
    "currency": ("exact", "far"),
    "tax_id": ("exact", "far"),
    "domain": ("exact", "far"),
    "email": ("exact", "close", "far"),
    "phone": ("exact", "close", "far"),
    "postcode": ("exact", "close", "far"),
    "company_name": ("exact", "close", "similar", "far"),
    "string": ("exact", "close", "similar", "far"),
    "name": ("exact", "close", "similar", "phonetic", "far"),
    "address": ("exact", "close", "similar", "far"),
    "date": ("exact", "close", "similar", "far"),
    "number": ("exact", "close", "similar", "far"),
}

# Similarity cut-offs (0..1) of the fuzzy levels, per type: (close, similar).
_JW_CUTS = {"string": (0.94, 0.85), "name": (0.94, 0.86)}
_TOKEN_SET_CUTS = {"address": (0.90, 0.75)}
# Company names: typos and reordered words are "close" (edit similarity of the words sorted); one name
# holding all the words of the other ("Acme Consulting" / "Acme Consulting Group") is "similar".
# Jaro-Winkler is not used for them: it rewards a shared prefix, and "Graphic Lucerne Analytics" and
# "Graphic Lucerne Foods" are two companies.
_COMPANY_CUTS = (0.90, 0.95)
_COMPANY_LENGTH_RATIO = 0.6


@dataclass
class Column:
    """One field's normalised values for every record, factorised once for fast exact comparison."""

    type: str
    values: np.ndarray  # object array of str; "" = missing
    codes: np.ndarray  # int32; 0 = missing, equal codes = equal values
    frequency: np.ndarray  # float64 per code: share of records holding that value
    numeric: np.ndarray | None = None  # float64 for number, days since epoch for date; nan = missing
    phonetic: np.ndarray | None = None  # int32 codes of the metaphone key, for person names
    numbers: np.ndarray | None = None  # int32 codes of an address's house/flat numbers (0: none)

    @property
    def levels(self) -> tuple[str, ...]:
        return LEVELS[self.type]


def _factorise(values: Sequence[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The values as an array, their sorted distinct values, and each one's index among those: np.unique's
    answer. A handful of values (a record and its candidates, online) are factorised in Python, in a fraction of
    the time numpy takes to set up its sort."""
    array = np.asarray(values, dtype=object)
    if len(values) > 256:
        uniques, inverse = np.unique(array, return_inverse=True)
        return array, uniques, inverse
    ordered = sorted(set(values))
    index = {v: i for i, v in enumerate(ordered)}
    return array, np.array(ordered, dtype=object), np.fromiter((index[v] for v in values), np.int64, len(values))


def prepare_column(field_type: str, values: Sequence[str]) -> Column:
    array, uniques, inverse = _factorise(values)
    # Shift so that "" (missing) is code 0 and every real value is >= 1.
    has_empty = len(uniques) > 0 and uniques[0] == ""
    codes = (inverse + (0 if has_empty else 1)).astype(np.int32)
    counts = np.bincount(codes, minlength=len(uniques) + (0 if has_empty else 1)).astype(np.float64)
    counts[0] = 0.0
    present = max(counts.sum(), 1.0)
    column = Column(field_type, array, codes, counts / present)
    if field_type == "number":
        column.numeric = np.array([float(v) if v else np.nan for v in array], dtype=np.float64)
    elif field_type == "date":
        days = np.array([v if v else "NaT" for v in array], dtype="datetime64[D]")
        column.numeric = np.where(np.isnat(days), np.nan, days.astype("int64").astype(np.float64))
    elif field_type == "address":
        signature = {v: " ".join(sorted(t for t in v.split() if any(ch.isdigit() for ch in t))) for v in uniques}
        _, sig_uniques, numbers = _factorise([signature[v] for v in array])
        column.numbers = (numbers + (0 if len(sig_uniques) and sig_uniques[0] == "" else 1)).astype(np.int32)
    elif field_type == "name":
        keys = {v: jellyfish.metaphone(v) if v else "" for v in uniques}
        _, _, phonetic = _factorise([keys[v] for v in array])
        column.phonetic = phonetic.astype(np.int32)
    return column


def _similarity(scorer, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    if len(left) == 0:
        return np.zeros(0, dtype=np.float32)
    # Threads only pay off on big batches; the online path scores a hundred candidates at a time.
    workers = -1 if len(left) >= 20_000 else 1
    return process.cpdist(list(left), list(right), scorer=scorer, dtype=np.float32, workers=workers)


def compare(column: Column, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Comparison level of each pair (left[i], right[i]) of record indexes."""
    lc, rc = column.codes[left], column.codes[right]
    far = len(column.levels) - 1
    levels = np.full(len(left), far, dtype=np.int8)
    levels[lc == rc] = 0
    levels[(lc == 0) | (rc == 0)] = MISSING
    todo = np.flatnonzero(levels == far)
    if len(todo) == 0 or far == 1:
        return levels
    li, ri = left[todo], right[todo]
    ftype = column.type
    if ftype in ("number", "date"):
        a, b = column.numeric[li], column.numeric[ri]
        if ftype == "number":
            scale = np.maximum(np.abs(a), np.abs(b))
            rel = np.divide(np.abs(a - b), scale, out=np.zeros_like(scale), where=scale > 0)
            close, similar = rel <= 0.01, rel <= 0.10
        else:
            gap = np.abs(a - b)
            typo = _similarity(Levenshtein.distance, column.values[li], column.values[ri]) <= 1
            close, similar = (gap <= 1) | typo, gap <= 31
        levels[todo[similar]] = 2
        levels[todo[close]] = 1
        return levels
    lv, rv = column.values[li], column.values[ri]
    if ftype in ("postcode", "phone", "email"):
        # One slip of the keyboard (a transposed digit, a missed letter) on an identifier.
        levels[todo[_similarity(Levenshtein.distance, lv, rv) <= 1]] = 1
        return levels
    if ftype == "address":
        ts = _similarity(fuzz.token_set_ratio, lv, rv) / 100.0
        close_cut, similar_cut = _TOKEN_SET_CUTS["address"]
        # Another house number on the same street is a neighbour, not the same address.
        ln, rn = column.numbers[li], column.numbers[ri]
        same_numbers = (ln == rn) | (ln == 0) | (rn == 0)
        levels[todo[ts >= similar_cut]] = 2
        levels[todo[(ts >= close_cut) & same_numbers]] = 1
        return levels
    if ftype == "company_name":
        close_cut, subset_cut = _COMPANY_CUTS
        # "Similar" when one name holds the other's words and is not much longer: "Acme Consulting" and
        # "Acme Consulting Group" are similar; "Jadestive" and "Jadestive Marine Services" (a parent and a
        # subsidiary) are not.
        lengths = np.array([len(a) for a in lv]), np.array([len(b) for b in rv])
        comparable = np.minimum(*lengths) >= _COMPANY_LENGTH_RATIO * np.maximum(*lengths)
        subset = _similarity(fuzz.token_set_ratio, lv, rv) / 100.0 >= subset_cut
        levels[todo[subset & comparable]] = 2
        levels[todo[_similarity(fuzz.token_sort_ratio, lv, rv) / 100.0 >= close_cut]] = 1
        return levels
    close_cut, similar_cut = _JW_CUTS[ftype]
    jw = _similarity(JaroWinkler.normalized_similarity, lv, rv)
    similar = jw >= similar_cut
    if ftype == "name":
        phonetic = column.phonetic[li] == column.phonetic[ri]
        levels[todo[phonetic]] = 3
    levels[todo[similar]] = 2
    levels[todo[jw >= close_cut]] = 1
    return levels
