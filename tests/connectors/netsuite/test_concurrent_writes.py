"""NetSuiteConnector.write sends its PUTs and PATCHes concurrently (the record service has no batch upsert):
results in the order given, each record's own answer, the caller's correlation id on every request and
every request's outcome seen by whoever watches (the circuit breaker)."""

import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

from connectors import http
from connectors.base import Upsert
from connectors.netsuite.connector import NetSuiteConnector
from connectors.netsuite.emulator import Emulator
from hub import correlation
from tests.connectors.netsuite.conftest import CONFIG

RECORD = "/services/rest/record/v1/customer/"


class InFlight:
    """WSGI in front of the emulator: each request waits ``delay`` seconds first, so concurrent ones overlap;
    ``most`` is the largest number in flight at once, ``headers`` every request's headers."""

    def __init__(self, app: Callable[..., Any], delay: float = 0.05) -> None:
        self.app, self.delay = app, delay
        self.now = self.most = 0
        self.headers: list[dict[str, str]] = []
        self._lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]):
        headers = {k[5:].replace("_", "-").lower(): v for k, v in environ.items() if k.startswith("HTTP_")}
        with self._lock:
            self.now += 1
            self.most = max(self.most, self.now)
            self.headers.append(headers)
        try:
            time.sleep(self.delay)
            return self.app(environ, start_response)
        finally:
            with self._lock:
                self.now -= 1


@pytest.fixture
def front(emulator: Emulator) -> InFlight:
    return InFlight(emulator)


@pytest.fixture
def writer(serve_wsgi, front: InFlight, credentials: None) -> NetSuiteConnector:
    return NetSuiteConnector(base_url=serve_wsgi(front), config={**CONFIG, "concurrency": 4})


def _created(n: int) -> Upsert:
    return Upsert("customer", f"HUB-{n}", {"legal_name": f"Client {n} Limited"})


def _held(emulator: Emulator, hub_id: str) -> list[str]:
    return [i for i, r in emulator.store["customer"].items() if r.get("externalId") == hub_id]


def test_results_in_order_with_each_records_own_answer(writer: NetSuiteConnector, emulator: Emulator,
                                                       front: InFlight) -> None:
    first, second = sorted(emulator.store["customer"], key=int)[:2]
    emulator.touch("customer", first, externalId="HUB-TAKEN")
    upserts = [_created(0), _created(1),
               Upsert("customer", "HUB-GONE", {"legal_name": "Gone Limited"}, external_id="999999"),
               _created(2), Upsert("projectTask", "HUB-T", {}),
               Upsert("customer", "HUB-TAKEN", {"legal_name": "Taken Limited"}, external_id=second),
               *[_created(n) for n in range(3, 9)]]

    with correlation.bind("write-7") as cid, http.outcomes() as seen:
        results = writer.write(upserts)

    assert [r.hub_id for r in results] == [u.hub_id for u in upserts]
    assert [r.ok for r in results] == [True, True, False, True, False, False] + [True] * 6
    for upsert, result in zip(upserts, results, strict=True):
        if result.ok:
            assert _held(emulator, upsert.hub_id) == [result.external_id]
    gone, unknown, taken = results[2], results[4], results[5]
    assert (gone.retryable, gone.details["status"]) == (False, 404) and "NONEXISTENT_ID" in gone.error
    assert (unknown.retryable, unknown.details) == (False, {}) and "projectTask" in unknown.error
    assert (taken.retryable, taken.details["status"]) == (False, 400) and "USER_ERROR" in taken.error
    assert emulator.store["customer"][second]["externalId"] is None
    assert front.most == 4  # four in flight at once, never more
    writes = [h for h in front.headers if "authorization" in h]
    assert len(writes) == 11 and all(h["x-correlation-id"] == cid for h in writes)
    assert len(seen) == 12  # the token request and the eleven writes
    assert sorted(o.kind for o in seen) == ["answered"] * 12


def test_a_throttled_write_stops_the_ones_not_sent_yet(writer: NetSuiteConnector, emulator: Emulator) -> None:
    upserts = [_created(n) for n in range(12)]
    emulator.inject("throttle")

    with http.outcomes() as seen:
        results = writer.write(upserts)

    sent = emulator.count("PUT", RECORD)
    ok = [r for r in results if r.ok]
    throttled = [r for r in results if not r.ok]
    assert [r.hub_id for r in results] == [u.hub_id for u in upserts]
    assert len(ok) == sent - 1 and sent < len(upserts)  # the throttled one was sent; some were never sent
    assert all(r.retryable and r.details["retry_after"] == 5.0 and r.details["status"] == 429 for r in throttled)
    assert all(_held(emulator, r.hub_id) == [r.external_id] for r in ok)
    assert all(_held(emulator, r.hub_id) == [] for r in throttled)
    assert [o.kind for o in seen].count("throttled") == 1 and len(seen) == sent + 1


def test_at_the_accounts_limit_no_more_than_the_writes_in_flight_are_sent(writer: NetSuiteConnector,
                                                                          emulator: Emulator) -> None:
    writer.client.authenticate()
    with emulator.occupy(5):  # other integrations hold every slot: each request answers 429
        results = writer.write([_created(n) for n in range(12)])

    assert all(not r.ok and r.retryable and r.details["retry_after"] == 5.0 for r in results)
    assert 1 <= emulator.count("PUT", RECORD) <= 4


@pytest.mark.parametrize(("configured", "used"), [(None, 4), (1, 1), (0, 1), (15, 15), (99, 15)])
def test_concurrency_is_configured_within_netsuite_limits(configured: int | None, used: int) -> None:
    config = {**CONFIG, **({} if configured is None else {"concurrency": configured})}
    assert NetSuiteConnector(base_url="http://127.0.0.1:9", config=config).concurrency == used
