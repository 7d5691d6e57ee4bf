"""Data-quality rules: a task per violation naming rule and attribute, resolved when the data is fixed, checked
as golden records change (the change feed) and on demand (manage.py check_quality)."""

import datetime as dt
import re
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command

from canonical.models import ChangeEvent, Client, ConnectedSystem, Engagement
from canonical.registry import model_for
from canonical.services.golden import (
    golden_record_create,
    golden_record_recompute,
    source_record_mark_deleted,
    source_record_stage,
)
from canonical.services.merge import golden_record_merge
from canonical.services.revenue import RevenueFact, revenue_event_record
from stewardship.models import DataQualityRule, FeedCursor, Resolution, StewardTask, TaskKind, TaskStatus
from stewardship.services.quality import golden_record_quality_check, quality_check_all, quality_feed_follow
from stewardship.tasks import steward_queues_sweep_task
from tests.factories.canonical import ClientFactory, ConnectedSystemFactory

T0 = dt.datetime(2026, 5, 1, tzinfo=dt.UTC)
OBJECT_TYPES = {"client": "customer", "engagement": "job", "milestone": "projectTask", "contract": "salesOrder"}
VALID_VAT, INVALID_VAT = "GB980780684", "GB980780685"


@pytest.fixture
def only_rules(db):
    """Disable every seeded rule but the ones named, so a test sees exactly the tasks of the rule it exercises."""

    def keep(*codes: str) -> None:
        for rule in DataQualityRule.objects.exclude(code__in=codes):
            rule.enabled = False
            rule.save()
        assert set(DataQualityRule.objects.filter(enabled=True).values_list("code", flat=True)) == set(codes)

    return keep


def arrive(entity_type, external_id, system="netsuite", **attributes):
    """A platform's copy arriving: a new golden record is built from it, or its golden record is recomputed."""
    platform = ConnectedSystem.objects.filter(key=system).first() or ConnectedSystemFactory(key=system)
    source = source_record_stage(
        system=platform, object_type=OBJECT_TYPES[entity_type], external_id=external_id, entity_type=entity_type,
        attributes=attributes, payload={"id": external_id, **attributes}, source_modified_at=T0,
    ).source_record
    if source.golden_record_id is None:
        return golden_record_create(entity_type=entity_type, source_records=[source], reason="test")
    record = model_for(entity_type).objects.get(pk=source.golden_record_id)
    golden_record_recompute(record=record, reason="test")
    record.refresh_from_db()
    return record


def client_attrs(**changes):
    return {"legal_name": "Wingtip Toys Limited", "country": "GB", "billing_country": "GB", "currency": "GBP",
            "tax_id": VALID_VAT, "website_domain": "wingtip.co.uk", **changes}


def engagement_attrs(client, **changes):
    return {"client": client.golden_id, "name": "Data Platform", "status": "active", "code": "PRJ-20001",
            "start_date": "2026-01-05", "end_date": "2026-12-18", "engagement_type": "time_and_materials",
            "budget_amount": "100000.00", "currency": "GBP", **changes}


def milestone_attrs(engagement, **changes):
    return {"engagement": engagement.golden_id, "name": "Discovery sign-off", "sequence": 1,
            "due_date": "2026-04-30", "status": "completed", "completed_date": "2026-04-28", "amount": "25000.00",
            "currency": "GBP", **changes}


def contract_attrs(client, engagement, **changes):
    return {"client": client.golden_id, "engagement": engagement.golden_id, "kind": "sow", "number": "SOW-20001",
            "value_amount": "100000.00", "currency": "GBP", "start_date": "2026-01-05", "end_date": "2026-12-18",
            "signed_date": "2026-01-02", "status": "active", **changes}


def attributes_for(entity_type, **changes):
    """Good attributes of a record of ``entity_type``, with the records it refers to arriving first."""
    if entity_type == "client":
        return client_attrs(**changes)
    client = arrive("client", "c-parent", **client_attrs())
    engagement = arrive("engagement", "e-parent", system="certinia", **engagement_attrs(client))
    if entity_type == "engagement":
        return engagement_attrs(client, **changes)
    if entity_type == "milestone":
        return milestone_attrs(engagement, **changes)
    return contract_attrs(client, engagement, **changes)


def dq_tasks():
    return StewardTask.objects.filter(kind=TaskKind.DATA_QUALITY)


@pytest.mark.parametrize(("code", "entity_type", "attribute", "bad", "good"), [
    ("client-country-required", "client", "country", {"country": ""}, {"country": "GB"}),
    ("client-currency-required", "client", "currency", {"currency": ""}, {"currency": "GBP"}),
    ("client-country-iso", "client", "country", {"country": "ZZ"}, {"country": "GB"}),
    ("client-billing-country-iso", "client", "billing_country", {"billing_country": "ZZ"}, {"billing_country": "GB"}),
    ("client-currency-iso", "client", "currency", {"currency": "XYZ"}, {"currency": "GBP"}),
    ("client-tax-id-checksum", "client", "tax_id", {"tax_id": INVALID_VAT}, {"tax_id": VALID_VAT}),
    ("client-website-domain-format", "client", "website_domain", {"website_domain": "wingtip toys"},
     {"website_domain": "wingtip.co.uk"}),
    ("engagement-code-when-started", "engagement", "code", {"code": ""}, {"code": "PRJ-20001"}),
    ("engagement-start-date-when-started", "engagement", "start_date", {"start_date": None},
     {"start_date": "2026-01-05"}),
    ("milestone-completed-date-when-completed", "milestone", "completed_date", {"completed_date": None},
     {"completed_date": "2026-04-28"}),
    ("contract-value-when-sow", "contract", "value_amount", {"value_amount": None}, {"value_amount": "100000.00"}),
    ("contract-signed-date-when-signed", "contract", "signed_date", {"signed_date": None},
     {"signed_date": "2026-01-02"}),
    ("contract-number-required", "contract", "number", {"number": ""}, {"number": "SOW-20001"}),
    ("contract-signed-before-end", "contract", "signed_date", {"signed_date": "2027-01-15"},
     {"signed_date": "2026-01-02"}),
])
def test_a_violation_opens_a_task_naming_rule_and_attribute_and_fixing_the_data_resolves_it(
        only_rules, code, entity_type, attribute, bad, good):
    # given: one rule, and a record a platform sent with a bad value
    only_rules(code)
    record = arrive(entity_type, "x-1", **attributes_for(entity_type, **bad))
    rule = DataQualityRule.objects.get(code=code)

    # when
    found = golden_record_quality_check(record=record)

    # then
    task = dq_tasks().get()
    assert found.violations == [f"dq:{code}:{record.pk}"] and found.opened == 1
    assert task.cause_key == f"dq:{code}:{record.pk}"
    assert task.title == f"{rule.name} ({attribute}): {record}"
    assert (task.details["rule"], task.details["attribute"]) == (code, attribute)
    assert attribute in task.details["message"]
    assert task.record_ids == [record.pk] and task.golden_ids == [record.golden_id]
    assert task.domain == entity_type and task.priority == rule.priority

    # when: the platform sends the right value
    fixed = arrive(entity_type, "x-1", **attributes_for(entity_type, **{**bad, **good}))
    again = golden_record_quality_check(record=fixed)

    # then
    task.refresh_from_db()
    assert again.violations == [] and again.resolved == 1
    assert task.status == TaskStatus.RESOLVED and task.resolution == Resolution.CAUSE_GONE
    assert task.resolution_note == f"fixed: {code} holds again" and task.resolved_by_name == "hub"


def test_a_conditional_rule_leaves_records_its_condition_excludes_alone(only_rules):
    only_rules("engagement-code-when-started")
    pipeline = arrive("engagement", "e-1", system="certinia", **attributes_for("engagement", status="pipeline",
                                                                                code=""))

    found = golden_record_quality_check(record=pipeline)

    assert found.violations == [] and dq_tasks().count() == 0


def test_a_present_tax_id_that_fails_its_check_is_flagged_an_unknown_scheme_and_a_missing_one_are_not(only_rules):
    only_rules("client-tax-id-checksum")
    invalid = arrive("client", "c-1", **client_attrs(tax_id="22 691 669 784", country="AU"))
    valid = arrive("client", "c-2", **client_attrs(legal_name="Contoso Pty Ltd", tax_id="51 824 753 556",
                                                   country="AU"))
    unknown = arrive("client", "c-3", **client_attrs(legal_name="Fabrikam SA", tax_id="ZA-4471", country="ZA"))
    missing = arrive("client", "c-4", **client_attrs(legal_name="Litware Inc", tax_id="", country="US"))

    checked = [golden_record_quality_check(record=r).violations for r in (invalid, valid, unknown, missing)]

    assert checked == [[f"dq:client-tax-id-checksum:{invalid.pk}"], [], [], []]
    assert dq_tasks().get().details["message"] == "tax_id '22 691 669 784' fails the tax number check for AU"


def _follow_until_idle():
    results = [quality_feed_follow()]
    while results[-1]["events"]:
        results.append(quality_feed_follow())
    return results


def test_an_active_engagement_needs_a_signed_contract_and_a_contract_change_rechecks_it(only_rules):
    # given: an active engagement whose statement of work is still a draft
    only_rules("engagement-has-signed-contract")
    client = arrive("client", "c-1", **client_attrs())
    engagement = arrive("engagement", "e-1", system="certinia", **engagement_attrs(client))
    sow = arrive("contract", "k-1", system="salesforce", **contract_attrs(client, engagement, status="draft",
                                                                            signed_date=None))

    first = quality_feed_follow()

    task = dq_tasks().get()
    assert first["events"] == 3 and first["opened"] == 1
    assert task.cause_key == f"dq:engagement-has-signed-contract:{engagement.pk}"
    assert task.details["attribute"] == "contracts"
    assert task.details["message"] == (f"active engagement has no signed or active sow/change_order contract "
                                       f"(it has {sow.golden_id} sow draft)")

    # when: the client signs it (only the contract changes; the follower re-checks its engagement)
    arrive("contract", "k-1", system="salesforce", **contract_attrs(client, engagement))
    second = quality_feed_follow()

    task.refresh_from_db()
    assert second["events"] == 1 and second["resolved"] == 1
    assert task.status == TaskStatus.RESOLVED


def test_fixed_fee_milestones_must_sum_to_the_fee_and_a_milestone_change_rechecks_the_engagement(only_rules):
    # given: a fixed fee of 100,000 split into milestones of 40,000 and 50,000
    only_rules("engagement-milestones-sum-to-fixed-fee")
    client = arrive("client", "c-1", **client_attrs())
    engagement = arrive("engagement", "e-1", system="certinia",
                        **engagement_attrs(client, engagement_type="fixed_fee"))
    arrive("milestone", "m-1", system="certinia", **milestone_attrs(engagement, amount="40000.00"))
    arrive("milestone", "m-2", system="certinia", **milestone_attrs(engagement, name="Go-live", sequence=2,
                                                                     amount="50000.00"))

    _follow_until_idle()

    task = dq_tasks().get()
    assert task.cause_key == f"dq:engagement-milestones-sum-to-fixed-fee:{engagement.pk}"
    assert task.details["attribute"] == "budget_amount" and task.details["value"] == "100000.00"
    assert task.details["message"] == ("milestones add up to 90000.00 GBP, but budget_amount (the fixed fee) is "
                                       "100000.00 GBP")

    # when: the PSA corrects the second milestone
    arrive("milestone", "m-2", system="certinia", **milestone_attrs(engagement, name="Go-live", sequence=2,
                                                                     amount="60000.00"))
    followed = quality_feed_follow()

    task.refresh_from_db()
    assert (followed["events"], followed["resolved"]) == (1, 1)
    assert task.status == TaskStatus.RESOLVED


def _book(client, engagement, contract, kind, amount, key):
    revenue_event_record(fact=RevenueFact(
        idempotency_key=key, kind=kind, amount=Decimal(amount), currency="GBP", occurred_on=dt.date(2026, 2, 2),
        client=client, engagement=engagement, contract=contract,
    ))


def test_change_orders_must_sum_to_the_revised_value_and_a_change_order_change_rechecks_its_contract(only_rules):
    # given: an SOW of 100,000 booked, and a change order booked at 25,000 whose contract says 20,000
    only_rules("contract-change-orders-sum-to-revised-value")
    client = arrive("client", "c-1", **client_attrs())
    engagement = arrive("engagement", "e-1", system="certinia", **engagement_attrs(client))
    sow = arrive("contract", "k-1", system="salesforce", **contract_attrs(client, engagement))
    order_attrs = contract_attrs(client, engagement, kind="change_order", parent=sow.golden_id, number="CO-1",
                                 value_amount="20000.00")
    order = arrive("contract", "k-2", system="salesforce", **order_attrs)
    _book(client, engagement, sow, "booking", "100000.00", "t:booking")
    _book(client, engagement, order, "change_order", "25000.00", "t:co")

    _follow_until_idle()

    task = dq_tasks().get()
    assert task.cause_key == f"dq:contract-change-orders-sum-to-revised-value:{sow.pk}"
    assert task.details["message"] == ("value_amount 100000.00 plus change orders 20000.00 is 120000.00 GBP, but the "
                                       "revised value booked is 125000.00 GBP")

    # when: the CRM corrects the change order's value
    arrive("contract", "k-2", system="salesforce", **{**order_attrs, "value_amount": "25000.00"})
    followed = quality_feed_follow()

    task.refresh_from_db()
    assert (followed["events"], followed["resolved"]) == (1, 1)
    assert task.status == TaskStatus.RESOLVED


def test_the_feed_follower_checks_only_changed_records_and_advances_its_cursor(only_rules):
    # given: two clients with invalid tax ids arriving, and one written without a change event
    only_rules("client-tax-id-checksum")
    a = arrive("client", "c-a", **client_attrs(tax_id=INVALID_VAT))
    b = arrive("client", "c-b", **client_attrs(legal_name="Contoso Limited", tax_id=INVALID_VAT))
    quiet = ClientFactory(tax_id=INVALID_VAT)

    # when
    first, idle = quality_feed_follow(), quality_feed_follow()
    arrive("client", "c-a", **client_attrs(tax_id=VALID_VAT))
    third = quality_feed_follow()

    # then
    last = ChangeEvent.objects.order_by("-position").values_list("position", flat=True).first()
    assert {k: first[k] for k in ("events", "checked", "opened", "violations")} == {
        "events": 2, "checked": 2, "opened": 2, "violations": 2}
    assert {k: idle[k] for k in ("events", "checked", "opened", "resolved")} == {
        "events": 0, "checked": 0, "opened": 0, "resolved": 0}
    assert {k: third[k] for k in ("events", "checked", "opened", "resolved")} == {
        "events": 1, "checked": 1, "opened": 0, "resolved": 1}
    assert third["position"] == last == FeedCursor.objects.get(name="data_quality").position
    open_keys = set(dq_tasks().filter(status=TaskStatus.OPEN).values_list("cause_key", flat=True))
    assert open_keys == {f"dq:client-tax-id-checksum:{b.pk}"}

    # when: an on-demand check of every client finds the one the feed never carried
    everything = quality_check_all(entity_type="client")

    assert everything.checked == 3 and everything.opened == 1
    assert sorted(everything.violations) == sorted(f"dq:client-tax-id-checksum:{r.pk}" for r in (b, quiet))
    assert a.pk not in {pk for task in dq_tasks().filter(status=TaskStatus.OPEN) for pk in task.record_ids}


def test_a_client_left_with_no_active_source_is_deactivated_opens_a_task_and_resolves_when_a_copy_returns(
        only_rules):
    # given
    only_rules("client-has-active-source")
    client = arrive("client", "c-1", **client_attrs())
    quality_feed_follow()

    # when: the ERP deletes its copy, the only one
    source_record_mark_deleted(system=ConnectedSystem.objects.get(key="netsuite"), object_type="customer",
                               external_id="c-1")
    followed = quality_feed_follow()

    # then
    client.refresh_from_db()
    task = dq_tasks().get()
    assert client.status == "inactive"
    assert ChangeEvent.objects.filter(record_id=client.pk, operation="deactivated").count() == 1
    assert followed["events"] == 1 and followed["opened"] == 1
    assert task.cause_key == f"dq:client-has-active-source:{client.pk}" and task.priority == 2
    assert task.title == f"Client without an active source (sources): {client}"

    # when: the ERP restores it
    arrive("client", "c-1", **client_attrs())
    restored = quality_feed_follow()

    task.refresh_from_db()
    assert Client.objects.get(pk=client.pk).status == "active"
    assert restored["resolved"] == 1 and task.status == TaskStatus.RESOLVED


def test_a_record_waiting_for_a_source_is_rechecked_even_when_its_copy_returns_without_a_golden_change(
        only_rules):
    # given: an engagement whose only copy the PSA deleted (engagements have no inactive status to flip)
    only_rules("engagement-has-active-source")
    client = arrive("client", "c-1", **client_attrs())
    attrs = engagement_attrs(client)
    engagement = arrive("engagement", "e-1", system="certinia", **attrs)
    source_record_mark_deleted(system=ConnectedSystem.objects.get(key="certinia"), object_type="job",
                               external_id="e-1")
    quality_feed_follow()
    task = dq_tasks().get()
    events = ChangeEvent.objects.count()

    # when: the PSA restores the same copy: the golden record's values do not change, so no change event
    arrive("engagement", "e-1", system="certinia", **attrs)
    followed = quality_feed_follow()

    # then
    task.refresh_from_db()
    assert ChangeEvent.objects.count() == events and Engagement.objects.get(pk=engagement.pk).status == "active"
    assert (followed["events"], followed["checked"], followed["resolved"]) == (0, 1, 1)
    assert task.status == TaskStatus.RESOLVED


def test_disabling_a_rule_resolves_its_tasks_on_the_next_run_and_enabling_it_reopens_them(only_rules):
    only_rules("client-tax-id-checksum")
    arrive("client", "c-1", **client_attrs(tax_id=INVALID_VAT))
    quality_feed_follow()
    task = dq_tasks().get()
    rule = DataQualityRule.objects.get(code="client-tax-id-checksum")

    rule.enabled = False
    rule.save()
    disabled = quality_feed_follow()

    task.refresh_from_db()
    assert disabled["events"] == 0 and disabled["resolved"] == 1
    assert task.status == TaskStatus.RESOLVED and task.resolution_note == "rule client-tax-id-checksum is disabled"

    rule.enabled = True
    rule.save()
    reopened = quality_check_all(entity_type="client")

    task.refresh_from_db()
    assert reopened.opened == 1 and dq_tasks().count() == 1 and task.status == TaskStatus.OPEN


def test_a_merged_away_records_tasks_resolve_and_its_survivor_is_checked(only_rules):
    # given: the CRM's copy of a client with a bad country, and the ERP's copy of the same client
    only_rules("client-country-iso")
    crm = arrive("client", "c-1", system="salesforce", **client_attrs(country="ZZ"))
    erp = arrive("client", "c-2", **client_attrs())
    quality_feed_follow()
    task = dq_tasks().get()

    # when: a steward merges the CRM's record into the ERP's (whose country survives)
    golden_record_merge(survivor=erp, merged=crm, actor="sam", reason="same client")
    followed = quality_feed_follow()

    # then
    task.refresh_from_db()
    assert followed["checked"] == 2 and followed["resolved"] == 1
    assert task.status == TaskStatus.RESOLVED
    assert task.resolution_note == f"the record was merged into another ({erp.pk})"
    assert Client.objects.get(pk=erp.pk).country == "GB" and not dq_tasks().filter(status=TaskStatus.OPEN).exists()


def test_the_queue_sweep_follows_the_change_feed(only_rules):
    only_rules("client-tax-id-checksum")
    client = arrive("client", "c-1", **client_attrs(tax_id=INVALID_VAT))

    swept = steward_queues_sweep_task()

    assert {k: swept["data_quality"][k] for k in ("events", "checked", "opened")} == {
        "events": 1, "checked": 1, "opened": 1}
    assert dq_tasks().get().cause_key == f"dq:client-tax-id-checksum:{client.pk}"


def test_a_rule_that_cannot_run_is_reported_by_the_command_and_skipped(only_rules):
    only_rules("client-country-iso")
    DataQualityRule(code="client-vat-number", name="VAT number", entity_type="client", kind="checksum",
                    attribute="vat_number").save()
    client = arrive("client", "c-1", **client_attrs(country="ZZ"))
    out = StringIO()

    call_command("check_quality", "--entity", "client", stdout=out)

    lines = out.getvalue().splitlines()
    assert lines[0] == "checked 1 records: 1 violations, opened 1 tasks, resolved 0"
    assert any(line.startswith("client-vat-number") and line.endswith(
        "(cannot run: client has no attribute 'vat_number')") for line in lines)
    assert list(dq_tasks().values_list("cause_key", flat=True)) == [f"dq:client-country-iso:{client.pk}"]


def _open_by_rule(output: str) -> dict[str, int]:
    rows = (re.match(r"^(\S+)\s+\S+\s+\S+\s+\d+\s+(\d+)", line) for line in output.splitlines())
    return {m.group(1): int(m.group(2)) for m in rows if m and m.group(1) != "rule"}


def test_the_commands_on_the_demo(db):
    # given: a small demo book (12 clients), as make run loads it
    call_command("load_demo", "--clients", "12", stdout=StringIO())
    quality, exceptions = StringIO(), StringIO()

    # when
    call_command("check_quality", "--feed", stdout=quality)
    call_command("check_exceptions", "--as-of", "2026-11-25", stdout=exceptions)

    # then
    open_quality = {code: n for code, n in _open_by_rule(quality.getvalue()).items() if n}
    assert open_quality == {"client-tax-id-checksum": 10}
    assert quality.getvalue().splitlines()[-1] == "open data-quality tasks: 10"
    found = {line.split()[0]: int(line.split()[2]) for line in exceptions.getvalue().splitlines()[1:]}
    assert found == {"approved-time-not-billed": 3, "client-attributes-disagree": 8,
                     "closed-won-without-psa-project": 0, "forecast-not-delivered-to-fpa": 0,
                     "milestone-completed-not-invoiced": 0, "project-awaiting-erp-activation": 0}
    tasks = StewardTask.objects.filter(kind=TaskKind.BUSINESS_EXCEPTION)
    assert tasks.count() == 11 and not tasks.filter(amount__isnull=True).exists()
    assert not tasks.filter(currency="").exists()
