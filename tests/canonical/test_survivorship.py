"""Survivorship per strategy, over plain values."""

import datetime as dt

from canonical.survivorship import (
    AGGREGATE,
    FALLBACK,
    MOST_COMPLETE,
    MOST_FREQUENT,
    MOST_RECENT,
    SOURCE_PRIORITY,
    STEWARD_OVERRIDE,
    Rule,
    SourceValues,
    survive,
    survive_attribute,
)

T = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)


def src(key, kind, hours, **attributes):
    return SourceValues(f"{key}-{hours}", kind, key, T + dt.timedelta(hours=hours), attributes)


def test_source_priority_takes_the_authoritative_system_even_when_older():
    crm = src("salesforce", "salesforce", 5, tax_id="GB111")
    erp = src("netsuite", "netsuite", 1, tax_id="GB222")

    chosen = survive_attribute("tax_id", Rule(SOURCE_PRIORITY, ("netsuite",)), [crm, erp])

    assert (chosen.value, chosen.system, chosen.rule) == ("GB222", "netsuite", SOURCE_PRIORITY)


def test_source_priority_falls_back_to_most_recent_when_the_authority_is_silent():
    crm = src("salesforce", "salesforce", 5, tax_id="GB111")
    erp = src("netsuite", "netsuite", 9, tax_id="")

    chosen = survive_attribute("tax_id", Rule(SOURCE_PRIORITY, ("netsuite",)), [crm, erp])

    assert (chosen.value, chosen.rule) == ("GB111", MOST_RECENT)


def test_most_recent_uses_the_platforms_own_timestamp_not_arrival_order():
    newer = src("salesforce", "salesforce", 10, industry="Media")
    late_arriving_older = src("certinia", "certinia", 2, industry="Retail")

    chosen = survive_attribute("industry", Rule(MOST_RECENT), [newer, late_arriving_older])

    assert chosen.value == "Media"


def test_most_frequent_breaks_ties_by_recency():
    a = src("salesforce", "salesforce", 1, website_domain="acme.com")
    b = src("netsuite", "netsuite", 2, website_domain="acme.com")
    c = src("certinia", "certinia", 3, website_domain="acme.co.uk")

    assert survive_attribute("website_domain", Rule(MOST_FREQUENT), [a, b, c]).value == "acme.com"
    assert survive_attribute("website_domain", Rule(MOST_FREQUENT), [a, c]).value == "acme.co.uk"


def test_most_complete_prefers_the_fullest_value():
    short = src("salesforce", "salesforce", 9, billing_street="12 High St")
    full = src("netsuite", "netsuite", 1, billing_street="12 High Street, Unit 4")

    assert survive_attribute("billing_street", Rule(MOST_COMPLETE), [short, full]).value == "12 High Street, Unit 4"


def test_aggregate_unites_lists_in_recency_order():
    a = src("salesforce", "salesforce", 1, tags=["gold", "emea"])
    b = src("netsuite", "netsuite", 2, tags=["emea", "strategic"])

    chosen = survive_attribute("tags", Rule(AGGREGATE), [a, b])

    assert (chosen.value, chosen.rule) == (["emea", "strategic", "gold"], AGGREGATE)


def test_steward_override_wins_and_missing_attributes_are_left_out():
    erp = src("netsuite", "netsuite", 1, legal_name="Acme Limited")

    result = survive("client", ["legal_name", "tax_id"], [erp], overrides={"legal_name": "Acme Group Limited"})

    assert result["legal_name"].value == "Acme Group Limited"
    assert result["legal_name"].rule == STEWARD_OVERRIDE and result["legal_name"].source_record_id is None
    assert "tax_id" not in result


def test_most_recent_is_per_attribute_a_touch_elsewhere_on_the_record_does_not_make_old_values_new():
    # The CRM record was touched at hour 10 (its name written), but its status has not changed since hour 1;
    # the ERP changed the status at hour 5: the ERP's status is the more recent value.
    crm = SourceValues("crm", "salesforce", "salesforce", T + dt.timedelta(hours=10), {"status": "active"},
                       attribute_times={"status": (T + dt.timedelta(hours=1)).isoformat()})
    erp = src("netsuite", "netsuite", 5, status="on_hold")

    assert survive_attribute("status", Rule(MOST_RECENT), [crm, erp]).value == "on_hold"


def test_a_client_no_crm_names_goes_by_its_legal_name_until_one_does():
    erp = src("netsuite", "netsuite", 1, legal_name="Harrison & Webb Advisory Ltd", display_name="")

    alone = survive("client", ["legal_name", "display_name"], [erp])
    pinned = survive("client", ["legal_name", "display_name"], [erp], overrides={"legal_name": "H&W Advisory Ltd"})
    named = survive("client", ["legal_name", "display_name"],
                    [erp, src("salesforce", "salesforce", 0, legal_name="", display_name="Harrison Webb")])

    assert (alone["display_name"].value, alone["display_name"].rule) == ("Harrison & Webb Advisory Ltd", FALLBACK)
    assert alone["display_name"].source_record_id == alone["legal_name"].source_record_id == "netsuite-1"
    assert (pinned["display_name"].value, pinned["display_name"].rule) == ("H&W Advisory Ltd", FALLBACK)
    assert (named["display_name"].value, named["display_name"].rule) == ("Harrison Webb", SOURCE_PRIORITY)
    assert "display_name" not in survive("client", ["display_name"], [erp])  # nothing to fall back on


def test_one_source_survives_as_it_would_beside_a_source_that_says_nothing():
    rules = [Rule(SOURCE_PRIORITY, ("netsuite",)), Rule(SOURCE_PRIORITY, ("salesforce",)), Rule(MOST_RECENT),
             Rule(MOST_FREQUENT), Rule(MOST_COMPLETE), Rule(AGGREGATE)]
    values = ["Acme Ltd", "", None, 0, [], ["a", "b", "a"], {}, {"system": "salesforce", "external_id": "001"}]
    for rule in rules:
        for value in values:
            for kind, key in (("netsuite", "netsuite"), ("salesforce", "salesforce")):
                alone = src(key, kind, 1, name=value)
                silent = src("certinia", "certinia", 2)
                assert survive_attribute("name", rule, [alone]) == survive_attribute("name", rule, [alone, silent]), (
                    rule, value, kind)
