"""Golden records recomputed and sources attached in bulk leave the rows the one-at-a-time path leaves."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from canonical.models import ChangeEvent, Client, Engagement, SourceRecord
from canonical.services.golden import (
    golden_record_create,
    golden_record_recompute,
    source_record_attach,
    source_record_stage,
)
from canonical.services.recompute import golden_records_recompute, source_records_attach
from hub import correlation
from hub.db import rows_update
from tests.factories.canonical import ConnectedSystemFactory, EngagementFactory

T0 = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)
KINDS = ("unchanged", "value", "lineage only", "override", "invalid")


class Rollback(Exception):
    pass


@pytest.fixture
def systems(db):
    return {key: ConnectedSystemFactory(key=key) for key in ("salesforce", "netsuite", "kantata")}


def stage(system, external_id, modified=T0, **attributes):
    object_type = {"salesforce": "Account", "netsuite": "customer"}.get(system.key, "client")
    return source_record_stage(system=system, object_type=object_type, external_id=external_id, entity_type="client",
                               attributes=attributes, payload={"Id": external_id, **attributes},
                               source_modified_at=modified).source_record


def copies(systems, i):
    """A client's copies in a CRM, an ERP and a PSA; the ERP and the CRM agree on the legal identity."""
    identity = {"legal_name": f"Firm {i} Limited", "country": "GB", "currency": "GBP", "billing_city": "Leeds"}
    return [
        stage(systems["salesforce"], f"sf{i}", **identity, display_name=f"Firm {i}", industry="Retail"),
        stage(systems["netsuite"], f"ns{i}", **identity),
        stage(systems["kantata"], f"kt{i}", website_domain=f"firm{i}.example"),
    ]


@pytest.fixture
def clients(systems):
    """Golden records of three copies each whose sources then changed, one of each kind in turn: nothing, a
    value, only where a value comes from (the ERP's copy deleted), a steward's pin, a value too long."""
    pks = []
    for i in range(15):
        record = golden_record_create(entity_type="client", source_records=copies(systems, i), reason="load")
        kind = KINDS[i % len(KINDS)]
        later = T0 + dt.timedelta(days=1)
        if kind == "value":
            stage(systems["netsuite"], f"ns{i}", later, legal_name=f"Firm {i} Group Limited", country="GB",
                  currency="GBP", billing_city="York")
        elif kind == "lineage only":
            SourceRecord.objects.filter(external_id=f"ns{i}").update(is_deleted=True, deleted_at=later)
        elif kind == "override":
            Client.objects.filter(pk=record.pk).update(overrides={"display_name": {
                "value": f"The Firm {i}", "by": "sam", "reason": "what they call themselves", "at": later.isoformat()}})
        elif kind == "invalid":
            stage(systems["netsuite"], f"ns{i}", later, legal_name="x" * 300, country="GB", currency="GBP")
        pks.append(record.pk)
    return pks


def outcome(change, pks):
    """What ``change`` leaves in the database (rolled back afterwards, so the next one starts from the same
    world): its own answer, and per golden record its row, lineage, history, change events and sources."""
    try:
        with transaction.atomic(), correlation.bind("recompute-test"):
            answer = change()
            rows = snapshot(pks)
            raise Rollback
    except Rollback:
        return answer, rows


def counted(change):
    """How many statements ``change`` runs."""
    with CaptureQueriesContext(connection) as captured:
        change()
    return len(captured.captured_queries)


def snapshot(pks):
    rows = {}
    for record in Client.objects.filter(pk__in=pks):
        rows[record.pk] = {
            "values": {f.attname: getattr(record, f.attname) for f in Client._meta.concrete_fields
                       if f.name not in {"lineage", "updated_at"}},
            "lineage": {a: {k: v for k, v in entry.items() if k != "at"} for a, entry in record.lineage.items()},
            "history": list(record.history.order_by("history_date", "history_id").values_list(
                "history_type", "history_change_reason", "correlation_id", "version", "legal_name", "display_name")),
            "events": list(ChangeEvent.objects.filter(record_id=record.pk).order_by("id").values_list(
                "version", "operation", "changed_fields", "data", "reason", "correlation_id")),
            "sources": sorted(
                (s.external_id, list(s.history.order_by("history_date").values_list("history_change_reason",
                                                                                    "correlation_id")))
                for s in SourceRecord.objects.filter(golden_record_id=record.pk)),
        }
    return rows


def recompute_one_at_a_time(pks):
    changed, errors = {}, set()
    for record in Client.objects.filter(pk__in=pks).order_by("pk"):
        try:
            with transaction.atomic():
                changed[record.pk] = golden_record_recompute(record=record, reason="sources changed")
        except ValidationError:
            errors.add(record.pk)
    return changed, errors


def recompute_in_bulk(pks):
    result = golden_records_recompute(entity_type="client", pks=pks, reason="sources changed")
    return dict(result), set(result.errors)


def test_recomputing_in_bulk_leaves_the_rows_one_at_a_time_leaves(clients):
    (changed_one, errors_one), one = outcome(lambda: recompute_one_at_a_time(clients), clients)
    (changed_bulk, errors_bulk), bulk = outcome(lambda: recompute_in_bulk(clients), clients)

    assert bulk == one
    assert changed_bulk == changed_one
    assert errors_bulk == errors_one == {pk for i, pk in enumerate(clients) if KINDS[i % 5] == "invalid"}
    written = {KINDS[i % 5]: (len(one[pk]["history"]), len(one[pk]["events"]), one[pk]["values"]["version"])
               for i, pk in enumerate(clients)}
    assert written == {"unchanged": (1, 1, 1), "value": (2, 2, 2), "lineage only": (2, 1, 1), "override": (2, 2, 2),
                       "invalid": (1, 1, 1)}


def test_recomputing_in_bulk_reads_and_writes_the_same_whatever_the_number_of_records(clients):
    def queries(pks):
        return outcome(lambda: counted(lambda: recompute_in_bulk(pks)), pks)[0]

    assert queries(clients[:5]) == queries(clients)


def test_an_unknown_golden_record_is_an_error_as_one_at_a_time(clients):
    gone = Client(legal_name="never saved").pk

    with pytest.raises(Client.DoesNotExist):
        golden_records_recompute(entity_type="client", pks=[clients[0], gone], reason="x")


@pytest.fixture
def arrivals(systems):
    """Golden records of a CRM copy each, and an ERP copy of each not attached yet (every fifth one invalid):
    ``(golden pks, the ERP copies' external ids)``."""
    pks, external_ids = [], []
    for i in range(10):
        sf = stage(systems["salesforce"], f"sf{i}", legal_name=f"Firm {i}", display_name=f"Firm {i}", country="GB")
        pks.append(golden_record_create(entity_type="client", source_records=[sf], reason="load").pk)
        stage(systems["netsuite"], f"ns{i}", legal_name="x" * 300 if i % 5 == 4 else f"Firm {i} Limited",
              country="GB", currency="GBP")
        external_ids.append(f"ns{i}")
    return pks, external_ids


def pairs_of(pks, external_ids):
    by_id = {s.external_id: s for s in SourceRecord.objects.filter(external_id__in=external_ids)}
    return [(by_id[e], pk) for e, pk in zip(external_ids, pks, strict=True)]


def attach_one_at_a_time(pairs):
    errors = set()
    records = Client.objects.in_bulk([pk for _, pk in pairs])
    for source, pk in pairs:
        try:
            with transaction.atomic():
                source_record_attach(source_record=source, record=records[pk], reason="matched")
        except ValidationError:
            source.golden_record_id = None
            errors.add(pk)
    return errors, [s.golden_record_id for s, _ in pairs]


def attach_in_bulk(pairs):
    result = source_records_attach(pairs=pairs, entity_type="client", reason="matched")
    return set(result.errors), [s.golden_record_id for s, _ in pairs]


def test_attaching_in_bulk_leaves_the_rows_one_at_a_time_leaves(arrivals):
    pks, external_ids = arrivals

    (errors_one, held_one), one = outcome(lambda: attach_one_at_a_time(pairs_of(pks, external_ids)), pks)
    (errors_bulk, held_bulk), bulk = outcome(lambda: attach_in_bulk(pairs_of(pks, external_ids)), pks)

    assert bulk == one
    assert errors_bulk == errors_one == {pks[4], pks[9]}
    assert held_bulk == held_one == [None if i % 5 == 4 else pk for i, pk in enumerate(pks)]
    assert [len(one[pk]["sources"]) for pk in pks[:5]] == [2, 2, 2, 2, 1]
    assert one[pks[0]]["values"]["legal_name"] == "Firm 0 Limited" and one[pks[0]]["values"]["version"] == 2


def test_attaching_in_bulk_reads_and_writes_the_same_whatever_the_number_of_records(arrivals):
    pks, external_ids = arrivals
    valid = [i for i in range(len(pks)) if i % 5 != 4]

    def queries(n):
        pairs = pairs_of([pks[i] for i in valid[:n]], [external_ids[i] for i in valid[:n]])
        return outcome(lambda: counted(lambda: attach_in_bulk(pairs)), pks)[0]

    assert queries(2) == queries(len(valid))


def test_rows_update_writes_the_named_fields_of_every_row_in_one_statement(db):
    engagements = EngagementFactory.create_batch(3)
    values = [(dt.date(2027, 1, 1), Decimal("1.50"), {"a": [1]}, None), (None, None, {}, "Owner"),
              (dt.date(2027, 3, 1), Decimal("0.00"), {"b": None}, None)]
    for engagement, (end, budget, lineage, owner) in zip(engagements, values, strict=True):
        engagement.end_date, engagement.budget_amount, engagement.lineage = end, budget, lineage
        engagement.delivery_owner, engagement.name = owner or "", "not written"

    written = counted(lambda: rows_update(Engagement, engagements, ["end_date", "budget_amount", "lineage",
                                                                    "delivery_owner", "client"]))

    assert written == 1
    rows = Engagement.objects.in_bulk([e.pk for e in engagements])
    assert {pk: (e.end_date, e.budget_amount, e.lineage, e.delivery_owner, e.client_id) for pk, e in rows.items()} == {
        engagement.pk: (end, budget, lineage, owner or "", engagement.client_id)
        for engagement, (end, budget, lineage, owner) in zip(engagements, values, strict=True)}
    assert "not written" not in {e.name for e in rows.values()}
