"""A bulk load: records landed without matching, then placed together by the batch engine."""

import itertools
from collections import Counter
from dataclasses import replace

import pytest
from django.db import transaction

from canonical.choices import MatchOutcome
from canonical.demo import generate
from canonical.models import Client, MatchDecision, MatchRecord, PotentialMatch, SourceRecord
from canonical.services.arrivals import Arrival, source_records_match, source_records_stage
from canonical.services.golden import golden_record_create, unresolved_entity_types
from canonical.services.landing import landed_entity_types, landed_sources_place, source_records_land
from canonical.services.matching import match_record_refresh, matcher_for
from canonical.services.rematch import entity_rematch
from tests.canonical.services.test_arrivals import arrivals_of, one_at_a_time, outcome
from tests.side_by_side import side_by_side

TYPES_WITH_REFERENCES = ("client", "engagement", "milestone", "contract")


def land(system, arrivals, reason="pulled") -> set[str]:
    """Stage a page as a first read does: what may land lands, the rest is matched as it comes."""
    staged = source_records_stage(system=system, arrivals=arrivals, reason=reason)
    others = source_records_land(sources=[s.source_record for s in staged if s.changed])
    return {p.source_record.external_id for p in source_records_match(sources=others, reason=reason) if p.error}


def place(reason="pulled"):
    return {entity_type: landed_sources_place(entity_type=entity_type, reason=reason)
            for entity_type in landed_entity_types()}


def client(system, external_id, **attributes) -> Arrival:
    attributes = {"country": "GB", **attributes}
    return Arrival(object_type="Account", external_id=external_id, entity_type="client", attributes=attributes,
                   payload={"Id": external_id, **attributes})


@pytest.fixture
def systems(db):
    from tests.factories.canonical import ConnectedSystemFactory

    return {key: ConnectedSystemFactory(key=key, kind=key) for key in ("salesforce", "netsuite", "certinia")}


def pairs_wrong(goldens, truth) -> tuple[int, int]:
    """(pairs of copies put together that are different clients, pairs of one client's copies left apart)."""
    def pairs(groups):
        return {frozenset(p) for group in groups for p in itertools.combinations(sorted(group), 2)}
    found, true = pairs(goldens), pairs(truth)
    return len(found - true), len(true - found)


def test_three_platforms_clients_landed_then_placed_are_placed_as_a_batch_re_match_would_place_them(systems):
    data = generate(seed=42, clients=60)
    truth = [{(c.system, c.external_id) for c in spec.sources} for spec in data.clients]
    # without their links to a parent company: a record referring to another is not landed but matched as it comes
    pages = [(systems[key], [replace(a, attributes={k: v for k, v in a.attributes.items() if k != "parent"})
                             for a in arrivals_of(data.clients, key)])
             for key in ("salesforce", "netsuite", "certinia")]
    with transaction.atomic():
        one = outcome(set().union(*(one_at_a_time(system, arrivals) for system, arrivals in pages)))
        transaction.set_rollback(True)

    parked = set().union(*(land(system, arrivals) for system, arrivals in pages))
    landed = SourceRecord.objects.filter(golden_record_id__isnull=True).count()
    landed_views = MatchRecord.objects.filter(is_active=False, golden_record_id__isnull=True).count()
    placed = place()
    bulk = outcome(parked)

    # Landed: staged, with inactive views (nobody's candidate) and no golden record.
    assert landed == landed_views == SourceRecord.objects.count()
    assert placed["client"].placed + placed["client"].refused == landed
    assert bulk["unplaced"] == one["unplaced"]  # the same copies are not valid either way
    # Placed as the batch engine clusters them: a re-match of everything would move nothing.
    report = entity_rematch(entity_type="client")
    assert (report.merges, report.splits, report.moves, report.new_records) == (0, 0, 0, 0)
    # Against the generated truth, no worse than matching each copy as it comes (which can only attach a copy to
    # the one golden record it resembles most; the batch also links a copy that lacks an address to both of two
    # copies whose addresses differ).
    wrong_bulk, wrong_one = pairs_wrong(bulk["goldens"], truth), pairs_wrong(one["goldens"], truth)
    assert wrong_bulk[0] <= wrong_one[0] and sum(wrong_bulk) <= sum(wrong_one)
    # Each golden record: one decision making it, the others joining it; every placed view active.
    outcomes = Counter(d.outcome for d in MatchDecision.objects.all())
    assert outcomes[MatchOutcome.NEW] + outcomes[MatchOutcome.REVIEW] == Client.objects.count()
    assert sum(outcomes.values()) == SourceRecord.objects.filter(golden_record_id__isnull=False).count()
    assert not MatchRecord.objects.filter(golden_record_id__isnull=False, is_active=False).exists()


def test_a_landed_record_is_nobodys_candidate_until_placed_then_joins_what_was_matched_meanwhile(systems):
    land(systems["salesforce"], [client("salesforce", "001A", legal_name="Northwind Analytics Ltd",
                                        tax_id="GB980780684")])
    # the same company arrives from another platform, matched as it comes (a webhook, say)
    staged = source_records_stage(system=systems["netsuite"], reason="webhook", arrivals=[
        client("netsuite", "77", legal_name="Northwind Analytics Limited", tax_id="GB980780684")])
    source_records_match(sources=[s.source_record for s in staged], reason="webhook")
    assert Client.objects.count() == 1  # it did not see the landed copy

    placed = place()

    assert (placed["client"].attached, placed["client"].created, Client.objects.count()) == (1, 0, 1)
    golden = Client.objects.get()
    assert set(SourceRecord.objects.values_list("golden_record_id", flat=True)) == {golden.pk}
    decision = MatchDecision.objects.get(source_record__external_id="001A")
    assert (decision.outcome, decision.golden_record_id) == (MatchOutcome.DETERMINISTIC, golden.pk)


def test_placing_never_joins_two_existing_golden_records(systems):
    # given two golden records the hub holds apart (a steward split them, say), and a landed copy matching both
    contoso = {"legal_name": "Contoso Consulting Ltd", "billing_postcode": "EC1A 1BB", "billing_street": "1 Long Lane"}
    goldens = set()
    for system in ("netsuite", "certinia"):
        staged = source_records_stage(system=systems[system], reason="pulled",
                                      arrivals=[client(system, "x", **contoso)])
        source = staged[0].source_record
        goldens.add(golden_record_create(entity_type="client", source_records=[source], reason="split").pk)
        match_record_refresh(source_record=source, matcher=matcher_for("client"))
    land(systems["salesforce"], [client("salesforce", "001B", **contoso)])

    place()

    assert set(Client.objects.values_list("pk", flat=True)) == goldens
    placed = SourceRecord.objects.get(external_id="001B")
    assert placed.golden_record_id in goldens
    assert SourceRecord.objects.filter(golden_record_id=placed.golden_record_id).count() == 2
    decision = MatchDecision.objects.get(source_record=placed)
    assert (decision.outcome, decision.golden_record_id) == (MatchOutcome.AUTO_MATCH, placed.golden_record_id)


def test_a_landed_cluster_becomes_one_golden_record_with_each_members_lineage(systems):
    land(systems["salesforce"], [client("salesforce", "001C", legal_name="Fabrikam Group Ltd", tax_id="GB999999973",
                                        website_domain="fabrikam.example")])
    land(systems["netsuite"], [client("netsuite", "12", legal_name="Fabrikam Group Limited", tax_id="GB999999973",
                                      billing_city="Leeds")])

    placed = place()["client"]

    golden = Client.objects.get()
    assert (placed.created, placed.attached, placed.placed) == (1, 0, 2)
    assert (golden.website_domain, golden.billing_city) == ("fabrikam.example", "Leeds")
    assert {golden.lineage["website_domain"]["system"], golden.lineage["billing_city"]["system"]} == \
        {"salesforce", "netsuite"}
    assert sorted(MatchDecision.objects.values_list("outcome", flat=True)) == \
        sorted([MatchOutcome.NEW, MatchOutcome.DETERMINISTIC])
    assert golden.history.count() == 1  # made once, from both


def test_a_grey_zone_pair_opens_a_potential_match_for_stewards(systems):
    land(systems["salesforce"], [client("salesforce", "001D", legal_name="Tailspin Toys Ltd",
                                        billing_postcode="M1 1AE", billing_street="1 High Street")])
    land(systems["netsuite"], [client("netsuite", "13", legal_name="Tailspin Toys Limited", billing_postcode="M1 1AE",
                                      billing_street="99 Low Road")])

    place()

    # same name and postcode, another street: not enough to merge, enough for a steward to look
    assert Client.objects.count() == 2
    match = PotentialMatch.objects.get()
    assert {match.record_a, match.record_b} == set(Client.objects.values_list("pk", flat=True))
    assert Counter(MatchDecision.objects.values_list("outcome", flat=True))[MatchOutcome.REVIEW] == 1


def test_a_landed_record_whose_golden_record_would_not_be_valid_stays_parked_and_the_rest_are_placed(systems):
    land(systems["salesforce"], [client("salesforce", "001E", legal_name="Litware Ltd"),
                                 client("salesforce", "001F", legal_name="Proseware Ltd", country="Atlantis")])

    placed = place()["client"]

    assert (placed.created, placed.refused) == (1, 1)
    assert SourceRecord.objects.get(external_id="001F").golden_record_id is None
    assert landed_entity_types() == ["client"]  # tried again at the next placement
    assert place()["client"].refused == 1


def test_a_landed_record_naming_its_parent_by_golden_id_is_placed_with_the_parent_as_it_is_then(systems):
    land(systems["salesforce"], [client("salesforce", "001P", legal_name="Fabrikam Holdings plc")])
    place()
    parent = Client.objects.get()
    assert unresolved_entity_types(TYPES_WITH_REFERENCES) == []
    land(systems["salesforce"], [client("salesforce", "001Q", legal_name="Fabrikam Retail Ltd",
                                        parent=parent.golden_id.lower()),
                                 client("salesforce", "001R", legal_name="Fabrikam Labs Ltd", parent="CL-999999")])

    placed = place()["client"]

    child = Client.objects.get(legal_name="Fabrikam Retail Ltd")
    waiting = Client.objects.get(legal_name="Fabrikam Labs Ltd")
    assert (placed.created, placed.refused) == (2, 0)
    assert child.parent_id == parent.pk and "unresolved" not in child.lineage["parent"]
    assert waiting.parent_id is None and waiting.lineage["parent"]["unresolved"] == "CL-999999"  # linked when it comes
    # the end of a pull finds the clients waiting, in one statement, and only them
    assert unresolved_entity_types(TYPES_WITH_REFERENCES) == ["client"]


def test_a_landed_record_sharing_no_key_is_looked_up_by_name_once_its_chunk_is_committed(systems):
    land(systems["salesforce"], [client("salesforce", "001C", legal_name="Contoso Pharmaceuticals Ltd",
                                        website="https://contoso-pharma.example", billing_postcode="LS1 4AP")])
    place()
    live = Client.objects.get()
    # the ERP's copy: named alike (not the same name), no website, postcode or tax id: no blocking key shared
    land(systems["netsuite"], [client("netsuite", "77", legal_name="Contoso Pharmaceutical Limited")])

    placed = place()["client"]

    other = Client.objects.exclude(pk=live.pk).get()
    decision = MatchDecision.objects.get(source_record__external_id="77")
    match = PotentialMatch.objects.get()
    assert (placed.created, placed.reviews) == (1, 1)
    assert {match.record_a, match.record_b} == {live.pk, other.pk}
    assert (decision.outcome, decision.candidate_golden_id) == (MatchOutcome.REVIEW, live.pk)
    assert decision.score == pytest.approx(match.score) and decision.contributions


@pytest.mark.django_db(transaction=True)
def test_two_processes_placing_side_by_side_take_turns_and_place_each_record_once(systems):
    data = generate(seed=7, clients=60)
    pages = [(systems[key], [replace(a, attributes={k: v for k, v in a.attributes.items() if k != "parent"})
                             for a in arrivals_of(data.clients, key)])
             for key in ("salesforce", "netsuite", "certinia")]
    for system, arrivals in pages:
        land(system, arrivals)
    landed = set(SourceRecord.objects.filter(golden_record_id__isnull=True).values_list("pk", flat=True))
    placed = side_by_side(lambda: landed_sources_place(entity_type="client", reason="pulled", chunk=7), 2)

    # each took chunks of its own (a chunk is read before the lock, its rows locked: the other skips them) and
    # placed them in turn under the lock: every landed record placed once and decided once, but those whose golden
    # record would not be valid (left landed, as one process leaves them)
    unplaced = SourceRecord.objects.filter(golden_record_id__isnull=True).count()
    assert len(placed) == 2 and sum(p.placed for p in placed) + unplaced == len(landed)
    assert all(p.placed for p in placed)  # both took chunks
    decided = list(MatchDecision.objects.values_list("source_record_id", flat=True))
    assert len(decided) == len(set(decided)) == sum(p.placed for p in placed)
    assert unplaced <= max(p.refused for p in placed)


def test_a_record_refused_for_want_of_a_copy_placed_in_a_later_chunk_is_placed_by_another_pass(systems):
    # a copy with no legal name of its own, landed first; the other copy of the client (the same tax id) names it
    land(systems["salesforce"], [client("salesforce", "001A", tax_id="GB980780684", website="fabrikam.example")])
    land(systems["netsuite"], [client("netsuite", "9", legal_name="Fabrikam Ltd", tax_id="GB980780684")])

    placed = landed_sources_place(entity_type="client", reason="pulled", chunk=1)

    # alone in its chunk it cannot be a golden record; once the other is placed, it joins it
    golden = Client.objects.get()
    assert (placed.placed, placed.created, placed.attached, placed.refused) == (2, 1, 1, 0)
    assert set(SourceRecord.objects.values_list("golden_record_id", flat=True)) == {golden.pk}
    assert golden.legal_name == "Fabrikam Ltd"


@pytest.mark.django_db(transaction=True)
def test_the_parked_look_waits_for_a_chunk_being_placed_and_leaves_what_it_placed_as_it_is(systems):
    import threading

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from canonical.services.matching import match_lock_acquire, parked_sources_match

    land(systems["salesforce"], [client("salesforce", "001A", legal_name="Northwind Analytics Ltd"),
                                 client("salesforce", "001B", legal_name="Contoso Consulting GmbH", country="DE")])
    holding, looking = threading.Event(), threading.Event()

    def placer():  # another run placing the load: it holds the type's lock for its chunk
        try:
            with transaction.atomic():
                match_lock_acquire(entity_types=["client"])
                holding.set()
                looking.wait(10)
                landed_sources_place(entity_type="client", reason="pulled")
        finally:
            connection.close()

    thread = threading.Thread(target=placer)
    thread.start()
    holding.wait(10)
    looking.set()
    # a run's look for parked records of the same platform starts while the chunk is being placed
    with CaptureQueriesContext(connection) as queries:
        found = parked_sources_match(system_id=systems["salesforce"].pk)
    thread.join()

    # it waited for the chunk, found both placed, and wrote nothing (no recompute of what was just placed)
    assert found == 0 and Client.objects.count() == 2
    assert not SourceRecord.objects.filter(golden_record_id__isnull=True).exists()
    writes = [q["sql"] for q in queries.captured_queries if q["sql"].lstrip().upper().startswith(("UPDATE", "INSERT"))]
    assert writes == []
