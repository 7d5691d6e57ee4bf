"""A drain delivers a subscription's due deliveries a batch a write until none is left; drains side by side
share the backlog (each batch taken with SKIP LOCKED) and never send a delivery twice."""

import datetime as dt

import pytest
from django.utils.timezone import now

from connectors.models import BreakerState, CircuitBreaker, Delivery, DeliveryStatus, Subscription
from connectors.services.outbound import deliveries_drain, outbox_relay, subscriptions_due
from tests.connectors.services.test_batched_deliveries import COMPOSITE, erp_clients
from tests.side_by_side import side_by_side


def delivered_hub_ids(emulator) -> list[str]:
    return sorted(r["Hub_Id__c"] for r in emulator.store["Account"].values() if r.get("Hub_Id__c"))


def request_sizes(emulator) -> list[int]:
    """Records in each composite upsert request, in the order they came."""
    return [len(r.body["records"]) for r in emulator.requests_to("PATCH", COMPOSITE)]


def test_a_drain_sends_every_due_delivery_a_batch_a_write_then_stops(salesforce_target):
    emulator, system, _ = salesforce_target
    erp_clients(5)
    outbox_relay()
    subscription = Subscription.objects.get(system=system)

    assert subscriptions_due() == [subscription.pk]
    attempted = deliveries_drain(subscription_id=subscription.pk, size=2)

    assert attempted == 5 and request_sizes(emulator) == [2, 2, 1]
    assert set(Delivery.objects.values_list("status", flat=True)) == {DeliveryStatus.DELIVERED}
    assert subscriptions_due() == [] and deliveries_drain(subscription_id=subscription.pk) == 0


def test_a_drain_hands_its_worker_back_when_its_time_is_up(salesforce_target):
    emulator, system, _ = salesforce_target
    erp_clients(5)
    outbox_relay()
    subscription = Subscription.objects.get(system=system)

    first = deliveries_drain(subscription_id=subscription.pk, size=2, budget_s=0)

    assert first == 2 and request_sizes(emulator) == [2]  # one batch, then the budget was spent
    assert subscriptions_due() == [subscription.pk]
    assert deliveries_drain(subscription_id=subscription.pk, size=2) == 3


@pytest.mark.django_db(transaction=True)
def test_drains_side_by_side_share_the_backlog_and_send_nothing_twice(salesforce_target):
    emulator, system, _ = salesforce_target
    erp_clients(12)
    outbox_relay()
    subscription = Subscription.objects.get(system=system)
    attempted = side_by_side(lambda: deliveries_drain(subscription_id=subscription.pk, size=2), 3)

    assert sum(attempted) == 12 and len(attempted) == 3
    assert set(Delivery.objects.values_list("status", flat=True)) == {DeliveryStatus.DELIVERED}
    hub_ids = delivered_hub_ids(emulator)
    assert len(hub_ids) == len(set(hub_ids)) == 12  # each client created once
    assert sum(request_sizes(emulator)) == 12 and max(request_sizes(emulator)) == 2  # each sent once


def test_a_half_open_circuit_gets_one_delivery_as_its_probe_then_the_rest(salesforce_target):
    emulator, system, _ = salesforce_target
    erp_clients(4)
    outbox_relay()
    CircuitBreaker.objects.create(system=system, state=BreakerState.OPEN, consecutive_failures=3, trips=1,
                                  opened_at=now(), next_probe_at=now() - dt.timedelta(seconds=1))
    subscription = Subscription.objects.get(system=system)

    attempted = deliveries_drain(subscription_id=subscription.pk)

    assert attempted == 4
    assert CircuitBreaker.objects.get().state == BreakerState.CLOSED
    assert request_sizes(emulator) == [1, 3]  # the probe alone, then the other three together
    assert set(Delivery.objects.values_list("status", flat=True)) == {DeliveryStatus.DELIVERED}


def test_nothing_is_drained_into_a_platform_the_hub_has_not_read_once(salesforce_target):
    from connectors.services.streams import streams_ensure

    emulator, system, _ = salesforce_target
    streams_ensure(system=system)  # its streams have never finished a pull
    erp_clients(3)
    outbox_relay()
    subscription = Subscription.objects.get(system=system)

    assert subscriptions_due() == []
    assert deliveries_drain(subscription_id=subscription.pk) == 0
    assert emulator.requests_to("PATCH", COMPOSITE) == []
    assert set(Delivery.objects.values_list("status", flat=True)) == {DeliveryStatus.HELD}


def test_a_subscription_is_offered_to_drains_while_its_breaker_holds_only_once_its_probe_is_due(salesforce_target):
    _, system, _ = salesforce_target
    erp_clients(3)
    outbox_relay()
    subscription = Subscription.objects.get(system=system)
    breaker = CircuitBreaker.objects.create(system=system, state=BreakerState.OPEN, consecutive_failures=3, trips=1,
                                            opened_at=now(), next_probe_at=now() + dt.timedelta(minutes=5))
    while_open = subscriptions_due()
    breaker.next_probe_at = now() - dt.timedelta(seconds=1)
    breaker.save()
    probe_due = subscriptions_due()
    Delivery.objects.update(next_attempt_at=now() + dt.timedelta(minutes=1))
    none_due = subscriptions_due()

    assert (while_open, probe_due, none_due) == ([], [subscription.pk], [])
