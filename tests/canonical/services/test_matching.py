"""Matching in the hub: on arrival, in batch, and the two agreeing; steward decisions and their undo."""

import datetime as dt
import random

import pytest
from django.core.exceptions import ValidationError

from canonical.choices import MatchOutcome, PotentialMatchStatus
from canonical.models import Client, MatchDecision, MatchRecord, NotAMatch, PotentialMatch, SourceRecord
from canonical.services.golden import source_record_stage
from canonical.services.matching import source_record_match
from canonical.services.merge import (
    golden_record_merge,
    golden_record_resolve,
    golden_record_unmerge_record,
    not_a_match_record,
    source_record_unmerge,
)
from canonical.services.rematch import entity_rematch
from tests.factories.canonical import ConnectedSystemFactory, EngagementFactory

T0 = dt.datetime(2026, 5, 1, tzinfo=dt.UTC)


@pytest.fixture
def systems(db):
    return {key: ConnectedSystemFactory(key=key) for key in ("salesforce", "netsuite", "certinia")}


def arrive(system, external_id, **attributes):
    object_type = {"salesforce": "Account", "netsuite": "customer", "certinia": "Account"}[system.key]
    source = source_record_stage(system=system, object_type=object_type, external_id=external_id,
                                 entity_type="client", attributes=attributes, payload={"id": external_id, **attributes},
                                 source_modified_at=T0).source_record
    decision = source_record_match(source_record=source)
    source.refresh_from_db()
    return source, decision


def test_same_valid_tax_id_matches_deterministically(systems):
    first, _ = arrive(systems["netsuite"], "1", legal_name="Northwind Analytics Limited", tax_id="GB980780684",
                      country="GB")
    second, decision = arrive(systems["salesforce"], "001A", legal_name="Northwind", tax_id="GB 980 780 684",
                              country="United Kingdom")

    assert decision.outcome == MatchOutcome.DETERMINISTIC
    assert second.golden_record_id == first.golden_record_id
    assert decision.score == 1.0 and decision.contributions["tax_id"]["level"] == "exact"
    assert Client.objects.count() == 1


def test_strong_agreement_without_tax_id_auto_matches_and_explains_itself(systems):
    first, _ = arrive(systems["netsuite"], "1", legal_name="Thornbury Group Limited", website_domain="thornbury.co.uk",
                      country="GB", billing_postcode="M2 3AW", billing_street="151 Deansgate")
    second, decision = arrive(systems["salesforce"], "001A", legal_name="THORNBURY GROUP LTD.",
                              website_domain="https://www.thornbury.co.uk", country="GB",
                              billing_postcode="m2 3aw", billing_street="151 Deansgate")

    assert decision.outcome == MatchOutcome.AUTO_MATCH
    assert second.golden_record_id == first.golden_record_id
    assert decision.score >= 0.95
    explained = decision.contributions
    assert (explained["name"]["level"], explained["website_domain"]["level"]) == ("exact", "exact")
    assert explained["billing_postcode"]["weight"] > 0 and explained["name"]["weight"] >= 0
    assert explained["tax_id"] == {"level": "missing", "weight": 0.0}


def test_grey_zone_creates_a_record_and_a_potential_match(systems):
    first, _ = arrive(systems["netsuite"], "1", legal_name="Lucerne Publishing GmbH", country="DE",
                      billing_postcode="10115")
    second, decision = arrive(systems["salesforce"], "001A", legal_name="Lucerne Publishing", country="DE")

    assert decision.outcome == MatchOutcome.REVIEW
    assert second.golden_record_id != first.golden_record_id
    match = PotentialMatch.objects.get()
    assert {match.record_a, match.record_b} == {first.golden_record_id, second.golden_record_id}
    assert match.status == PotentialMatchStatus.OPEN and 0.3 <= match.score < 0.95


def test_a_different_company_at_the_same_address_is_a_new_record(systems):
    first, _ = arrive(systems["netsuite"], "1", legal_name="Sterling Analytics SAS", country="FR",
                      billing_postcode="59000", billing_street="83 rue Nationale")
    second, decision = arrive(systems["netsuite"], "2", legal_name="Belleville Manufacturing SAS", country="FR",
                              billing_postcode="59000", billing_street="83 rue Nationale")

    assert decision.outcome == MatchOutcome.NEW
    assert second.golden_record_id != first.golden_record_id
    assert not PotentialMatch.objects.exists()


def test_match_views_are_normalised_and_indexed_once(systems):
    source, _ = arrive(systems["salesforce"], "001A", legal_name="Société Générale S.A.", tax_id="",
                       website_domain="https://www.societegenerale.fr/en", country="France")

    view = MatchRecord.objects.get(pk=source.pk)
    assert view.values["name"] == "societe generale"
    assert view.values["website_domain"] == "societegenerale.fr"
    assert view.values["country"] == "FR"
    assert "website_domain=societegenerale.fr" in view.block_keys
    assert view.name_key == "societe generale"


WORDS = ["Northwind", "Contoso", "Fabrikam", "Tailspin", "Litware", "Proseware", "Adatum", "Wingtip", "Coho",
         "Lucerne", "Margie", "Trey", "Humongous", "Alpine", "Relecloud", "Woodgrove", "Southridge", "Cronus"]


def test_online_and_batch_reach_the_same_clusters(systems):
    rng = random.Random(3)
    names = rng.sample([f"{a} {b}" for a in WORDS for b in WORDS if a < b], 40)
    arrivals = []
    for n, name in enumerate(names):
        base = {"country": "GB", "billing_postcode": f"LS{n % 20 + 1} {n % 9 + 1}AB",
                "website_domain": name.replace(" ", "").lower() + ".co.uk"}
        arrivals.append(("netsuite", f"ns{n}", {**base, "legal_name": f"{name} Limited"}))
        if n % 3:
            arrivals.append(("salesforce", f"sf{n}", {**base, "legal_name": f"{name.upper()} LTD"}))
        if n % 4 == 0:
            arrivals.append(("certinia", f"ps{n}", {"legal_name": name, "country": "GB",
                                                     "website_domain": base["website_domain"]}))
    rng.shuffle(arrivals)
    for key, external_id, attributes in arrivals:
        arrive(systems[key], external_id, **attributes)

    report = entity_rematch(entity_type="client")

    assert Client.objects.count() == 40
    assert (report.merges, report.splits, report.moves, report.new_records) == (0, 0, 0, 0)
    assert report.clusters == 40 and report.records == len(arrivals)


def test_rule_change_dry_run_reports_then_apply_keeps_ids_and_retires_the_merged(systems):
    a, _ = arrive(systems["netsuite"], "1", legal_name="Acme Consulting Limited", country="GB")
    b, _ = arrive(systems["salesforce"], "001A", legal_name="Acme Consulting Ltd", country="IE")
    c, _ = arrive(systems["certinia"], "a1", legal_name="Acme Consulting", country="IE")
    from canonical.services.matching import seed_rules

    loose = seed_rules()["client"]
    loose["thresholds"] = {"match": 0.2, "review": 0.1}
    before = set(Client.objects.values_list("golden_id", flat=True))

    dry = entity_rematch(entity_type="client", spec=loose)
    unchanged = set(Client.objects.filter(merged_into__isnull=True).values_list("golden_id", flat=True))
    applied = entity_rematch(entity_type="client", spec=loose, apply=True, actor="lead", reason="looser")

    assert unchanged == before  # the dry run changed nothing
    assert dry.merges >= 1 and dry.moves >= 1 and dry.examples["merges"]
    assert (applied.merges, applied.moves) == (dry.merges, dry.moves) and applied.applied
    live = Client.objects.filter(merged_into__isnull=True)
    assert live.count() == len(before) - dry.merges
    assert set(live.values_list("golden_id", flat=True)) <= before  # no churn: surviving ids are old ids
    retired = Client.objects.exclude(merged_into__isnull=True).first()
    assert golden_record_resolve(retired).merged_into_id is None
    assert SourceRecord.objects.filter(golden_record_id=retired.pk).count() == 0
    assert MatchDecision.objects.filter(outcome=MatchOutcome.REMATCH).count() == dry.moves


def test_merge_then_undo_restores_both_records_sources_and_references(systems):
    a, _ = arrive(systems["netsuite"], "1", legal_name="Cronus Foods Limited", country="GB")
    b, _ = arrive(systems["salesforce"], "001A", legal_name="Coho Vineyard", country="US")
    survivor, merged = Client.objects.get(pk=a.golden_record_id), Client.objects.get(pk=b.golden_record_id)
    engagement = EngagementFactory(client=merged)

    golden_record_merge(survivor=survivor, merged=merged, actor="steward", reason="same company, renamed")
    merged.refresh_from_db()
    engagement.refresh_from_db()
    after_merge = (SourceRecord.objects.filter(golden_record_id=survivor.pk).count(), engagement.client_id,
                   merged.merged_into_id)
    golden_record_unmerge_record(merged=merged, actor="steward", reason="wrong call")
    merged.refresh_from_db()
    engagement.refresh_from_db()

    assert after_merge == (2, survivor.pk, survivor.pk)
    assert merged.merged_into_id is None
    assert SourceRecord.objects.get(pk=b.pk).golden_record_id == merged.pk
    assert engagement.client_id == merged.pk
    reasons = list(merged.history.values_list("history_change_reason", flat=True))
    assert any(r.startswith("undid the merge") for r in reasons)
    assert any(r.startswith("merged") for r in reasons)


def test_unmerge_a_source_into_a_new_record_remembers_not_a_match(systems):
    a, _ = arrive(systems["netsuite"], "1", legal_name="Alpine Ski House Limited", tax_id="GB980780684", country="GB")
    b, _ = arrive(systems["salesforce"], "001A", legal_name="Alpine Ski House", tax_id="GB980780684", country="GB")
    golden = Client.objects.get(pk=a.golden_record_id)

    new = source_record_unmerge(source_record=b, actor="steward", reason="a different Alpine")

    assert new.pk != golden.pk and SourceRecord.objects.get(pk=b.pk).golden_record_id == new.pk
    assert NotAMatch.objects.filter(record_a__in=[golden.pk, new.pk], record_b__in=[golden.pk, new.pk]).exists()
    # A batch re-match respects the steward: the shared tax id no longer joins them.
    report = entity_rematch(entity_type="client")
    assert (report.merges, report.moves) == (0, 0)
    with pytest.raises(ValidationError, match="no other source"):
        source_record_unmerge(source_record=b, actor="steward", reason="again")


def test_not_a_match_closes_the_potential_match(systems):
    arrive(systems["netsuite"], "1", legal_name="Lucerne Publishing GmbH", country="DE", billing_postcode="10115")
    arrive(systems["salesforce"], "001A", legal_name="Lucerne Publishing", country="DE")
    match = PotentialMatch.objects.get()

    not_a_match_record(entity_type="client", a=match.record_b, b=match.record_a, actor="steward", reason="no")

    match.refresh_from_db()
    assert match.status == PotentialMatchStatus.NOT_A_MATCH and match.decided_by == "steward"
    with pytest.raises(ValidationError):
        not_a_match_record(entity_type="client", a=match.record_a, b=match.record_a, actor="s", reason="x")


def test_steward_merges_become_labelled_matches_for_training(systems):
    from canonical.services.rematch import steward_confirmed_pairs

    a, _ = arrive(systems["netsuite"], "1", legal_name="Cronus Foods Limited", country="GB")
    b, _ = arrive(systems["salesforce"], "001A", legal_name="Coho Vineyard", country="US")
    golden_record_merge(survivor=Client.objects.get(pk=a.golden_record_id),
                        merged=Client.objects.get(pk=b.golden_record_id), actor="steward", reason="renamed")

    left, right = steward_confirmed_pairs("client", [a.pk, b.pk])

    assert (left.tolist(), right.tolist()) == ([1], [0])


def test_match_preview_scores_without_writing(systems):
    from canonical.services.matching import match_preview

    first, _ = arrive(systems["netsuite"], "1", legal_name="Alpine Ski House Limited", tax_id="GB980780684",
                      country="GB")
    views, decisions = MatchRecord.objects.count(), MatchDecision.objects.count()

    preview = match_preview(entity_type="client", values={"name": "alpine ski house", "tax_id": "GB980780684",
                                                          "country": "GB"})

    assert preview.outcome == MatchOutcome.DETERMINISTIC
    assert preview.ranked[0].golden_record_id == first.golden_record_id
    assert (MatchRecord.objects.count(), MatchDecision.objects.count()) == (views, decisions)


def test_candidates_come_from_the_indexes_never_a_table_scan(systems):
    from django.db import connection, transaction

    from canonical.services.matching import candidate_queryset, matcher_for

    source, _ = arrive(systems["netsuite"], "1", legal_name="Fabrikam Limited", tax_id="GB980780684", country="GB",
                       website_domain="fabrikam.co.uk")
    view = MatchRecord.objects.get(pk=source.pk)

    with transaction.atomic(), connection.cursor() as cursor:
        # A test table is tiny, where a scan is cheapest; on a large one the planner makes this choice itself.
        cursor.execute("SET LOCAL enable_seqscan = off")
        plan = candidate_queryset(matcher_for("client"), view).explain()

    # (On a table of a million rows the plan is a BitmapOr of the two GIN indexes; bench/online_match.py prints it.)
    assert "Seq Scan" not in plan and "canonical_matchrecord" in plan


def test_a_similar_name_alone_opens_a_potential_match_but_never_merges(systems):
    first, _ = arrive(systems["netsuite"], "1", legal_name="Northwind Analytics Limited", country="GB",
                      billing_postcode="LS1 4AB")
    second, decision = arrive(systems["salesforce"], "001A", legal_name="Northwnd Analytics", country="GB")

    assert decision.outcome == MatchOutcome.REVIEW
    assert second.golden_record_id != first.golden_record_id
    assert PotentialMatch.objects.filter(status=PotentialMatchStatus.OPEN).count() == 1
