"""Normalisation of attribute values before blocking and comparison.

Every public function takes ``str | None`` and returns ``str``, where ``""`` means missing or unparseable; none raises
on bad input (a non-string counts as missing). They run over up to a million records, so results are cached per
distinct input and every lookup table is built once, at import.
"""

import re
import unicodedata
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from types import ModuleType

import phonenumbers
import pycountry
import tldextract
from cleanco.clean import prepare_default_terms
from stdnum import get_cc_module
from stdnum.ch import uid as ch_uid
from stdnum.eu import vat as eu_vat
from stdnum.gb import vat as gb_vat
from stdnum.no import orgnr as no_orgnr

__all__ = [
    "address", "company_name", "country", "currency", "date", "domain", "email", "exact", "number", "person_name",
    "phone", "postcode", "tax_id", "tax_id_is_valid", "text",
]

_CACHE_SIZE = 2**18

# --- text -------------------------------------------------------------------------------------------------------------

# Letters that NFKD leaves whole (casefold has already turned "ß" into "ss").
_LETTERS = str.maketrans({"æ": "ae", "ø": "o", "œ": "oe", "ł": "l", "đ": "d", "ð": "d", "þ": "th", "ħ": "h", "ı": "i"})
_NON_ALNUM = re.compile(r"[\W_]+")


def _fold(value: str) -> str:
    """Casefold and strip accents, keeping punctuation: "Ærø-Straße" -> "aero-strasse"."""
    if value.isascii():
        return value.casefold()
    decomposed = unicodedata.normalize("NFKD", value).casefold().translate(_LETTERS)
    return "".join(char for char in decomposed if not unicodedata.combining(char))


@lru_cache(maxsize=_CACHE_SIZE)
def _text(value: str) -> str:
    return _NON_ALNUM.sub(" ", _fold(value)).strip()


def text(value: str | None) -> str:
    """Casefolded, accent-free words separated by single spaces: "  Café-Crème!" -> "cafe creme"."""
    return _text(value) if isinstance(value, str) else ""


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


# --- internet and phone -----------------------------------------------------------------------------------------------

# The bundled public-suffix snapshot only: no download, no cache directory.
_TLD_EXTRACT = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)


@lru_cache(maxsize=_CACHE_SIZE)
def _domain(value: str) -> str:
    host = value.strip().lower()
    if "://" not in host and "@" in host:
        host = host.rpartition("@")[2]
    if not host or any(char.isspace() for char in host):
        return ""
    return _TLD_EXTRACT(host).top_domain_under_public_suffix


def domain(value: str | None) -> str:
    """The registered domain of a URL, host or e-mail address: "https://www.Acme.co.uk/about" -> "acme.co.uk"."""
    return _domain(value) if isinstance(value, str) else ""


@lru_cache(maxsize=_CACHE_SIZE)
def _email(value: str) -> str:
    address = value.strip().lower().removeprefix("mailto:")
    if address.endswith(">") and "<" in address:  # "Jane Doe <jane@acme.com>"
        address = address[address.rindex("<") + 1:-1].strip()
    local, at, host = address.partition("@")
    if not local or not at or "@" in host or "." not in host or any(char.isspace() for char in address):
        return ""
    if host.startswith(".") or host.endswith(".") or ".." in host:
        return ""
    return address


def email(value: str | None) -> str:
    """A lower-case address with one "@" and a dotted domain: " Jane@Acme.COM " -> "jane@acme.com"."""
    return _email(value) if isinstance(value, str) else ""


@lru_cache(maxsize=_CACHE_SIZE)
def _phone(value: str, region: str) -> str:
    if not region and not value.lstrip().startswith("+"):
        return ""
    try:
        parsed = phonenumbers.parse(value, region or None)
    except phonenumbers.NumberParseException:
        return ""
    if not phonenumbers.is_valid_number(parsed):
        return ""
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def phone(value: str | None, country: str | None = None) -> str:
    """E.164 form of a valid number, dialled from `country` unless it starts with "+": "020 7946 0958", "GB" ->
    "+442079460958". Without a country, a number without "+" is unparseable."""
    return _phone(value, _country(country) if isinstance(country, str) else "") if isinstance(value, str) else ""


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


# --- tax identifiers --------------------------------------------------------------------------------------------------

_TaxCheck = Callable[[str], str]  # compact number (no country prefix) -> canonical form, "" when invalid
_TAX_SEPARATORS = re.compile(r"[\s./\-\u2010-\u2015]+")
# National business numbers that are not VAT numbers; other countries fall back to stdnum's "vat" module, if any.
_NATIONAL_TAX_IDS = {
    "US": "ein", "AU": "abn", "CA": "bn", "IN": "gstin", "SG": "uen", "BR": "cnpj", "MX": "rfc", "JP": "cn",
    "NZ": "ird", "KR": "brn", "CN": "uscc", "TR": "vkn", "RU": "inn", "IL": "hp",
}


def _checker(module: ModuleType, prefix: str = "") -> _TaxCheck:
    def check(number: str) -> str:
        try:
            return prefix + module.validate(number)
        except ValueError:  # stdnum's ValidationError, or a value its parsing chokes on
            return ""

    return check


def _swiss_vat(number: str) -> str:
    """Swiss VAT is the UID plus MWST/TVA/IVA/TPV: the same number in four languages, so the suffix goes."""
    for suffix in ("MWST", "TVA", "IVA", "TPV"):
        number = number.removesuffix(suffix)
    return _checker(ch_uid)("CHE" + number)


def _norwegian_vat(number: str) -> str:
    organisation = _checker(no_orgnr)(number.removesuffix("MVA"))
    return f"NO{organisation}MVA" if organisation else ""


def _vat_checkers() -> dict[str, _TaxCheck]:
    """VAT prefix -> check. Greece's prefix is EL; XI is Northern Ireland, on the UK's register."""
    checkers = {}
    for code in eu_vat.MEMBER_STATES - {"xi"}:
        prefix = "EL" if code == "gr" else code.upper()
        checkers[prefix] = _checker(get_cc_module(code, "vat"), prefix)
    return checkers | {
        "GR": checkers["EL"], "GB": _checker(gb_vat, "GB"), "XI": _checker(gb_vat, "XI"), "CHE": _swiss_vat,
        "NO": _norwegian_vat,
    }


_VAT_CHECKERS = _vat_checkers()
_VAT_PREFIX_BY_COUNTRY = {"GR": "EL", "CH": "CHE"}


@lru_cache(maxsize=256)
def _country_tax_check(code: str) -> _TaxCheck | None:
    """How to check a number given without a VAT prefix for an entity in country `code`."""
    prefix = _VAT_PREFIX_BY_COUNTRY.get(code, code)
    if prefix in _VAT_CHECKERS:
        return _VAT_CHECKERS[prefix]
    module = get_cc_module(code, _NATIONAL_TAX_IDS.get(code, "vat"))
    return _checker(module) if module is not None else None


@lru_cache(maxsize=_CACHE_SIZE)
def _tax_id(value: str, country_code: str) -> tuple[str, bool]:
    """(canonical form, checked): ("", False) when a validator rejects it, (compact, False) when none applies."""
    compact = _TAX_SEPARATORS.sub("", value).upper()
    if not compact:
        return "", False
    prefix = "CHE" if compact.startswith("CHE") else compact[:2]
    attempts: list[tuple[_TaxCheck, str]] = []
    if prefix in _VAT_CHECKERS and compact[len(prefix):len(prefix) + 1].isalnum():
        attempts.append((_VAT_CHECKERS[prefix], compact[len(prefix):]))
    national = _country_tax_check(country_code) if country_code else None
    if national is not None:
        attempts.append((national, compact))
    for check, number in attempts:
        canonical = check(number)
        if canonical:
            return canonical, True
    return ("", False) if attempts else (compact, False)


def _tax_id_lookup(value: str | None, country_value: str | None) -> tuple[str, bool]:
    if not isinstance(value, str):
        return "", False
    return _tax_id(value, _country(country_value) if isinstance(country_value, str) else "")


def tax_id(value: str | None, country: str | None = None) -> str:
    """A checked, compact tax number, VAT numbers with their prefix: "GB 980 7806 84" -> "GB980780684".

    `country` (any form `country()` accepts) says which national scheme applies to a number without a VAT prefix.
    Returns "" when the number fails its scheme's check, and the compacted value when no scheme applies: an
    unknown number is not an invalid one.
    """
    return _tax_id_lookup(value, country)[0]


def tax_id_is_valid(value: str | None, country: str | None = None) -> bool:
    """True only when a validator for the number's scheme accepted it (unknown schemes give False)."""
    return _tax_id_lookup(value, country)[1]


# --- postal addresses -------------------------------------------------------------------------------------------------

_POSTCODE_FORMATS = {
    "GB": re.compile(r"[A-Z]{1,2}[0-9][A-Z0-9]?[0-9][A-Z]{2}|GIR0AA"),
    "NL": re.compile(r"[1-9][0-9]{3}[A-Z]{2}"),
}
_US_ZIP = re.compile(r"([0-9]{5})(?:[0-9]{4})?")
_ADDRESS_ABBREVIATIONS = {
    "street": "st", "road": "rd", "avenue": "ave", "boulevard": "blvd", "drive": "dr", "lane": "ln", "place": "pl",
    "square": "sq", "court": "ct", "suite": "ste", "floor": "fl", "north": "n", "south": "s", "east": "e",
    "west": "w", "strasse": "str", "saint": "st", "apartment": "apt", "building": "bldg", "highway": "hwy",
    "parkway": "pkwy", "terrace": "ter", "crescent": "cres", "centre": "ctr", "center": "ctr", "mount": "mt",
}


@lru_cache(maxsize=_CACHE_SIZE)
def _postcode(value: str, country_code: str) -> str:
    code = _NON_ALNUM.sub("", _fold(value)).upper()
    if country_code == "US":
        match = _US_ZIP.fullmatch(code)
        return match.group(1) if match else ""
    pattern = _POSTCODE_FORMATS.get(country_code)
    return code if pattern is None or pattern.fullmatch(code) else ""


def postcode(value: str | None, country: str | None = None) -> str:
    """Compact upper-case postcode, checked for GB, NL and US (5-digit ZIP): "sw1a 1aa" -> "SW1A1AA"."""
    if not isinstance(value, str):
        return ""
    return _postcode(value, _country(country) if isinstance(country, str) else "")


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
