"""Business exceptions: each rule fires once its grace period has passed (not before), carries the money at stake,
and resolves when its condition clears; run on demand (manage.py check_exceptions) and hourly by beat."""

import datetime as dt
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django_celery_beat.models import PeriodicTask

from canonical.models import ConnectedSystem
from canonical.services.golden import source_record_stage
from canonical.services.revenue import RevenueFact, revenue_event_record
from connectors.models import Delivery, DeliveryStatus, Subscription
from connectors.services.outbound import outbox_relay
from stewardship.models import BusinessExceptionRule, Resolution, StewardTask, TaskKind, TaskStatus
from stewardship.services.exceptions import business_exception_rule_run, business_exceptions_check
from tests.factories.canonical import (
    ClientFactory,
    ConnectedSystemFactory,
    EngagementFactory,
    MilestoneFactory,
    RevenueEventFactory,
    SourceRecordFactory,
)

DAY = dt.timedelta(days=1)
T0 = dt.datetime(2026, 9, 1, 9, tzinfo=dt.UTC)


def system(key: str) -> ConnectedSystem:
    return ConnectedSystem.objects.filter(key=key).first() or ConnectedSystemFactory(key=key)


def copy(record, key: str, object_type: str = "Record", modified_at=T0, **attributes):
    """A platform's copy of a golden record in the crosswalk."""
    return SourceRecordFactory(system=system(key), object_type=object_type, entity_type=record.ENTITY_TYPE,
                               golden_record_id=record.pk, attributes=attributes, source_modified_at=modified_at)


def bex_tasks():
    return StewardTask.objects.filter(kind=TaskKind.BUSINESS_EXCEPTION)


def fires_after_grace(code: str, since: dt.date) -> tuple[BusinessExceptionRule, StewardTask]:
    """Run the rule the day before its grace period ends (nothing) and the day it ends (one task)."""
    rule = BusinessExceptionRule.objects.get(code=code)
    before = business_exception_rule_run(rule=rule, today=since + (rule.grace_days - 1) * DAY)
    assert before == {"findings": 0, "opened": 0, "resolved": 0} and not bex_tasks().exists()
    at = business_exception_rule_run(rule=rule, today=since + rule.grace_days * DAY)
    assert at == {"findings": 1, "opened": 1, "resolved": 0}
    task = bex_tasks().get()
    assert task.cause_key.startswith(f"bex:{code}:") and task.priority == rule.priority
    assert task.details["rule"] == code and task.details["since"] == since.isoformat()
    return rule, task


def clears(rule: BusinessExceptionRule, task: StewardTask, today: dt.date) -> None:
    result = business_exception_rule_run(rule=rule, today=today)
    task.refresh_from_db()
    assert result == {"findings": 0, "opened": 0, "resolved": 1}
    assert task.status == TaskStatus.RESOLVED and task.resolution == Resolution.CAUSE_GONE
    assert task.resolution_note == "the condition cleared"


def test_closed_won_without_a_psa_project_fires_after_its_grace_period_with_the_booking_at_stake(db):
    # given: won on 1 October (a booking), no project in the PSA
    won = dt.date(2026, 10, 1)
    engagement = EngagementFactory(status="active")
    RevenueEventFactory(kind="booking", client=engagement.client, engagement=engagement, amount=Decimal("120000.00"),
                        currency="GBP", occurred_on=won)

    # when / then
    rule, task = fires_after_grace("closed-won-without-psa-project", won)
    assert (task.amount, task.currency) == (Decimal("120000.00"), "GBP")
    assert task.record_ids == [engagement.pk] and task.domain == "engagement"
    assert task.title == f"Closed won on 2026-10-01, no project in the PSA: {engagement.golden_id} {engagement.name}"

    # when: the PSA creates the project
    copy(engagement, "certinia", "pse__Proj__c")
    clears(rule, task, won + 10 * DAY)


def test_closed_won_in_the_crm_without_a_booking_counts_from_the_crm_copys_last_change(db):
    engagement = EngagementFactory(status="active", budget_amount=Decimal("64000.00"), currency="EUR")
    copy(engagement, "salesforce", "Opportunity", modified_at=dt.datetime(2026, 10, 5, 15, tzinfo=dt.UTC),
         status="active")
    pipeline = EngagementFactory(status="pipeline")
    copy(pipeline, "salesforce", "Opportunity", status="pipeline")

    rule, task = fires_after_grace("closed-won-without-psa-project", dt.date(2026, 10, 5))

    assert (task.amount, task.currency) == (Decimal("64000.00"), "EUR")
    assert task.record_ids == [engagement.pk] and task.details["won_by"] == "crm"


def test_a_project_awaiting_erp_activation_fires_from_its_start_and_clears_when_the_erp_has_it(db):
    start = dt.date(2026, 10, 12)
    engagement = EngagementFactory(status="active", start_date=start, budget_amount=Decimal("80000.00"))
    copy(engagement, "certinia", "pse__Proj__c")
    pipeline = EngagementFactory(status="pipeline", start_date=start)  # not started: not awaiting anything
    copy(pipeline, "certinia", "pse__Proj__c")

    rule, task = fires_after_grace("project-awaiting-erp-activation", start)

    assert (task.amount, task.currency) == (Decimal("80000.00"), "GBP") and task.record_ids == [engagement.pk]
    copy(engagement, "netsuite", "job")
    clears(rule, task, start + 30 * DAY)


def test_a_completed_milestone_not_invoiced_fires_after_its_grace_period_and_clears_when_invoiced(db):
    done = dt.date(2026, 10, 28)
    milestone = MilestoneFactory(status="completed", completed_date=done, amount=Decimal("25000.00"))
    MilestoneFactory(status="completed", completed_date=done, amount=None)  # nothing to bill
    MilestoneFactory(status="invoiced", completed_date=done, amount=Decimal("5000.00"))  # the PSA says invoiced

    rule, task = fires_after_grace("milestone-completed-not-invoiced", done)

    engagement = milestone.engagement
    assert (task.amount, task.currency) == (Decimal("25000.00"), "GBP")
    assert task.record_ids == [milestone.pk, engagement.pk] and task.domain == "milestone"
    RevenueEventFactory(kind="invoice_issued", client=engagement.client, engagement=engagement, milestone=milestone,
                        amount=Decimal("25000.00"), occurred_on=done + 20 * DAY)
    clears(rule, task, done + 21 * DAY)


def test_approved_time_not_billed_counts_what_invoices_do_not_cover_oldest_first(db):
    # given: September's time (10,000) invoiced, October's (12,000) not yet
    engagement = EngagementFactory(engagement_type="time_and_materials")
    fixed_fee = EngagementFactory(engagement_type="fixed_fee")  # its time is not billed as time
    for record, day, amount in ((engagement, dt.date(2026, 9, 25), "10000.00"),
                                (engagement, dt.date(2026, 10, 30), "12000.00"),
                                (fixed_fee, dt.date(2026, 9, 25), "9000.00")):
        RevenueEventFactory(kind="time_expense_approved", client=record.client, engagement=record, occurred_on=day,
                            amount=Decimal(amount))
    RevenueEventFactory(kind="invoice_issued", client=engagement.client, engagement=engagement,
                        occurred_on=dt.date(2026, 10, 5), amount=Decimal("10000.00"))

    # when / then: it dates from October's approval, the first one the invoices stop covering
    rule, task = fires_after_grace("approved-time-not-billed", dt.date(2026, 10, 30))
    assert (task.amount, task.currency) == (Decimal("12000.00"), "GBP") and task.record_ids == [engagement.pk]
    assert (task.details["approved"], task.details["invoiced"]) == ("22000.00", "10000.00")

    # when: part of it is billed, the amount at stake follows; all of it, the task resolves
    RevenueEventFactory(kind="invoice_issued", client=engagement.client, engagement=engagement,
                        occurred_on=dt.date(2026, 11, 16), amount=Decimal("7000.00"))
    partly = business_exception_rule_run(rule=rule, today=dt.date(2026, 11, 17))
    task.refresh_from_db()
    assert partly == {"findings": 1, "opened": 0, "resolved": 0} and task.amount == Decimal("5000.00")
    RevenueEventFactory(kind="invoice_issued", client=engagement.client, engagement=engagement,
                        occurred_on=dt.date(2026, 11, 18), amount=Decimal("5000.00"))
    clears(rule, task, dt.date(2026, 11, 19))


def _forecast(engagement, source_key: str, day: dt.date, amount: str, key: str):
    event, _ = revenue_event_record(fact=RevenueFact(
        idempotency_key=key, kind="forecast_revised", amount=Decimal(amount), currency="GBP", occurred_on=day,
        client=engagement.client, engagement=engagement, source_system=system(source_key),
    ))
    return event


def test_a_forecast_revision_not_delivered_to_fpa_fires_until_a_delivery_to_fpa_succeeds(db):
    # given: the CRM revised the forecast; Anaplan subscribes to revenue events
    revised = dt.date(2026, 11, 2)
    engagement = EngagementFactory()
    forecast = _forecast(engagement, "salesforce", revised, "98000.00", "t:forecast:1")
    Subscription.objects.create(system=system("anaplan"), entity_type="revenue_event", object_type="Forecast")
    outbox_relay()
    delivery = Delivery.objects.get(record_id=forecast.pk)

    # when / then: a pending delivery is not a delivered one
    rule, task = fires_after_grace("forecast-not-delivered-to-fpa", revised)
    assert (task.amount, task.currency) == (Decimal("98000.00"), "GBP")
    assert task.cause_key == f"bex:forecast-not-delivered-to-fpa:{engagement.pk}"
    assert task.record_ids == [forecast.pk, engagement.pk] and task.domain == "revenue_event"

    delivery.status = DeliveryStatus.DELIVERED
    delivery.save()
    clears(rule, task, revised + 5 * DAY)


def test_a_newer_forecast_from_fpa_supersedes_an_undelivered_one(db):
    engagement = EngagementFactory()
    _forecast(engagement, "salesforce", dt.date(2026, 10, 9), "98000.00", "t:forecast:1")
    rule, task = fires_after_grace("forecast-not-delivered-to-fpa", dt.date(2026, 10, 9))

    _forecast(engagement, "anaplan", dt.date(2026, 10, 20), "97000.00", "t:forecast:2")

    clears(rule, task, dt.date(2026, 10, 25))


def test_client_attributes_disagreeing_across_platforms_fire_with_the_open_work_at_stake(db):
    # given: the ERP and the CRM spell the client differently (legal form, country name, website as a URL:
    # tolerated) and hold different billing postcodes (not tolerated)
    changed = dt.datetime(2026, 10, 20, 11, tzinfo=dt.UTC)
    client = ClientFactory(currency="GBP")
    copy(client, "netsuite", "customer", modified_at=dt.datetime(2026, 6, 1, tzinfo=dt.UTC),
         legal_name="Wingtip Toys Limited", country="GB", billing_postcode="EC2A 4NE", website_domain="wingtip.co.uk",
         tax_id="GB980780684")
    crm = copy(client, "salesforce", "Account", modified_at=changed, legal_name="WINGTIP TOYS LTD",
               country="United Kingdom", billing_postcode="M1 1AE", website_domain="https://www.wingtip.co.uk/",
               tax_id="GB 980 780 684")
    for status, budget in (("active", "150000.00"), ("on_hold", "50000.00"), ("completed", "90000.00")):
        EngagementFactory(client=client, status=status, budget_amount=Decimal(budget))

    # when / then
    rule, task = fires_after_grace("client-attributes-disagree", changed.date())
    assert (task.amount, task.currency) == (Decimal("200000.00"), "GBP")
    assert task.details["attributes"] == {"billing_postcode": {"netsuite": "EC2A 4NE", "salesforce": "M1 1AE"}}
    assert task.title == (f"Client attributes disagree across platforms (billing_postcode): {client.golden_id} "
                          f"{client.display_name}")

    # when: the CRM takes the ERP's address
    source_record_stage(system=crm.system, object_type="Account", external_id=crm.external_id, entity_type="client",
                        attributes={**crm.attributes, "billing_postcode": "EC2A 4NE"}, payload={"fixed": True},
                        source_modified_at=changed + 10 * DAY)
    clears(rule, task, changed.date() + 11 * DAY)


def test_running_again_changes_nothing_and_a_disabled_rule_resolves_its_tasks(db):
    done = dt.date(2026, 10, 1)
    MilestoneFactory(status="completed", completed_date=done, amount=Decimal("25000.00"))
    business_exceptions_check(today=done + 30 * DAY)
    task = bex_tasks().get()
    versions = task.history.count()

    again = business_exceptions_check(today=done + 31 * DAY)
    rule = BusinessExceptionRule.objects.get(code="milestone-completed-not-invoiced")
    rule.enabled = False
    rule.save()
    disabled = business_exceptions_check(today=done + 32 * DAY)

    task.refresh_from_db()
    assert again["milestone-completed-not-invoiced"] == {"findings": 1, "opened": 0, "resolved": 0}
    assert task.history.count() == versions + 1  # only the resolution
    assert disabled["milestone-completed-not-invoiced"] == {"findings": 0, "opened": 0, "resolved": 1}
    assert task.status == TaskStatus.RESOLVED
    assert task.resolution_note == "rule milestone-completed-not-invoiced is disabled"
    assert rule.history.count() == 1  # the steward disabling it; runs write no history


def test_the_command_runs_the_named_rules_as_of_a_day_and_shows_the_money_at_stake(db):
    done = dt.date(2026, 10, 1)
    MilestoneFactory(status="completed", completed_date=done, amount=Decimal("25000.00"))
    MilestoneFactory(status="completed", completed_date=done, amount=Decimal("7500.50"))
    out = StringIO()

    call_command("check_exceptions", "--rule", "milestone-completed-not-invoiced", "--as-of", "2026-10-15", stdout=out)

    lines = out.getvalue().splitlines()
    assert len(lines) == 2
    assert lines[1].split() == ["milestone-completed-not-invoiced", "14", "2", "2", "0", "2", "GBP", "32,500.50"]
    assert BusinessExceptionRule.objects.get(code="milestone-completed-not-invoiced").last_run_at is not None
    assert BusinessExceptionRule.objects.get(code="approved-time-not-billed").last_run_at is None
    BusinessExceptionRule(code="unbilled-expenses", name="Unbilled expenses", kind="expenses_not_billed").save()
    odd = StringIO()
    call_command("check_exceptions", "--rule", "unbilled-expenses", stdout=odd)
    assert odd.getvalue().splitlines()[1].endswith("(cannot run: unknown kind 'expenses_not_billed')")
    with pytest.raises(CommandError, match="no such rule: nope"):
        call_command("check_exceptions", "--rule", "nope")


def test_beat_runs_the_business_exception_check_hourly(db):
    task = PeriodicTask.objects.get(task="stewardship.tasks.business_exceptions_check_task")

    assert (task.enabled, task.interval.every, task.interval.period) == (True, 3600, "seconds")
