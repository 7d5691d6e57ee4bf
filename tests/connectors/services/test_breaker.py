"""The circuit breaker per connected system, over HTTP to the emulators: it opens after consecutive outages,
holds the system's due deliveries without sending or spending attempts, lets exactly one probe through
when the cool-down ends, closes on an answer and opens again, for longer, on an outage. A 429 is a pause
the platform asks for, not an outage."""

import datetime as dt

import pytest

from canonical.models import ConnectedSystem
from canonical.services.golden import golden_record_recompute, source_record_stage
from connectors.models import BreakerState, CircuitBreaker, Delivery, DeliveryStatus, Stream
from connectors.services.breaker import breaker_admit
from connectors.services.outbound import deliveries_due, delivery_attempt, outbox_relay
from connectors.services.streams import streams_ensure
from connectors.tasks import inbound_stream_sync_task
from tests.connectors.targets import T0, deliver_all, golden_client, make_due
from tests.factories.canonical import ConnectedSystemFactory
from tests.side_by_side import side_by_side

COMPOSITE = "/services/data/v62.0/composite"
NAMES = ["Wingtip Toys Limited", "Northwind Traders Limited", "Contoso Holdings Limited",
         "Fabrikam Industries Limited", "Adventure Works Limited"]


@pytest.fixture(autouse=True)
def breaker_settings(settings):
    settings.CONCORD_BREAKER_THRESHOLD = 3
    settings.CONCORD_BREAKER_COOLDOWN_S = 60
    settings.CONCORD_BREAKER_COOLDOWN_MAX_S = 900


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def pushes(emulator) -> int:
    return len(emulator.requests_to("PATCH", COMPOSITE))


def five_deliveries() -> list[Delivery]:
    for name in NAMES:
        golden_client(name)
    outbox_relay()
    return list(Delivery.objects.order_by("created_at"))


def opened(emulator) -> CircuitBreaker:
    """Three 503s in a row: the third opens the breaker, and the deliveries after it are not even sent."""
    emulator.faults.inject("unavailable", times=3)
    deliver_all()
    return CircuitBreaker.objects.get()


def cool_down_ends() -> None:
    CircuitBreaker.objects.update(next_probe_at=now() - dt.timedelta(seconds=1))


def test_consecutive_outages_open_it_and_the_systems_deliveries_then_wait_unsent(salesforce_target):
    emulator, system, _ = salesforce_target
    deliveries = five_deliveries()

    breaker = opened(emulator)
    sent_while_failing = pushes(emulator)
    make_due()
    due_while_open = deliveries_due()
    direct = delivery_attempt(delivery_id=str(deliveries[-1].pk))

    assert sent_while_failing == 3
    assert (breaker.state, breaker.consecutive_failures, breaker.trips) == (BreakerState.OPEN, 3, 1)
    assert "503" in breaker.last_error
    assert 55 <= (breaker.next_probe_at - now()).total_seconds() <= 60
    assert due_while_open == [] and direct is None
    assert pushes(emulator) == 3  # nothing more reached the platform
    attempts = sorted(Delivery.objects.values_list("attempts", flat=True))
    assert attempts == [0, 0, 1, 1, 1]  # the held ones spent nothing
    assert set(Delivery.objects.values_list("status", flat=True)) == {DeliveryStatus.PENDING}


def test_when_the_cool_down_ends_one_probe_goes_and_its_success_closes_the_circuit(salesforce_target):
    emulator, _, _ = salesforce_target
    five_deliveries()
    opened(emulator)
    make_due()
    cool_down_ends()

    due = deliveries_due()
    probe = delivery_attempt(delivery_id=due[0])
    after_probe = CircuitBreaker.objects.get()
    delivered = deliver_all()

    assert len(due) == 1  # five are due, one probes
    assert probe.status == DeliveryStatus.DELIVERED
    assert (after_probe.state, after_probe.consecutive_failures, after_probe.trips) == (BreakerState.CLOSED, 0, 0)
    assert [d.status for d in delivered] == [DeliveryStatus.DELIVERED] * 4
    assert pushes(emulator) == 3 + 1 + 4


def test_a_failed_probe_opens_it_again_for_twice_as_long(salesforce_target):
    emulator, _, _ = salesforce_target
    five_deliveries()
    opened(emulator)
    make_due()
    cool_down_ends()
    emulator.faults.inject("unavailable")

    results = deliver_all()
    breaker = CircuitBreaker.objects.get()
    make_due()

    assert pushes(emulator) == 3 + 1
    assert [r.status for r in results] == [DeliveryStatus.PENDING]
    assert (breaker.state, breaker.trips, breaker.consecutive_failures) == (BreakerState.OPEN, 2, 4)
    assert 115 <= (breaker.next_probe_at - now()).total_seconds() <= 120
    assert deliveries_due() == []


def test_an_answer_between_outages_starts_the_count_again(salesforce_target):
    emulator, _, _ = salesforce_target
    deliveries = five_deliveries()
    emulator.faults.inject("unavailable", times=2)
    deliver_all()  # 503, 503, then three delivered
    emulator.faults.inject("unavailable", times=2)
    make_due(deliveries[:2])

    deliver_all()  # the two again: 503, 503 (four outages, but never three in a row)
    breaker = CircuitBreaker.objects.get()

    assert (breaker.state, breaker.consecutive_failures) == (BreakerState.CLOSED, 2)
    assert pushes(emulator) == 7


@pytest.mark.django_db(transaction=True)
def test_only_one_of_many_concurrent_callers_becomes_the_probe():
    system = ConnectedSystemFactory(key="salesforce")
    CircuitBreaker.objects.create(system=system, state=BreakerState.OPEN, consecutive_failures=3, trips=1,
                                  opened_at=now(), next_probe_at=now() - dt.timedelta(seconds=1))
    admissions = side_by_side(lambda: breaker_admit(system_id=system.pk), 8)

    probes = [a for a in admissions if a is not None]
    assert len(admissions) == 8 and len(probes) == 1 and probes[0].probe
    assert CircuitBreaker.objects.get().state == BreakerState.HALF_OPEN


def test_a_probe_that_sends_nothing_hands_its_turn_on(salesforce_target):
    emulator, system, _ = salesforce_target
    client = golden_client("Wingtip Toys Limited")
    source_record_stage(system=ConnectedSystem.objects.get(key="kantata"), object_type="client",
                        external_id="wingtip-toys-limited", entity_type="client",
                        attributes={"legal_name": "Wingtip Toys Group Limited", "country": "GB"},
                        payload={"id": "wingtip-toys-limited", "v": 2}, source_modified_at=T0 + dt.timedelta(hours=1))
    golden_record_recompute(record=client, reason="renamed")
    outbox_relay()
    older, newer = Delivery.objects.order_by("version")
    Delivery.objects.filter(pk=newer.pk).update(status=DeliveryStatus.DELIVERED)
    CircuitBreaker.objects.create(system=system, state=BreakerState.OPEN, consecutive_failures=3, trips=1,
                                  opened_at=now(), next_probe_at=now() - dt.timedelta(seconds=1))

    superseded = delivery_attempt(delivery_id=str(older.pk))  # admitted as the probe, sends nothing
    breaker = CircuitBreaker.objects.get()

    assert superseded.status == DeliveryStatus.SUPERSEDED
    assert pushes(emulator) == 0
    assert breaker.state == BreakerState.OPEN and breaker.next_probe_at <= now()
    assert breaker_admit(system_id=system.pk).probe


def test_a_429_is_a_pause_not_an_outage_and_its_retry_after_is_honoured(netsuite_target):
    emulator, system = netsuite_target
    first = golden_client("Wingtip Toys Limited")
    outbox_relay()
    emulator.inject("throttle", times=10)

    throttled = delivery_attempt(delivery_id=deliveries_due()[0])
    breaker = CircuitBreaker.objects.get()
    golden_client("Northwind Traders Limited")
    outbox_relay()
    second = Delivery.objects.exclude(record_id=first.pk).get()
    calls_while_paused = emulator.count("PUT", "/services/rest/record")
    held = delivery_attempt(delivery_id=str(second.pk)), deliveries_due()
    calls_after_hold = emulator.count("PUT", "/services/rest/record")
    for _ in range(4):  # more 429s in a row than the threshold of outages, each after its pause
        CircuitBreaker.objects.update(throttled_until=None)
        make_due()
        deliver_all()
    after_many = CircuitBreaker.objects.get()

    assert throttled.attempts == 1 and throttled.status == DeliveryStatus.PENDING
    assert "429" in throttled.last_error
    assert (throttled.next_attempt_at - now()).total_seconds() >= 119  # not sooner than Retry-After: 120
    assert (breaker.state, breaker.consecutive_failures) == (BreakerState.CLOSED, 0)
    assert 115 <= (breaker.throttled_until - now()).total_seconds() <= 120
    assert held == (None, []) and calls_after_hold == calls_while_paused == 1
    assert (after_many.state, after_many.consecutive_failures) == (BreakerState.CLOSED, 0)
    assert emulator.count("PUT", "/services/rest/record") == 5


def test_pulls_open_it_wait_while_it_is_open_and_one_can_probe(netsuite_target):
    emulator, system = netsuite_target
    stream = next(s for s in streams_ensure(system=system) if s.object_type == "customer")
    emulator.inject("unavailable", times=3)

    failed = inbound_stream_sync_task.apply(args=[str(stream.pk)])  # retried at once when run in-process
    breaker = CircuitBreaker.objects.get()
    calls = sum(1 for r in emulator.requests if not r.path.endswith("/token"))
    cool_down_ends()
    probed = inbound_stream_sync_task.apply(args=[str(stream.pk)]).get()

    assert failed.get() == 0  # the fourth try found the circuit open and waited
    assert (breaker.state, breaker.consecutive_failures) == (BreakerState.OPEN, 3)
    assert calls == 3  # three 503s, none after
    assert probed > 0 and Stream.objects.get(pk=stream.pk).cursor
    assert CircuitBreaker.objects.get().state == BreakerState.CLOSED
