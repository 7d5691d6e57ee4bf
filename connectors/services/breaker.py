"""Circuit breaker per connected system, kept in the database so every worker sees the same one.

``closed``: requests flow; each outage (5xx, timeout, connection failure) adds to ``consecutive_failures``
and any answer resets it. At ``CONCORD_BREAKER_THRESHOLD`` it opens: nothing is sent to the system (its
deliveries stay pending with their attempts unspent, its pulls are skipped) until ``next_probe_at``. Then
exactly one caller wins a conditional UPDATE to ``half_open`` and probes; the others keep waiting. The
probe's answer closes it; an outage opens it again, each time with twice the cool-down, up to
``CONCORD_BREAKER_COOLDOWN_MAX_S``. A probe whose worker died gives its turn up when its lease ends.

Throttling is not an outage: a 429 means the platform is up and asks for a pause. It neither counts nor
opens the breaker; its Retry-After holds every request to the system (``throttled_until``), and the
delivery that met it is retried no sooner than that.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from connectors import http
from connectors.models import BreakerState, CircuitBreaker

logger = logging.getLogger(__name__)

#: How long a half-open probe may take before another caller may probe (a worker killed mid-probe).
PROBE_LEASE_S = 120.0
HOLDING = (BreakerState.OPEN, BreakerState.HALF_OPEN)


@dataclass(frozen=True)
class Admission:
    """Leave to send requests to a system: as usual, or as the one probe of a half-open breaker."""

    system_id: Any
    probe: bool = False
    lease_until: datetime | None = None


def cooldown_seconds(trips: int) -> float:
    """The cool-down after the ``trips``-th opening in a row: doubling from the base, capped."""
    base, cap = settings.CONCORD_BREAKER_COOLDOWN_S, settings.CONCORD_BREAKER_COOLDOWN_MAX_S
    return float(min(base * 2 ** max(trips - 1, 0), max(cap, base)))


def breaker_admit(*, system_id: Any) -> Admission | None:
    """May requests go to the system now? None while it is open (or throttled); when its cool-down has
    ended, one caller (and only one, whatever the number of workers) is admitted as the probe."""
    now = timezone.now()
    row = (CircuitBreaker.objects.filter(system_id=system_id)
           .values_list("state", "next_probe_at", "throttled_until").first())
    if row is None:
        return Admission(system_id)
    state, next_probe_at, throttled_until = row
    if throttled_until is not None and throttled_until > now:
        return None
    if state == BreakerState.CLOSED:
        return Admission(system_id)
    if next_probe_at is not None and next_probe_at > now:
        return None
    lease = now + timedelta(seconds=PROBE_LEASE_S)
    # The conditional UPDATE is the probe's ticket: a concurrent caller re-reads the row after the winner's
    # commit, finds next_probe_at in the future, and updates nothing.
    won = CircuitBreaker.objects.filter(
        Q(next_probe_at__isnull=True) | Q(next_probe_at__lte=now), system_id=system_id, state__in=HOLDING,
    ).update(state=BreakerState.HALF_OPEN, next_probe_at=lease, updated_at=now)
    if not won:
        return None
    logger.info("circuit half-open: probing", extra={"system": str(system_id)})
    return Admission(system_id, probe=True, lease_until=lease)


def breaker_record(*, admission: Admission, outcome: http.Outcome | None) -> None:
    """Feed the last outcome of an admitted attempt to the breaker (None: nothing was sent)."""
    if outcome is None:
        if admission.probe:  # the probe sent nothing: hand its turn to the next caller at once
            CircuitBreaker.objects.filter(system_id=admission.system_id, state=BreakerState.HALF_OPEN,
                                          next_probe_at=admission.lease_until).update(
                state=BreakerState.OPEN, next_probe_at=timezone.now())
        return
    if outcome.kind == http.OUTAGE:
        _outage(admission.system_id, outcome.error)
    else:
        _answered(admission.system_id, outcome)


def _answered(system_id: Any, outcome: http.Outcome) -> None:
    now = timezone.now()
    closed = CircuitBreaker.objects.filter(system_id=system_id, state__in=HOLDING).update(
        state=BreakerState.CLOSED, consecutive_failures=0, trips=0, opened_at=None, next_probe_at=None,
        updated_at=now)
    if closed:
        logger.info("circuit closed: the platform answers", extra={"system": str(system_id)})
    else:
        CircuitBreaker.objects.filter(system_id=system_id, consecutive_failures__gt=0).update(
            consecutive_failures=0, updated_at=now)
    if outcome.kind == http.THROTTLED and outcome.retry_after:
        until = now + timedelta(seconds=outcome.retry_after)
        with transaction.atomic():
            breaker, _ = CircuitBreaker.objects.select_for_update().get_or_create(system_id=system_id)
            if breaker.throttled_until is None or breaker.throttled_until < until:
                breaker.throttled_until, breaker.updated_at = until, now
                breaker.save(update_fields=["throttled_until", "updated_at"])
        logger.info("platform throttling: holding its requests",
                    extra={"system": str(system_id), "retry_after": outcome.retry_after})


def _outage(system_id: Any, error: str) -> None:
    now = timezone.now()
    with transaction.atomic():
        breaker, _ = CircuitBreaker.objects.select_for_update().get_or_create(system_id=system_id)
        breaker.consecutive_failures += 1
        breaker.last_error, breaker.last_failure_at, breaker.updated_at = error[:2000], now, now
        opens = (breaker.state == BreakerState.HALF_OPEN
                 or (breaker.state == BreakerState.CLOSED
                     and breaker.consecutive_failures >= settings.CONCORD_BREAKER_THRESHOLD))
        if opens:
            breaker.trips += 1
            breaker.state, breaker.opened_at = BreakerState.OPEN, now
            breaker.next_probe_at = now + timedelta(seconds=cooldown_seconds(breaker.trips))
        breaker.save()
    if opens:
        logger.warning("circuit opened: the platform is failing", extra={
            "system": str(system_id), "failures": breaker.consecutive_failures, "trips": breaker.trips,
            "next_probe_at": breaker.next_probe_at.isoformat(), "error": error[:300]})


@contextlib.contextmanager
def breaker_watch(admission: Admission) -> Iterator[None]:
    """Run an admitted attempt; its last platform request's outcome decides what the breaker makes of it."""
    with http.outcomes() as seen:
        try:
            yield
        finally:
            breaker_record(admission=admission, outcome=seen[-1] if seen else None)


def breaker_reset(*, system_id: Any) -> int:
    """Close a breaker by hand (an operator who knows the platform is back)."""
    return CircuitBreaker.objects.filter(system_id=system_id).update(
        state=BreakerState.CLOSED, consecutive_failures=0, trips=0, opened_at=None, next_probe_at=None,
        throttled_until=None, updated_at=timezone.now())


def systems_held(now: datetime | None = None) -> tuple[set[Any], set[Any]]:
    """(systems nothing may be sent to now, those of them whose probe is due)."""
    now = now or timezone.now()
    held: set[Any] = set()
    probe_due: set[Any] = set()
    rows = CircuitBreaker.objects.filter(Q(state__in=HOLDING) | Q(throttled_until__gt=now)).values_list(
        "system_id", "state", "next_probe_at", "throttled_until")
    for system_id, state, next_probe_at, throttled_until in rows:
        held.add(system_id)
        throttled = throttled_until is not None and throttled_until > now
        if state in HOLDING and not throttled and (next_probe_at is None or next_probe_at <= now):
            probe_due.add(system_id)
    return held, probe_due


def breakers_summary() -> dict:
    """For /healthz (public, so counts only): circuits open or half-open, and platforms throttling the hub."""
    now = timezone.now()
    rows = list(CircuitBreaker.objects.filter(Q(state__in=HOLDING) | Q(throttled_until__gt=now))
                .values_list("state", "throttled_until"))
    return {
        "circuits_open": sum(state == BreakerState.OPEN for state, _ in rows),
        "circuits_half_open": sum(state == BreakerState.HALF_OPEN for state, _ in rows),
        "throttled": sum(until is not None and until > now for _, until in rows),
    }
