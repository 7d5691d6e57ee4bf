"""The emulator as a WSGI callable with a Python control surface (store, touch, delete, inject, requests).

Every API call (not the token POST) passes, in order: one injected fault if any is queued, the bearer token
check (401 INVALID_LOGIN), the concurrency limit (429), then its handler. Faults are injected with
``inject(kind, times)``: ``expire_token`` (all issued tokens are revoked, so the call answers 401),
``throttle`` (429 with ``Retry-After`` and NetSuite's error body), ``unavailable`` (503), ``malformed``
(200 with a body that is not JSON).
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl
from zoneinfo import ZoneInfo

import orjson

from connectors.netsuite.emulator import auth, handlers, suiteql
from connectors.netsuite.emulator.responses import INVALID_LOGIN, Problem, Response, error
from connectors.netsuite.emulator.seed import FAMILIES, demo_store, ns_time, parse_time
from connectors.netsuite.emulator.table import Table

FAULTS = ("expire_token", "throttle", "unavailable", "malformed")


@dataclass(frozen=True)
class LoggedRequest:
    method: str
    path: str
    query: dict[str, str]
    body: Any  # parsed JSON, form text, or None


class Emulator:
    """NetSuite SuiteTalk REST for one account, in memory. Thread-safe enough for a threading test server."""

    def __init__(self, *, seed: int = 42, clients: int = 50, account_id: str = "1234567",
                 client_id: str = "concord-demo", certificate_id: str = "concord-cert",
                 timezone: str = "America/Los_Angeles", concurrency_limit: int | None = 5,
                 retry_after: int = 5) -> None:
        self.account_id = account_id
        self.client_id = client_id
        self.certificate_id = certificate_id
        self.timezone = ZoneInfo(timezone)
        self.concurrency_limit = concurrency_limit
        self.retry_after = retry_after
        self.store = demo_store(seed, clients)
        #: DeletedRecord log: (record type, internal id, name, deleted at).
        self.deleted: list[tuple[str, str, str, datetime]] = []
        #: Evaluated SuiteQL queries, so paging through one does not evaluate it again for every page.
        self.results = suiteql.Results()
        self.rows: dict[str, tuple[Any, Any, list[dict[str, Any]]]] = {}  # table -> (version, columns, its rows)
        self.requests: list[LoggedRequest] = []
        self.tokens: dict[str, float] = {}
        self.faults: deque[str] = deque()
        self.inflight = 0
        self._lock = threading.RLock()
        self._last = max(parse_time(r["lastModifiedDate"]) for rs in self.store.values() for r in rs.values())

    # -- control surface -------------------------------------------------------------------------------------

    def now(self) -> datetime:
        """The emulator's clock: wall time in whole seconds, as NetSuite stamps records (all the edits of one second
        share its stamp), never before the latest stamp the store holds (a seeded store's may run ahead)."""
        with self._lock:
            self._last = max(datetime.now(UTC).replace(microsecond=0), self._last)
            return self._last

    def touch(self, record_type: str, record_id: str, **field_changes: Any) -> dict[str, Any]:
        """Edit a record as a user would: apply ``field_changes`` and bump ``lastModifiedDate``."""
        with self._lock:
            record = self.store[record_type][record_id]
            record.update(field_changes)
            record["lastModifiedDate"] = ns_time(self.now())
            self.store[record_type].changed(record_id)
            return record

    def create(self, record_type: str, fields: dict[str, Any], *, external_id: str | None = None) -> str:
        """Add a record with the next internal id of its id sequence; returns that id."""
        with self._lock:
            family = FAMILIES.get(record_type, record_type)
            used = [table.top for t, table in self.store.items() if FAMILIES.get(t, t) == family and table.top]
            record_id = str(max(used, default=1000) + 1)
            self.store.setdefault(record_type, Table())[record_id] = {
                "id": record_id, **fields, "externalId": external_id, "lastModifiedDate": ns_time(self.now())}
            return record_id

    def delete(self, record_type: str, record_id: str) -> None:
        """Hard delete, logged in DeletedRecord."""
        with self._lock:
            record = self.store[record_type].pop(record_id)
            name = str(record.get("entityId") or record.get("tranId") or record.get("name") or record_id)
            self.deleted.append((record_type, record_id, name, self.now()))

    def inject(self, kind: str, times: int = 1) -> None:
        """Queue ``times`` faults of ``kind`` (one of FAULTS); each answers one API call."""
        if kind not in FAULTS:
            raise ValueError(f"unknown fault {kind!r}; expected one of {FAULTS}")
        with self._lock:
            self.faults.extend([kind] * times)

    @contextlib.contextmanager
    def occupy(self, slots: int) -> Iterator[None]:
        """Hold ``slots`` of the concurrency limit, as other integrations' requests in flight would."""
        with self._lock:
            self.inflight += slots
        try:
            yield
        finally:
            with self._lock:
                self.inflight -= slots

    def count(self, method: str, path_prefix: str) -> int:
        """How many logged requests had this method and a path starting with ``path_prefix``."""
        return sum(1 for r in self.requests if r.method == method and r.path.startswith(path_prefix))

    # -- WSGI ------------------------------------------------------------------------------------------------

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        method = environ["REQUEST_METHOD"].upper()
        path = environ.get("PATH_INFO", "")
        query = dict(parse_qsl(environ.get("QUERY_STRING", "")))
        length = int(environ.get("CONTENT_LENGTH") or 0)
        raw = environ["wsgi.input"].read(length) if length else b""
        headers = {k[5:].replace("_", "-").lower(): v for k, v in environ.items() if k.startswith("HTTP_")}
        base = f"{environ.get('wsgi.url_scheme', 'http')}://{environ.get('HTTP_HOST', 'localhost')}"
        try:
            body: Any = orjson.loads(raw) if raw and path != auth.TOKEN_PATH else (raw.decode() or None)
        except ValueError:
            body = raw.decode("utf-8", "replace")
        with self._lock:
            self.requests.append(LoggedRequest(method, path, query, body))
        try:
            response = self._dispatch(method, path, query, headers, base, raw, body)
        except Problem as problem:
            response = problem.response
        except Exception:  # a bug in the emulator still answers like NetSuite, and the test sees a 500
            response = error(500, "UNEXPECTED_ERROR", "An unexpected error occurred.")
        status, response_headers, payload = response.encode()
        start_response(status, response_headers)
        return [payload]

    def _dispatch(self, method: str, path: str, query: dict[str, str], headers: dict[str, str], base: str,
                  raw: bytes, body: Any) -> Response:
        if path == auth.TOKEN_PATH:
            if method != "POST":
                raise Problem(405, "INVALID_PARAMETER", "Use POST to request a token.")
            return auth.token_response(raw, client_id=self.client_id, certificate_id=self.certificate_id,
                                       now=time.time(), tokens=self.tokens)
        with self._lock:
            fault = self.faults.popleft() if self.faults else None
            if fault == "expire_token":
                self.tokens.clear()
        bearer = headers.get("authorization", "")
        token = bearer[7:] if bearer.startswith("Bearer ") else ""
        if self.tokens.get(token, 0) <= time.time():
            return error(401, "INVALID_LOGIN", INVALID_LOGIN)
        if fault == "throttle":
            return self._throttled()
        if fault == "unavailable":
            return error(503, "UNEXPECTED_ERROR", "The service is temporarily unavailable. Try again later.")
        if fault == "malformed":
            return Response(200, raw=b"<html><body>Gateway maintenance</body></html>")
        with self._lock:
            if self.concurrency_limit is not None and self.inflight >= self.concurrency_limit:
                return self._throttled()
            self.inflight += 1
        try:
            return self._route(method, path, query, headers, base, body)
        finally:
            with self._lock:
                self.inflight -= 1

    def _throttled(self) -> Response:
        response = error(429, "CONCURRENCY_LIMIT_EXCEEDED",
                         "The request could not be processed because the concurrency limit was exceeded.")
        response.headers["Retry-After"] = str(self.retry_after)
        return response

    def _route(self, method: str, path: str, query: dict[str, str], headers: dict[str, str], base: str,
               body: Any) -> Response:
        if path == handlers.SUITEQL_PATH and method == "POST":
            with self._lock:
                return handlers.run_suiteql(self, base, query, headers, body)
        if path.startswith(handlers.RECORD_PREFIX):
            with self._lock:
                return handlers.record(self, base, method, path, body)
        raise Problem(404, "NONEXISTENT_ID", "The requested resource does not exist.", urlPath=path)


def make_app(*, seed: int = 42, clients: int = 50, account_id: str = "1234567", **options: Any) -> Emulator:
    """A seeded emulator (``options``: client_id, certificate_id, timezone, concurrency_limit, retry_after)."""
    return Emulator(seed=seed, clients=clients, account_id=account_id, **options)
