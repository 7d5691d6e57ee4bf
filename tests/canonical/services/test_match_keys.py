"""The match keys: kept by the database for every write of a match view, and what candidate lookups probe."""

import datetime as dt

import pytest
from django.db import transaction

from canonical.choices import MatchOutcome
from canonical.matching.blocking import name_keys
from canonical.models import Client, MatchCommonName, MatchKey, MatchRecord, SourceRecord
from canonical.services.arrivals import MATCH_VIEW_FIELDS, Arrival, source_records_prepare, source_records_stage
from canonical.services.golden import source_record_mark_deleted, source_record_stage
from canonical.services.landing import landed_sources_place, source_records_land
from canonical.services.matching import match_claims_acquire, source_record_match
from canonical.services.merge import golden_record_merge
from hub.db import rows_insert
from tests.factories.canonical import ConnectedSystemFactory

T0 = dt.datetime(2026, 5, 1, tzinfo=dt.UTC)


@pytest.fixture
def systems(db):
    return {key: ConnectedSystemFactory(key=key) for key in ("salesforce", "netsuite")}


def arrive(system, external_id, **attributes):
    object_type = {"salesforce": "Account", "netsuite": "customer"}[system.key]
    source = source_record_stage(system=system, object_type=object_type, external_id=external_id,
                                 entity_type="client", attributes=attributes, payload={"id": external_id, **attributes},
                                 source_modified_at=T0).source_record
    decision = source_record_match(source_record=source)
    source.refresh_from_db()
    return source, decision


def keys_of(source):
    return {(k.key, k.golden_record_id) for k in MatchKey.objects.filter(record_id=source.pk)}


def test_name_keys_are_words_prefixes_and_prefix_pairs():
    assert name_keys("northwind analytics") == ["~anal", "~analytics", "~nort", "~nort anal", "~northwind"]
    assert name_keys("") == []
    assert all(key.startswith("~") for key in name_keys("ab cd efgh"))


def test_a_view_s_keys_follow_it_through_placement_merge_and_deletion(systems):
    source, _ = arrive(systems["netsuite"], "1", legal_name="Fabrikam Limited", tax_id="GB980780684", country="GB")
    view = MatchRecord.objects.get(pk=source.pk)

    assert keys_of(source) == {(k, source.golden_record_id) for k in view.block_keys + view.name_keys}
    assert "tax_id=GB980780684" in view.block_keys and "~fabrikam" in view.name_keys

    other, _ = arrive(systems["salesforce"], "001A", legal_name="Contoso Pharmaceuticals", country="GB")
    golden_record_merge(survivor=Client.objects.get(pk=source.golden_record_id),
                        merged=Client.objects.get(pk=other.golden_record_id), actor="steward", reason="same company")
    # A plain UPDATE of the views' golden record moves their keys along.
    assert {g for _, g in keys_of(other)} == {source.golden_record_id}

    source_record_mark_deleted(system=systems["netsuite"], object_type="customer", external_id="1")
    source_record_match(source_record=source)  # re-indexes the deleted copy: inactive, no keys
    assert not MatchRecord.objects.get(pk=source.pk).is_active
    assert keys_of(source) == set()


def test_a_name_with_a_typo_in_every_word_is_still_found_for_review(systems):
    first, _ = arrive(systems["netsuite"], "1", legal_name="Northwind Analytics Limited", country="GB",
                      billing_postcode="LS1 4AB")
    second, decision = arrive(systems["salesforce"], "001A", legal_name="Nortwind Analytic", country="GB")

    assert decision.outcome == MatchOutcome.REVIEW
    assert decision.candidate_golden_id == first.golden_record_id
    assert second.golden_record_id != first.golden_record_id


def test_a_name_key_held_by_too_many_records_finds_nothing(systems, monkeypatch):
    monkeypatch.setattr("canonical.services.matching.TOKEN_BLOCK_CAP", 2)
    for n in range(3):
        arrive(systems["netsuite"], str(n), legal_name=f"Meridian Holdings {n}{n}{n}", country="GB")

    # "~meridian" and "~hold" are held by three records, over the cap: a name made of them finds no candidate.
    _, decision = arrive(systems["salesforce"], "001A", legal_name="Meridian Holding", country="GB")
    assert decision.outcome == MatchOutcome.NEW and decision.candidate_golden_id is None


def test_one_statement_writing_many_views_leaves_exactly_their_keys(systems):
    # given four placed copies
    sources = [arrive(systems["salesforce"], f"001{i}", legal_name=f"{name} Limited", country="GB")[0]
               for i, name in enumerate(["Fabrikam", "Contoso", "Northwind", "Tailspin"])]
    views = {v.pk: v for v in MatchRecord.objects.filter(pk__in=[s.pk for s in sources])}
    renamed, moved, retired, kept = (views[s.pk] for s in sources)
    # when one upsert renames one, moves one to another golden record, retires one and adds a new one
    renamed.name_key, renamed.name_keys = "fabrikam industries", name_keys("fabrikam industries")
    moved.golden_record_id = kept.golden_record_id
    retired.is_active = False
    new_source, _ = arrive(systems["netsuite"], "9", legal_name="Litware Limited", country="GB")
    new_view = MatchRecord.objects.get(pk=new_source.pk)
    MatchRecord.objects.filter(pk=new_view.pk).delete()
    rows_insert(MatchRecord, [renamed, moved, retired, kept, new_view], unique_fields=["source_record"],
                update_fields=MATCH_VIEW_FIELDS)

    # then the key table holds each active view's distinct keys once, with its golden record, and nothing else
    expected = sorted((v.pk, key, v.golden_record_id) for v in MatchRecord.objects.filter(is_active=True)
                      for key in set(v.block_keys + v.name_keys))
    held = sorted(MatchKey.objects.values_list("record_id", "key", "golden_record_id"))
    assert held == expected
    assert ("~industries" in {k for _, k, _ in held}) and not MatchKey.objects.filter(record_id=retired.pk).exists()
    assert {g for r, _, g in held if r == moved.pk} == {kept.golden_record_id}


def test_a_name_word_a_placed_load_holds_past_the_cap_is_remembered_and_left_out_of_later_keys(systems, monkeypatch):

    monkeypatch.setattr("canonical.services.matching.TOKEN_BLOCK_CAP", 2)
    # given a load of three clients named "Meridian ...", landed and placed together
    names = ["Meridian Zephyrine", "Meridian Quorvath", "Meridian Blaxwold"]
    arrivals = [Arrival("Account", f"001{i}", "client", {"legal_name": name, "country": "GB"},
                        {"Id": f"001{i}", "legal_name": name}) for i, name in enumerate(names)]
    staged = source_records_stage(system=systems["salesforce"], arrivals=arrivals, reason="pulled")
    source_records_land(sources=[s.source_record for s in staged])
    landed_sources_place(entity_type="client", reason="pulled")

    # then "meridian", held by three (over the cap of two), is remembered as too common to identify a name ...
    common = set(MatchCommonName.objects.filter(entity_type="client").values_list("key", flat=True))
    assert {"~meridian", "~meri"} <= common
    assert not common & {"~zephyrine", "~quorvath", "~blaxwold"}
    # ... and the views keep their own words' keys, not its
    assert not MatchKey.objects.filter(key__in=["~meridian", "~meri"]).exists()
    for source in SourceRecord.objects.all():
        view = MatchRecord.objects.get(pk=source.pk)
        assert keys_of(source) == {(k, source.golden_record_id) for k in view.block_keys + view.name_keys}
        assert "~meridian" not in view.name_keys and any(k.startswith("~") for k in view.name_keys)

    # when another "Meridian" arrives one at a time, its view leaves the word out too, and no page claims it
    later, _ = arrive(systems["netsuite"], "9", legal_name="Meridian Wystan", country="GB")
    assert "~meridian" not in MatchRecord.objects.get(pk=later.pk).name_keys
    assert "~wystan" in MatchRecord.objects.get(pk=later.pk).name_keys
    with transaction.atomic():
        claimed = match_claims_acquire(keys=source_records_prepare(sources=[later]).keys)
    assert "~meridian" not in claimed["client"] and "~wystan" in claimed["client"]


def test_a_name_word_past_the_cap_with_what_the_hub_holds_is_remembered_by_the_load_s_name_probe(systems,
                                                                                                monkeypatch):
    monkeypatch.setattr("canonical.services.matching.TOKEN_BLOCK_CAP", 2)
    # given two "Kestrel" clients the hub holds (two: not over the cap)
    for i, name in enumerate(["Kestrel Ombrevia", "Kestrel Tanqueray"]):
        arrive(systems["netsuite"], str(i), legal_name=name, country="GB")
    assert not MatchCommonName.objects.exists()
    # when a load places a third, which shares no blocking key with anything (so its name is probed)
    staged = source_records_stage(system=systems["salesforce"], arrivals=[
        Arrival("Account", "001Z", "client", {"legal_name": "Kestrel Vantablue", "country": "FR"},
                {"Id": "001Z"})], reason="pulled")
    source_records_land(sources=[s.source_record for s in staged])
    landed_sources_place(entity_type="client", reason="pulled")

    # then the probe found "kestrel" held by three, and it is remembered
    assert "~kestrel" in set(MatchCommonName.objects.values_list("key", flat=True))
