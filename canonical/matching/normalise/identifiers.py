"""Identifiers: domains, e-mail addresses, phone numbers, tax numbers and postcodes."""

import re
from collections.abc import Callable
from functools import lru_cache
from types import ModuleType

import phonenumbers
import tldextract
from stdnum import get_cc_module
from stdnum.ch import uid as ch_uid
from stdnum.eu import vat as eu_vat
from stdnum.gb import vat as gb_vat
from stdnum.no import orgnr as no_orgnr

from canonical.matching.normalise.folding import _CACHE_SIZE, _NON_ALNUM, _fold
from canonical.matching.normalise.values import _country

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


# --- postcodes --------------------------------------------------------------------------------------------------------

_POSTCODE_FORMATS = {
    "GB": re.compile(r"[A-Z]{1,2}[0-9][A-Z0-9]?[0-9][A-Z]{2}|GIR0AA"),
    "NL": re.compile(r"[1-9][0-9]{3}[A-Z]{2}"),
}
_US_ZIP = re.compile(r"([0-9]{5})(?:[0-9]{4})?")


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
