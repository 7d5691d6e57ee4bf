"""Names of companies and people: legal forms, titles and abbreviations removed."""

import re
from functools import lru_cache

from cleanco.clean import prepare_default_terms

from canonical.matching.normalise.folding import _CACHE_SIZE, _NON_ALNUM, _fold, _text

# --- company names ----------------------------------------------------------------------------------------------------

# cleanco lists these as legal forms, but in client data they name a subsidiary's market ("Acme UK Ltd" is not
# "Acme Ltd"). cleanco has "uk" as an Uzbek form, "nl" as the Australian "No Liability" and "ca" from Ecuador.
_KEPT_WORDS = frozenset({"uk", "eu", "nl", "ca", "at", "us", "usa", "vat"})
# Legal forms written before the name ("PT Bank Mandiri", "OOO Gazprom"); "AB" is left out ("AB InBev").
_PREFIX_FORMS = frozenset({"pt", "ooo", "oao", "zao", "pao", "sia", "uab", "tov", "ооо", "оао", "зао", "пао"})
_COMPANY_ABBREVIATIONS = {
    "intl": "international", "grp": "group", "mgmt": "management", "mgt": "management", "svcs": "services",
    "svc": "services", "tech": "technology", "natl": "national", "assoc": "associates", "bros": "brothers",
    "mfg": "manufacturing", "hldgs": "holdings", "hldg": "holding",
}
# "&"/"+" become words before punctuation goes; apostrophes join ("int'l" -> "intl", "McDonald's" -> "mcdonalds").
_COMPANY_SYMBOLS = str.maketrans({"&": " and ", "+": " and ", "'": None, "’": None, "`": None})
_CO_HYPHEN = re.compile(r"\bco-(?=\w)")  # "co-operative" is one word, not "company operative"


def _legal_form_suffixes() -> dict[int, frozenset[tuple[str, ...]]]:
    """cleanco's own normalised term list, indexed by length (longest first) for set lookups."""
    by_size: dict[int, set[tuple[str, ...]]] = {}
    for size, parts in prepare_default_terms():
        words = tuple("and" if part == "&" else part for part in parts)
        if all(word.isalnum() for word in words) and _KEPT_WORDS.isdisjoint(words):
            by_size.setdefault(size, set()).add(words)
    return {size: frozenset(by_size[size]) for size in sorted(by_size, reverse=True)}


_LEGAL_FORM_SUFFIXES = _legal_form_suffixes()


def _join_initials(words: list[str]) -> list[str]:
    """Runs of single letters are one acronym: "s p a" (from "S.p.A.") -> "spa", "w h smith" -> "wh smith"."""
    joined: list[str] = []
    in_run = False
    for word in words:
        initial = len(word) == 1 and word.isalpha()
        if initial and in_run:
            joined[-1] += word
        else:
            joined.append(word)
        in_run = initial
    return joined


def _strip_legal_forms(words: list[str]) -> list[str]:
    """cleanco's basename applied until stable (longest suffix first), but never down to nothing."""
    stripped = True
    while stripped:
        stripped = False
        for size, terms in _LEGAL_FORM_SUFFIXES.items():
            if size < len(words) and tuple(words[-size:]) in terms:
                del words[-size:]
                stripped = True
                break
    while len(words) > 1 and words[0] in _PREFIX_FORMS:
        del words[0]
    return words


@lru_cache(maxsize=_CACHE_SIZE)
def _company_name(value: str) -> str:
    folded = _fold(value).translate(_COMPANY_SYMBOLS)
    if "co-" in folded:
        folded = _CO_HYPHEN.sub("co", folded)
    words = _join_initials(_NON_ALNUM.sub(" ", folded).split())
    if len(words) > 1 and words[0] == "the":
        del words[0]
    words = _strip_legal_forms(words)
    last = len(words) - 1
    return " ".join(
        "company" if word == "co" and index < last else _COMPANY_ABBREVIATIONS.get(word, word)
        for index, word in enumerate(words)
    )


def company_name(value: str | None) -> str:
    """A legal-entity name without legal forms or noise: "The Acme Int'l Co., Ltd." -> "acme international".

    Words that tell a parent from its subsidiaries ("group", "holdings", "uk") are kept.
    """
    return _company_name(value) if isinstance(value, str) else ""


# --- person names -----------------------------------------------------------------------------------------------------

_TITLES = frozenset({"mr", "mrs", "ms", "miss", "mx", "dr", "prof", "sir", "dame", "rev"})
_NAME_SUFFIXES = frozenset({"jr", "sr", "ii", "iii", "iv", "phd", "md", "esq"})


@lru_cache(maxsize=_CACHE_SIZE)
def _person_name(value: str) -> str:
    words = _text(value).split()
    start = 0
    while start < len(words) and words[start] in _TITLES:
        start += 1
    end = len(words)
    while end > start and words[end - 1] in _NAME_SUFFIXES:
        end -= 1
    if end - start > 1 and words[end - 2:end] == ["ph", "d"]:  # "Ph.D."
        end -= 2
    return " ".join(words[start:end])


def person_name(value: str | None) -> str:
    """A person's name without titles or suffixes: "Dr. José  O'Neil Jr." -> "jose o neil"."""
    return _person_name(value) if isinstance(value, str) else ""

