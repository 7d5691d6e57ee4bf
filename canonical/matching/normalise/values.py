"""Values: countries, currencies, address lines, dates, numbers and exact values."""

import re
from datetime import datetime
from decimal import Decimal, InvalidOperation
from functools import lru_cache

import pycountry

from canonical.matching.normalise.folding import _CACHE_SIZE, _text

# --- countries and currencies -----------------------------------------------------------------------------------------

_COUNTRY_ALIASES = {
    "uk": "GB", "great britain": "GB", "britain": "GB", "england": "GB", "scotland": "GB", "wales": "GB",
    "northern ireland": "GB", "usa": "US", "united states": "US", "america": "US", "holland": "NL",
    "nederland": "NL", "deutschland": "DE", "korea": "KR", "south korea": "KR", "republic of korea": "KR",
    "north korea": "KP", "russia": "RU", "czech republic": "CZ", "ivory coast": "CI", "turkey": "TR",
    "vietnam": "VN", "iran": "IR", "syria": "SY", "laos": "LA", "moldova": "MD", "macau": "MO", "burma": "MM",
    "east timor": "TL", "cape verde": "CV", "swaziland": "SZ", "macedonia": "MK", "vatican": "VA", "eire": "IE",
    "republic of ireland": "IE", "uae": "AE", "emirates": "AE", "schweiz": "CH", "suisse": "CH", "espana": "ES",
    "italia": "IT", "brasil": "BR", "osterreich": "AT", "belgie": "BE", "belgique": "BE", "sverige": "SE",
    "norge": "NO", "danmark": "DK", "suomi": "FI", "polska": "PL", "prc": "CN", "mainland china": "CN",
}


def _country_key(value: str) -> str:
    """"The U.S.A." -> "usa", "Côte d'Ivoire" -> "cote divoire"."""
    key = _text(value.replace(".", "").replace("'", "").replace("’", ""))
    return key.removeprefix("the ")


def _country_table() -> dict[str, str]:
    """Every code, name and alias, keyed by `_country_key`, to its alpha-2 code."""
    table: dict[str, str] = {}
    short_names: dict[str, set[str]] = {}
    for entry in pycountry.countries:
        code = entry.alpha_2
        table.update({code.lower(): code, entry.alpha_3.lower(): code, entry.numeric: code})
        for name in filter(None, (getattr(entry, attr, None) for attr in ("name", "official_name", "common_name"))):
            table[_country_key(name)] = code
            # "Korea, Republic of" is also "Republic of Korea"; "Holy See (Vatican City State)" also "Holy See".
            head, _, tail = name.split(" (")[0].partition(", ")
            for short in (head, f"{tail} {head}" if tail else ""):
                short_names.setdefault(_country_key(short), set()).add(code)
    for key, codes in short_names.items():
        if key and len(codes) == 1:
            table.setdefault(key, codes.pop())
    table.update({_country_key(alias): code for alias, code in _COUNTRY_ALIASES.items()})
    return table


_COUNTRIES = _country_table()


@lru_cache(maxsize=_CACHE_SIZE)
def _country(value: str) -> str:
    key = _country_key(value)
    if key.isdigit():
        key = key.zfill(3)
    return _COUNTRIES.get(key, "")


def country(value: str | None) -> str:
    """ISO 3166-1 alpha-2 code from a code, a name or a common alias: "England" -> "GB", "U.S.A." -> "US"."""
    return _country(value) if isinstance(value, str) else ""


_CURRENCY_ALIASES = {
    "£": "GBP", "€": "EUR", "us$": "USD", "a$": "AUD", "au$": "AUD", "c$": "CAD", "ca$": "CAD", "nz$": "NZD",
    "hk$": "HKD", "s$": "SGD", "₹": "INR", "₩": "KRW", "₽": "RUB", "₺": "TRY", "₪": "ILS", "sterling": "GBP",
    "pounds sterling": "GBP", "euros": "EUR", "us dollars": "USD", "rmb": "CNY", "renminbi": "CNY", "yuan": "CNY",
}


def _currency_table() -> dict[str, str]:
    table: dict[str, str] = {}
    for entry in pycountry.currencies:
        table.update({entry.alpha_3.casefold(): entry.alpha_3, _text(entry.name): entry.alpha_3})
        if getattr(entry, "numeric", None):
            table[entry.numeric] = entry.alpha_3
    table.update(_CURRENCY_ALIASES)
    return table


_CURRENCIES = _currency_table()


@lru_cache(maxsize=_CACHE_SIZE)
def _currency(value: str) -> str:
    raw = value.strip().casefold()
    return _CURRENCIES.get(raw) or _CURRENCIES.get(_text(raw), "")


def currency(value: str | None) -> str:
    """ISO 4217 code from a code, a name or an unambiguous symbol: "Pound Sterling" -> "GBP", "€" -> "EUR"."""
    return _currency(value) if isinstance(value, str) else ""


# --- address lines ----------------------------------------------------------------------------------------------------

_ADDRESS_ABBREVIATIONS = {
    "street": "st", "road": "rd", "avenue": "ave", "boulevard": "blvd", "drive": "dr", "lane": "ln", "place": "pl",
    "square": "sq", "court": "ct", "suite": "ste", "floor": "fl", "north": "n", "south": "s", "east": "e",
    "west": "w", "strasse": "str", "saint": "st", "apartment": "apt", "building": "bldg", "highway": "hwy",
    "parkway": "pkwy", "terrace": "ter", "crescent": "cres", "centre": "ctr", "center": "ctr", "mount": "mt",
}


@lru_cache(maxsize=_CACHE_SIZE)
def _address(value: str) -> str:
    words = []
    for word in _text(value).split():
        word = _ADDRESS_ABBREVIATIONS.get(word, word)
        if word.endswith("strasse"):  # German compounds: "hauptstrasse" -> "hauptstr"
            word = word[:-7] + "str"
        words.append(word)
    return " ".join(words)


def address(value: str | None) -> str:
    """An address line with standard abbreviations: "12 North Park Road, Suite 4" -> "12 n park rd ste 4"."""
    return _address(value) if isinstance(value, str) else ""


# --- dates, numbers, exact values -------------------------------------------------------------------------------------

# Day first wherever day and month could swap ("03/04/2026" is 3 April).
_DATE_FORMATS = (
    "%d/%m/%Y", "%Y/%m/%d", "%d.%m.%Y", "%d-%m-%Y", "%b %d, %Y", "%B %d, %Y", "%b %d %Y", "%B %d %Y", "%d %B %Y",
    "%d %b %Y",
)


@lru_cache(maxsize=_CACHE_SIZE)
def _date(value: str) -> str:
    cleaned = " ".join(value.split())
    if not cleaned:
        return ""
    try:
        return datetime.fromisoformat(cleaned).date().isoformat()  # the date as written, whatever the offset
    except ValueError:
        pass
    for date_format in _DATE_FORMATS:
        try:
            return datetime.strptime(cleaned, date_format).date().isoformat()
        except ValueError:
            continue
    return ""


def date(value: str | None) -> str:
    """ISO "YYYY-MM-DD" from ISO dates/datetimes and common day-first or spelled-out forms: "31.03.2026" ->
    "2026-03-31"."""
    return _date(value) if isinstance(value, str) else ""


_LEADING_CURRENCY = re.compile(r"^(?:[a-z]{3}|[a-z]{0,2}\$|[^\w\s.,+\-%()])\s*")
_TRAILING_CURRENCY = re.compile(r"\s*(?:[a-z]{3}|[^\w\s.,+\-%()])$")
_GROUPING = re.compile(r"[\s'’]+")  # "1 234,50", "1'234.50" (Swiss); \s covers no-break and thin spaces
_PLAIN_NUMBER = re.compile(r"(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:e[+-]?[0-9]+)?")
# Groups of three, or the Indian 2-2-3 ("12,34,567"), always ending in three.
_GROUPED = {mark: re.compile(rf"[0-9]{{1,3}}(?:\{mark}[0-9]{{2,3}})*\{mark}[0-9]{{3}}") for mark in ",."}
_MAX_MAGNITUDE = 30  # digits either side of the point; beyond this it is not an amount, and "f" formatting explodes


def _with_point(digits: str) -> str:
    """Grouping out, decimal mark as ".": "1.234,50" -> "1234.50", "1,234" -> "1234"; "" when grouping is wrong.

    A lone "." is a decimal point ("1.234" is 1.234); a lone "," is grouping only before exactly three digits.
    """
    if "," in digits and "." in digits:
        decimal_mark = max(",", ".", key=digits.rindex)
    elif digits.count(",") == 1:
        whole, fraction = digits.split(",")
        grouped = len(fraction) == 3 and 0 < len(whole) <= 3 and not whole.startswith("0")
        decimal_mark = "" if grouped else ","
    elif digits.count(".") == 1:
        decimal_mark = "."
    else:  # no mark, or a repeated one: "1.234.567", "1,234,567"
        decimal_mark = ""
    grouping = "." if decimal_mark == "," or (not decimal_mark and "." in digits) else ","
    whole, _, fraction = digits.rpartition(decimal_mark) if decimal_mark else (digits, "", "")
    if grouping in fraction or (grouping in whole and not _GROUPED[grouping].fullmatch(whole)):
        return ""
    return whole.replace(grouping, "") + ("." + fraction if decimal_mark else "")


@lru_cache(maxsize=_CACHE_SIZE)
def _number(value: str) -> str:
    raw = value.strip().casefold().replace("\u2212", "-")
    negative = raw.startswith("(") and raw.endswith(")")  # accounting notation
    raw = raw[1:-1].strip() if negative else raw
    for _ in range(2):  # a sign may sit either side of the currency: "-£12", "£-12"
        if raw[:1] in ("-", "+"):
            negative ^= raw[0] == "-"
            raw = raw[1:].lstrip()
        raw = _TRAILING_CURRENCY.sub("", _LEADING_CURRENCY.sub("", raw, count=1), count=1)
    digits = _with_point(_GROUPING.sub("", raw))
    if not _PLAIN_NUMBER.fullmatch(digits):
        return ""
    try:
        amount = Decimal(digits)
    except InvalidOperation:
        return ""
    if amount.is_zero():
        return "0"
    if abs(amount.adjusted()) > _MAX_MAGNITUDE:
        return ""
    return format((-amount if negative else amount).normalize(), "f")


def number(value: str | None) -> str:
    """A canonical decimal string without currency or grouping: "€1.234,50" -> "1234.5", "(12.00)" -> "-12"."""
    return _number(value) if isinstance(value, str) else ""


def exact(value: str | None) -> str:
    """The value with surrounding whitespace removed, case and all."""
    return value.strip() if isinstance(value, str) else ""
