"""Pages of one entity type are matched side by side unless their records share a match key: a page claims the
keys its records' matching may look up, and waits only for a page holding one of them."""

import threading

import pytest
from django.db import OperationalError, connection, transaction

from canonical.models import Client, MatchClaim, SourceRecord
from canonical.services import matching
from canonical.services.arrivals import Arrival, source_records_match, source_records_prepare, source_records_stage
from canonical.services.matching import match_claims_acquire, matcher_for
from canonical.tasks import match_claims_prune_task
from connectors.base import Change, Page
from connectors.models import Stream, SyncRun
from connectors.services.inbound import stream_page_apply
from tests.factories.canonical import ConnectedSystemFactory

pytestmark = pytest.mark.django_db(transaction=True)

VAT = ["GB100003038", "GB100003080", "GB100003136", "GB100003178", "GB100003234", "GB100003276", "GB100003332",
       "GB100003374"]  # valid check digits: a tax id is a deterministic match
NORTHWIND = {"legal_name": "Northwind Traders", "country": "GB", "tax_id": VAT[0]}
ZEPHYR = {"legal_name": "Zephyr Quantum", "country": "GB", "tax_id": VAT[1]}


def streams():
    matcher_for("client")  # the rules in place, as on any hub that has matched once
    crm = Stream.objects.create(system=ConnectedSystemFactory(key="salesforce"), object_type="Account")
    erp = Stream.objects.create(system=ConnectedSystemFactory(key="netsuite", kind="netsuite"), object_type="customer")
    return crm, erp


def apply(stream, external_id, attributes):
    page = Page([Change(stream.object_type, external_id, "client", attributes, {"id": external_id, **attributes})],
                cursor="", has_more=False)
    return stream_page_apply(stream=stream, page=page, run=SyncRun.objects.create(stream=stream),
                             advance_cursor=False)


def goldens_of(*external_ids):
    return set(SourceRecord.objects.filter(external_id__in=external_ids).values_list("golden_record_id", flat=True))


def test_a_page_waits_only_for_a_page_sharing_a_match_key(django_db_blocker, monkeypatch):
    crm, erp = streams()
    claimed, release, failure = threading.Event(), threading.Event(), []

    def match_northwind_and_hold():
        # another worker matching Northwind from the CRM, its transaction still open
        try:
            with django_db_blocker.unblock(), transaction.atomic():
                arrival = Arrival("Account", "001A", "client", NORTHWIND, {"Id": "001A"})
                sources = [s.source_record for s in source_records_stage(system=crm.system, arrivals=[arrival],
                                                                         reason="test")]
                prepared = source_records_prepare(sources=sources)
                claims = match_claims_acquire(keys=prepared.keys)
                source_records_match(sources=sources, reason="test", probe=claims, prepared=prepared)
                claimed.set()
                release.wait(20)
        except Exception as exc:  # noqa: BLE001 (reported below)
            failure.append(exc)
            claimed.set()
        finally:
            connection.close()

    holder = threading.Thread(target=match_northwind_and_hold)
    holder.start()
    claimed.wait(20)
    try:
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = '1s'")
        # a page claiming more keys than a page may claim one by one takes the whole lock: it waits too
        monkeypatch.setattr(matching, "CLAIM_LIMIT", 1)
        with pytest.raises(OperationalError):
            apply(erp, "NS-1", ZEPHYR)
        monkeypatch.undo()
        # a client sharing no key with Northwind is matched at once
        assert apply(erp, "NS-1", ZEPHYR).created == 1
        # Northwind from the ERP waits for the CRM's page (here: gives up after the lock timeout)
        with pytest.raises(OperationalError):
            apply(erp, "NS-2", NORTHWIND)
    finally:
        release.set()
        holder.join(20)
        with connection.cursor() as cursor:
            cursor.execute("RESET lock_timeout")
    assert not failure
    # once the CRM's page committed, the ERP's copy sees it and joins its golden record
    assert apply(erp, "NS-2", NORTHWIND).created == 1
    assert len(goldens_of("001A", "NS-2")) == 1
    assert Client.objects.count() == 2


def test_two_copies_of_one_client_arriving_at_once_make_one_golden_record(django_db_blocker):
    crm, erp = streams()
    companies = [{"legal_name": f"{word} Analytics", "country": "GB", "tax_id": vat}
                 for word, vat in zip(["Aldgate", "Bramley", "Cotswold", "Dunmore", "Elmstead", "Fenwick"], VAT[2:],
                                      strict=True)]
    for i, company in enumerate(companies):
        start, errors = threading.Barrier(2), []

        def pull(stream, external_id, attributes, start=start, errors=errors):
            try:
                with django_db_blocker.unblock():
                    start.wait(10)
                    apply(stream, external_id, attributes)
            except Exception as exc:  # noqa: BLE001 (reported below)
                errors.append(exc)
            finally:
                connection.close()

        threads = [threading.Thread(target=pull, args=(crm, f"001{i}", company)),
                   threading.Thread(target=pull, args=(erp, f"NS{i}", company))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        assert not errors
        assert len(goldens_of(f"001{i}", f"NS{i}")) == 1, company
    assert Client.objects.count() == len(companies)


def northwind_keys(crm):
    """The keys another copy of Northwind from the CRM would claim."""
    copy = SourceRecord(system=crm.system, object_type="Account", external_id="001B", entity_type="client",
                        attributes=NORTHWIND)
    return source_records_prepare(sources=[copy]).keys


def test_claims_no_page_holds_are_pruned_and_a_held_one_is_kept(django_db_blocker):
    crm, erp = streams()
    apply(crm, "001A", NORTHWIND)
    apply(erp, "NS-1", ZEPHYR)
    left = MatchClaim.objects.count()
    assert left > 0  # one row per key ever claimed
    claimed, release = threading.Event(), threading.Event()

    def hold_northwind():
        with django_db_blocker.unblock(), transaction.atomic():
            match_claims_acquire(keys=northwind_keys(crm))
            claimed.set()
            release.wait(20)
        connection.close()

    holder = threading.Thread(target=hold_northwind)
    holder.start()
    claimed.wait(20)
    try:
        held = len(northwind_keys(crm)["client"])
        assert match_claims_prune_task.apply().get() == left - held
    finally:
        release.set()
        holder.join(20)
    assert MatchClaim.objects.count() == held
    # a key whose row was pruned is claimed again as before
    assert apply(erp, "NS-2", NORTHWIND).created == 1
    assert len(goldens_of("001A", "NS-2")) == 1
