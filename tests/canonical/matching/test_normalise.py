"""Normalisation of attribute values: plain functions, no database."""

import subprocess
import sys
from pathlib import Path

import pytest
from cleanco import basename

from canonical.matching import normalise

PROJECT_ROOT = Path(__file__).resolve().parents[3]

ONE_ARGUMENT = [
    normalise.text, normalise.company_name, normalise.person_name, normalise.domain, normalise.email,
    normalise.phone, normalise.country, normalise.currency, normalise.tax_id, normalise.postcode,
    normalise.address, normalise.date, normalise.number, normalise.exact,
]
GARBAGE = ["", "   ", "\x00\x01\x02", "💥🚀", "-" * 5000, "a" * 10000, "+", "@", "()", "..", "\u200b", "nan", "inf"]


# --- every function -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("function", ONE_ARGUMENT)
@pytest.mark.parametrize("value", [None, 42, 1.5, b"bytes", ["list"]])
def test_a_missing_or_non_string_value_is_missing(function, value):
    assert function(value) == ""


@pytest.mark.parametrize("function", ONE_ARGUMENT)
@pytest.mark.parametrize("value", GARBAGE)
def test_garbage_never_raises(function, value):
    assert isinstance(function(value), str)


@pytest.mark.parametrize("function", [normalise.phone, normalise.tax_id, normalise.postcode])
@pytest.mark.parametrize("country", [None, "", "Narnia", "xx", "💥"])
def test_an_unknown_country_never_raises(function, country):
    assert isinstance(function("12345", country), str)


# --- text -----------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("value", "expected"), [
    ("  Hello,   World!! ", "hello world"),
    ("Café-Crème", "cafe creme"),
    ("Straße", "strasse"),
    ("Ærø", "aero"),
    ("Søren Kierkegaard", "soren kierkegaard"),
    ("Œuvre", "oeuvre"),
    ("Łódź", "lodz"),
    ("Đorđe", "dorde"),
    ("ﬁnance", "finance"),
    ("Ａｃｍｅ", "acme"),
    ("İstanbul", "istanbul"),
    ("snake_case__name", "snake case name"),
    ("tab\tand\nnewline", "tab and newline"),
    ("!!!", ""),
    ("", ""),
])
def test_text(value, expected):
    assert normalise.text(value) == expected


# --- company names --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("value", "expected"), [
    ("Thornbury Group Limited", "thornbury group"),
    ("THORNBURY GROUP LTD.", "thornbury group"),
    ("Société Générale S.A.", "societe generale"),
    ("Smith & Sons GmbH", "smith and sons"),
    ("Smith + Sons GmbH", "smith and sons"),
    ("Acme Holdings Ltd.", "acme holdings"),
    ("Acme Holdings plc", "acme holdings"),
    ("Acme UK Ltd", "acme uk"),
    ("The Acme Int'l Co., Ltd.", "acme international"),
    ("Acme Co Holdings", "acme company holdings"),
    ("Acme Mgmt Svcs Ltd", "acme management services"),
    ("Acme Tech Grp", "acme technology group"),
    ("Smith Bros Mfg Inc", "smith brothers manufacturing"),
    ("The Co-operative Group Ltd", "cooperative group"),
    ("W.H. Smith PLC", "wh smith"),
    ("WH Smith plc", "wh smith"),
    ("McDonald's Corporation", "mcdonalds"),
    ("Ernst & Young LLP", "ernst and young"),
    ("Procter & Gamble Co", "procter and gamble"),
    ("J.P. Morgan Chase & Co.", "jp morgan chase"),
    ("Müller GmbH & Co. KG", "muller"),
    ("Ærø Øl ApS", "aero ol"),
    ("OOO Gazprom", "gazprom"),
    ("PT Bank Mandiri", "bank mandiri"),
    ("AB InBev", "ab inbev"),
    ("Ltd", "ltd"),
    ("The", "the"),
    ("", ""),
])
def test_company_name(value, expected):
    assert normalise.company_name(value) == expected


@pytest.mark.parametrize("value", [
    "Acme Ltd", "Acme Limited", "Acme PLC", "Acme LLC", "Acme Inc.", "Acme Incorporated", "Acme Corp.",
    "Acme Corporation", "Acme Company", "Acme & Co", "Acme GmbH", "Acme AG", "Acme S.A.", "Acme SA", "Acme S A",
    "Acme SAS", "Acme SARL", "Acme B.V.", "Acme N.V.", "Acme Pty Ltd", "Acme Pte. Ltd.", "Acme Pvt. Ltd.",
    "Acme Private Limited", "Acme S.p.A.", "Acme S.r.l.", "Acme Oy", "Acme Oyj", "Acme AB", "Acme A/S", "Acme AS",
    "Acme ApS", "Acme K.K.", "Acme S.L.", "Acme Sp. z o.o.", "Acme Kft.", "Acme LLP", "Acme LP", "Acme SE",
    "The Acme Company Limited", "ACME, LTD.", "Acme Co., Ltd.",
])
def test_legal_forms_of_many_countries_are_removed(value):
    assert normalise.company_name(value) == "acme"


@pytest.mark.parametrize(("parent", "subsidiary"), [
    ("Acme Holdings plc", "Acme UK Ltd"),
    ("Acme Group Ltd", "Acme Ltd"),
    ("Acme Holdings Ltd", "Acme Ltd"),
    ("Acme International Ltd", "Acme Ltd"),
    ("Acme Ltd", "Acme NL B.V."),
    ("Acme Inc.", "Acme EU S.A."),
    ("Thornbury Group Limited", "Thornbury Consulting Limited"),
])
def test_subsidiaries_stay_distinct_from_their_parents(parent, subsidiary):
    assert normalise.company_name(parent) != normalise.company_name(subsidiary)


@pytest.mark.parametrize("name", [
    "thornbury group limited", "acme holdings ltd", "kanto co ltd", "smith and sons gmbh", "acme pty ltd",
    "acme pte ltd", "acme spa", "globex corporation", "initech inc", "northwind oy ab", "vandelay llc",
])
def test_legal_form_removal_agrees_with_cleanco_basename_applied_until_stable(name):
    # given
    expected, previous = name, None
    while expected != previous:
        previous, expected = expected, basename(expected)

    # then
    assert normalise.company_name(name) == expected


# --- person names ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("value", "expected"), [
    ("Dr. José  O'Neil Jr.", "jose o neil"),
    ("Mrs Jane Smith-Jones", "jane smith jones"),
    ("Prof Dr Hans Müller PhD", "hans muller"),
    ("Jane Smith Ph.D.", "jane smith"),
    ("Sir Elton John", "elton john"),
    ("Dame Judi Dench", "judi dench"),
    ("Ms. Zoë Brønte", "zoe bronte"),
    ("John Doe III", "john doe"),
    ("Martin Luther King, Sr.", "martin luther king"),
    ("Md Rahman", "md rahman"),
    ("MR", ""),
    ("", ""),
])
def test_person_name(value, expected):
    assert normalise.person_name(value) == expected


# --- domains and e-mail ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("value", "expected"), [
    ("https://www.Acme.co.uk/about", "acme.co.uk"),
    ("http://shop.acme.com.au:8080/x?q=1", "acme.com.au"),
    ("www.acme.com", "acme.com"),
    ("ACME.COM.", "acme.com"),
    ("acme.de", "acme.de"),
    ("a.b.c.acme.fr", "acme.fr"),
    ("jane@mail.acme.com", "acme.com"),
    ("mailto:Jane@Acme.com", "acme.com"),
    ("bücher.de", "bücher.de"),
    ("acme", ""),
    ("localhost", ""),
    ("192.168.0.1", ""),
    ("acme .com", ""),
    ("", ""),
])
def test_domain(value, expected):
    assert normalise.domain(value) == expected


def test_domain_extraction_makes_no_network_call():
    # given: a fresh interpreter in which any socket use is recorded and refused
    script = (
        "import socket\n"
        "attempts = []\n"
        "def refuse(*args, **kwargs):\n"
        "    attempts.append(args)\n"
        "    raise OSError('network refused')\n"
        "socket.socket.connect = refuse\n"
        "socket.create_connection = refuse\n"
        "socket.getaddrinfo = refuse\n"
        "from canonical.matching import normalise\n"
        "print(normalise.domain('https://www.acme.co.uk/x'), len(attempts))\n"
    )

    # when
    result = subprocess.run(  # noqa: S603
        [sys.executable, "-c", script], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=60, check=True,
    )

    # then
    assert result.stdout == "acme.co.uk 0\n"


@pytest.mark.parametrize(("value", "expected"), [
    (" Jane.Doe@Acme.COM ", "jane.doe@acme.com"),
    ("Jane Doe <jane@acme.com>", "jane@acme.com"),
    ("mailto:x@y.org", "x@y.org"),
    ("jane+tag@acme.co.uk", "jane+tag@acme.co.uk"),
    ("a@b@c.com", ""),
    ("jane@acme", ""),
    ("jane@.acme.com", ""),
    ("jane@acme.com.", ""),
    ("jane@acme..com", ""),
    ("@acme.com", ""),
    ("jane doe@acme.com", ""),
    ("jane.acme.com", ""),
])
def test_email(value, expected):
    assert normalise.email(value) == expected


# --- phone ----------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("value", "country", "expected"), [
    ("020 7946 0958", "GB", "+442079460958"),
    ("+44 20 7946 0958", None, "+442079460958"),
    ("+44 (0)20 7946 0958", None, "+442079460958"),
    ("0044 20 7946 0958", "GB", "+442079460958"),
    ("020 7946 0958 ext. 12", "GB", "+442079460958"),
    ("020 7946 0958", "United Kingdom", "+442079460958"),
    ("(415) 555-2671", "US", "+14155552671"),
    ("+1 212-456-7890", None, "+12124567890"),
    ("030 901820", "DE", "+4930901820"),
    ("+49 30 901820", None, "+4930901820"),
    ("01 42 68 53 00", "FR", "+33142685300"),
    ("+33 1 42 68 53 00", "DE", "+33142685300"),
    ("020 7946 0958", None, ""),
    ("020 7946 0958", "Narnia", ""),
    ("12345", "GB", ""),
    ("07700 900123", "GB", ""),
    ("not a phone", "GB", ""),
    ("+999 123", None, ""),
])
def test_phone(value, country, expected):
    assert normalise.phone(value, country) == expected


# --- countries and currencies ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("value", "expected"), [
    ("GB", "GB"), ("gb", "GB"), ("GBR", "GB"), ("826", "GB"), ("United Kingdom", "GB"), ("UK", "GB"),
    ("U.K.", "GB"), ("Great Britain", "GB"), ("England", "GB"), ("Scotland", "GB"), ("Wales", "GB"),
    ("Northern Ireland", "GB"), ("United Kingdom of Great Britain and Northern Ireland", "GB"),
    ("USA", "US"), ("U.S.A.", "US"), ("United States", "US"), ("United States of America", "US"), ("America", "US"),
    ("Holland", "NL"), ("The Netherlands", "NL"), ("Deutschland", "DE"), ("Germany", "DE"),
    ("South Korea", "KR"), ("Korea", "KR"), ("Korea, Republic of", "KR"), ("Republic of Korea", "KR"),
    ("North Korea", "KP"), ("Russia", "RU"), ("Russian Federation", "RU"), ("Côte d'Ivoire", "CI"),
    ("Cote d'Ivoire", "CI"), ("Türkiye", "TR"), ("Turkey", "TR"), ("Czech Republic", "CZ"), ("Czechia", "CZ"),
    ("Viet Nam", "VN"), ("Iran", "IR"), ("Bolivia", "BO"), ("Taiwan", "TW"), ("France", "FR"), ("4", "AF"),
    ("  france  ", "FR"), ("Narnia", ""), ("Virgin Islands", ""), ("", ""),
])
def test_country(value, expected):
    assert normalise.country(value) == expected


@pytest.mark.parametrize(("value", "expected"), [
    ("GBP", "GBP"), ("gbp", "GBP"), ("Pound Sterling", "GBP"), ("£", "GBP"), ("826", "GBP"), ("€", "EUR"),
    ("Euro", "EUR"), ("978", "EUR"), ("US Dollar", "USD"), ("usd", "USD"), ("Yen", "JPY"), ("RMB", "CNY"),
    ("$", ""), ("XYZ", ""), ("", ""),
])
def test_currency(value, expected):
    assert normalise.currency(value) == expected


# --- tax identifiers ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("value", "country", "expected"), [
    ("GB 980 7806 84", None, "GB980780684"),
    ("GB980780684", "GB", "GB980780684"),
    ("980780684", "GB", "GB980780684"),
    ("980-780-684", "United Kingdom", "GB980780684"),
    ("XI980780684", None, "XI980780684"),
    ("DE136695976", None, "DE136695976"),
    ("de 136.695.976", None, "DE136695976"),
    ("136695976", "DE", "DE136695976"),
    ("FR40303265045", None, "FR40303265045"),
    ("ATU13585627", None, "ATU13585627"),
    ("IT00743110157", None, "IT00743110157"),
    ("ESB58378431", "ES", "ESB58378431"),
    ("NL004495445B01", None, "NL004495445B01"),
    ("IE6388047V", "GB", "IE6388047V"),
    ("EL094259216", None, "EL094259216"),
    ("GR094259216", None, "EL094259216"),
    ("094259216", "GR", "EL094259216"),
    ("CHE-107.787.577 MWST", None, "CHE107787577"),
    ("CHE-107.787.577 TVA", None, "CHE107787577"),
    ("107.787.577", "CH", "CHE107787577"),
    ("NO 995 525 828 MVA", None, "NO995525828MVA"),
    ("995525828", "NO", "NO995525828MVA"),
    ("04-2103594", "US", "042103594"),
    ("51 824 753 556", "AU", "51824753556"),
    ("123456782", "CA", "123456782"),
    ("123456782RT0001", "CA", "123456782RT0001"),
    ("27AAPFU0939F1ZV", "IN", "27AAPFU0939F1ZV"),
    ("197401143C", "SG", "197401143C"),
])
def test_a_valid_tax_id_is_compacted_with_its_prefix(value, country, expected):
    assert (normalise.tax_id(value, country), normalise.tax_id_is_valid(value, country)) == (expected, True)


@pytest.mark.parametrize(("value", "country"), [
    ("GB 347 382 997", "GB"),
    ("GB347382997", None),
    ("GB980780685", None),
    ("DE136695977", None),
    ("136695977", "DE"),
    ("FR40303265046", None),
    ("ATU13585626", None),
    ("IT00743110158", None),
    ("IE6388047W", None),
    ("CHE107787578", None),
    ("995525829", "NO"),
    ("00-0000000", "US"),
    ("51 824 753 557", "AU"),
    ("123456783", "CA"),
    ("27AAPFU0939F1Z0", "IN"),
    ("53312345A", "SG"),
    ("not a number", "GB"),
])
def test_an_invalid_tax_id_is_missing(value, country):
    assert (normalise.tax_id(value, country), normalise.tax_id_is_valid(value, country)) == ("", False)


@pytest.mark.parametrize(("value", "country", "expected"), [
    ("12-345/678", "AE", "12345678"),
    ("12.345.678", None, "12345678"),
    ("04-2103594", None, "042103594"),
    ("abc 123", "Narnia", "ABC123"),
])
def test_a_tax_id_without_a_validator_is_compacted_but_not_valid(value, country, expected):
    assert (normalise.tax_id(value, country), normalise.tax_id_is_valid(value, country)) == (expected, False)


def test_spaced_and_compact_vat_numbers_give_the_same_tax_id():
    assert {
        normalise.tax_id("GB 980 7806 84", "GB"), normalise.tax_id("GB980780684"), normalise.tax_id("980780684", "GB"),
    } == {"GB980780684"}


@pytest.mark.parametrize("value", ["", "   ", "--./"])
def test_an_empty_tax_id_is_missing(value):
    assert (normalise.tax_id(value, "GB"), normalise.tax_id_is_valid(value, "GB")) == ("", False)


# --- postcodes and addresses ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("value", "country", "expected"), [
    ("sw1a 1aa", "GB", "SW1A1AA"),
    ("SW1A-1AA", "GB", "SW1A1AA"),
    ("EC1A 1BB", "United Kingdom", "EC1A1BB"),
    ("M1 1AE", "GB", "M11AE"),
    ("GIR 0AA", "GB", "GIR0AA"),
    ("ABC", "GB", ""),
    ("94105-1234", "US", "94105"),
    ("94105", "US", "94105"),
    ("94105 1234", "US", "94105"),
    ("9410", "US", ""),
    ("1012 AB", "NL", "1012AB"),
    ("1012ab", "NL", "1012AB"),
    ("1012", "NL", ""),
    ("75008", "FR", "75008"),
    ("10115", "DE", "10115"),
    ("ec1a 1bb", None, "EC1A1BB"),
    ("", "GB", ""),
])
def test_postcode(value, country, expected):
    assert normalise.postcode(value, country) == expected


@pytest.mark.parametrize(("value", "expected"), [
    ("12 North Park Road, Suite 4", "12 n park rd ste 4"),
    ("221B Baker Street", "221b baker st"),
    ("1 Saint Mary Avenue, 2nd Floor", "1 st mary ave 2nd fl"),
    ("5 St. Mary Ave.", "5 st mary ave"),
    ("Sunset Boulevard West", "sunset blvd w"),
    ("Hauptstraße 5", "hauptstr 5"),
    ("Haupt Strasse 5", "haupt str 5"),
    ("10 Downing Street, London", "10 downing st london"),
    ("3 Church Lane, East Court Place", "3 church ln e ct pl"),
    ("Russell Square South Drive", "russell sq s dr"),
    ("Rue de la Paix", "rue de la paix"),
    ("", ""),
])
def test_address(value, expected):
    assert normalise.address(value) == expected


# --- dates, numbers, exact ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("value", "expected"), [
    ("2026-03-31", "2026-03-31"),
    ("20260331", "2026-03-31"),
    ("2026-03-31T10:00:00Z", "2026-03-31"),
    ("2026-03-31T23:30:00+01:00", "2026-03-31"),
    ("2026-03-31 10:00:00.123456", "2026-03-31"),
    ("31/03/2026", "2026-03-31"),
    ("1/3/2026", "2026-03-01"),
    ("2026/03/31", "2026-03-31"),
    ("31.03.2026", "2026-03-31"),
    ("31-03-2026", "2026-03-31"),
    ("Mar 31, 2026", "2026-03-31"),
    ("March 31, 2026", "2026-03-31"),
    ("31 March 2026", "2026-03-31"),
    ("31 Mar 2026", "2026-03-31"),
    ("  31  march   2026 ", "2026-03-31"),
    ("03/04/2026", "2026-04-03"),
    ("29/02/2024", "2024-02-29"),
    ("2026-02-30", ""),
    ("29/02/2026", ""),
    ("31/13/2026", ""),
    ("13/31/2026", ""),
    ("yesterday", ""),
    ("31/03/26", ""),
    ("", ""),
])
def test_date(value, expected):
    assert normalise.date(value) == expected


@pytest.mark.parametrize(("value", "expected"), [
    ("1234.50", "1234.5"),
    ("1,234.50", "1234.5"),
    ("1.234,50", "1234.5"),
    ("1,234,567.89", "1234567.89"),
    ("1.234.567,89", "1234567.89"),
    ("1 234,50", "1234.5"),
    ("1\u00a0234,50", "1234.5"),
    ("1'234.50", "1234.5"),
    ("12,34,567.5", "1234567.5"),
    ("1,234", "1234"),
    ("1,5", "1.5"),
    ("0,500", "0.5"),
    ("1234,567", "1234.567"),
    ("1.000", "1"),
    (".5", "0.5"),
    ("+42", "42"),
    ("1000", "1000"),
    ("1.2E+06", "1200000"),
    ("£1,234.50", "1234.5"),
    ("€1.234,50", "1234.5"),
    ("USD 1,234.50", "1234.5"),
    ("1.234,50 EUR", "1234.5"),
    ("CHF 1'250.00", "1250"),
    ("-£12", "-12"),
    ("£-12", "-12"),
    ("\u221212.5", "-12.5"),
    ("(1,234.50)", "-1234.5"),
    ("-0", "0"),
    ("-0.00", "0"),
    ("1..2", ""),
    ("1,2,3.4.5", ""),
    ("12,345,67", ""),
    ("12%", ""),
    ("abc", ""),
    ("GBP", ""),
    ("1e999", ""),
    ("", ""),
])
def test_number(value, expected):
    assert normalise.number(value) == expected


@pytest.mark.parametrize(("value", "expected"), [
    ("  Acme Ltd ", "Acme Ltd"),
    ("CASE Matters", "CASE Matters"),
    ("💥", "💥"),
    ("   ", ""),
])
def test_exact(value, expected):
    assert normalise.exact(value) == expected
