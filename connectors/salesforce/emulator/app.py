"""The emulator as a WSGI app (no framework): routing, bearer sessions, API usage, faults, request log."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs

import orjson

from connectors.salesforce.emulator import resources
from connectors.salesforce.emulator.auth import Sessions, TokenError
from connectors.salesforce.emulator.faults import REQUEST_FAULTS, Faults
from connectors.salesforce.emulator.store import ApiError, Store

API = resources.API
TOKEN_PATH = "/services/oauth2/token"  # noqa: S105 (a URL path)
VERSIONS = [{"label": "Summer '24", "url": "/services/data/v61.0", "version": "61.0"},
            {"label": "Winter '25", "url": "/services/data/v62.0", "version": "62.0"}]
STATUS_TEXT = {200: "OK", 201: "Created", 204: "No Content", 300: "Multiple Choices", 400: "Bad Request",
               401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed",
               500: "Server Error", 503: "Service Unavailable"}
REDACTED = ("client_secret", "assertion")
#: The emulator's connected app (demo credentials, not a secret of any real org).
DEMO_CLIENT_ID, DEMO_CLIENT_SECRET = "concord-demo", "concord-demo-secret"  # noqa: S105
StartResponse = Callable[[str, list[tuple[str, str]]], Any]


@dataclass(frozen=True)
class LoggedRequest:
    """One received request (secrets in token requests are redacted)."""

    method: str
    path: str
    query: dict[str, str]
    body: Any


class Emulator:
    """A callable WSGI app plus a control surface: ``store``, ``touch``, ``delete``, ``faults``, ``requests``."""

    def __init__(self, *, seed: int = 42, clients: int = 50, api_usage_limit: int = 100000,
                 client_id: str = DEMO_CLIENT_ID, client_secret: str = DEMO_CLIENT_SECRET,
                 clock: Callable[[], datetime] | None = None) -> None:
        self.org = Store(clock)
        self.org.seed(seed, clients)
        #: object type -> Id -> record (the API's field names).
        self.store = self.org.records
        self.faults = Faults()
        self.requests: list[LoggedRequest] = []
        self.sessions = Sessions(client_id, client_secret)
        self.api_usage = 0
        self.api_usage_limit = api_usage_limit
        self.queries = resources.QueryResource(self.org)
        self._lock = threading.Lock()

    # -- control surface ------------------------------------------------------------------------------------
    def now(self) -> datetime:
        return self.org.now()

    def touch(self, object_type: str, record_id: str, **changes: Any) -> dict[str, Any]:
        """Edit a record as a Salesforce user would (SystemModstamp moves to now)."""
        return self.org.touch(object_type, record_id, **changes)

    def delete(self, object_type: str, record_id: str) -> dict[str, Any]:
        """Soft delete a record (IsDeleted, deleted log)."""
        return self.org.delete(object_type, record_id)

    def purge_recycle_bin(self) -> None:
        self.org.purge_recycle_bin()

    def requests_to(self, method: str, path_prefix: str) -> list[LoggedRequest]:
        return [r for r in self.requests if r.method == method and r.path.startswith(path_prefix)]

    # -- WSGI -----------------------------------------------------------------------------------------------
    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        method = environ["REQUEST_METHOD"].upper()
        path = environ.get("PATH_INFO", "").encode("latin-1").decode("utf-8", "replace")
        params = {k: v[-1] for k, v in parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True).items()}
        length = int(environ.get("CONTENT_LENGTH") or 0)
        raw = environ["wsgi.input"].read(length) if length else b""
        status, body, headers = self._handle(environ, method, path, params, raw)
        if isinstance(body, bytes):
            payload = body
        else:
            payload = b"" if body is None else orjson.dumps(body, option=orjson.OPT_NON_STR_KEYS)
        headers = [("Content-Type", "application/json;charset=UTF-8"), *headers,
                   ("Content-Length", str(len(payload)))]
        start_response(f"{status} {STATUS_TEXT.get(status, 'Unknown')}", headers)
        return [payload]

    def _handle(self, environ: dict[str, Any], method: str, path: str, params: dict[str, str],
                raw: bytes) -> tuple[int, Any, list[tuple[str, str]]]:
        if path == TOKEN_PATH:
            form = {k: v[-1] for k, v in parse_qs(raw.decode("utf-8", "replace")).items()}
            self.requests.append(LoggedRequest(method, path, params,
                                               {k: ("***" if k in REDACTED else v) for k, v in form.items()}))
            if method != "POST":
                return (*(_only(method, "POST") or (405, None)), [])
            instance_url = f"{environ.get('wsgi.url_scheme', 'http')}://{environ.get('HTTP_HOST', 'localhost')}"
            try:
                return 200, self.sessions.grant(form, instance_url=instance_url, now=self.org.now()), []
            except TokenError as exc:
                return 400, {"error": exc.error, "error_description": exc.description}, []
        try:
            body = orjson.loads(raw) if raw else None
        except ValueError:
            body = raw.decode("utf-8", "replace")
        self.requests.append(LoggedRequest(method, path, params, body))
        if path in ("/services/data", "/services/data/") and method == "GET":
            return 200, VERSIONS, []
        if not path.startswith(API + "/"):
            return 404, _error(404, "NOT_FOUND", "The requested resource does not exist"), []
        status, answer = self._api(environ, method, path[len(API):], params, body)
        return status, answer, [("Sforce-Limit-Info", f"api-usage={self.api_usage}/{self.api_usage_limit}")]

    def _api(self, environ: dict[str, Any], method: str, route: str, params: dict[str, str],
             body: Any) -> tuple[int, Any]:
        authorization = environ.get("HTTP_AUTHORIZATION", "")
        token = authorization[7:] if authorization[:7].lower() == "bearer " else None
        if not self.sessions.valid(token):
            return 401, _error(401, "INVALID_SESSION_ID", "Session expired or invalid")
        if self.faults.take(["expire_token"]):
            self.sessions.revoke(token)
            return 401, _error(401, "INVALID_SESSION_ID", "Session expired or invalid")
        with self._lock:
            self.api_usage += 1
            over = self.api_usage > self.api_usage_limit
        fault = "request_limit" if over else self.faults.take([k for k in REQUEST_FAULTS if k != "expire_token"])
        if fault == "request_limit":
            return 403, _error(403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.")
        if fault == "unavailable":
            return 503, _error(503, "SERVER_UNAVAILABLE", "Server temporarily unavailable, please try again later.")
        if fault == "lock_row":
            return 400, _error(400, "UNABLE_TO_LOCK_ROW", "unable to obtain exclusive access to this record")
        if fault == "malformed":
            return 200, b'{"totalSize": 3, "done": tr<!-- upstream connect error -->'
        try:
            return self._route(method, route, params, body, environ)
        except ApiError as exc:
            return exc.status, exc.body()

    def _route(self, method: str, route: str, params: dict[str, str], body: Any,
               environ: dict[str, Any]) -> tuple[int, Any]:
        org = self.org
        if route in ("/limits", "/limits/"):
            return _only(method, "GET") or (200, self._limits())
        if route in ("/query", "/query/", "/queryAll", "/queryAll/"):
            options = environ.get("HTTP_SFORCE_QUERY_OPTIONS")
            return _only(method, "GET") or (200, self.queries.start(route.strip("/"), params.get("q"), options))
        if match := re.fullmatch(r"/(query|queryAll)/([\w-]+)", route):
            return _only(method, "GET") or (200, self.queries.more(match[1], match[2]))
        if match := re.fullmatch(r"/sobjects/(\w+)/(deleted|updated)/?", route):
            handler = resources.deleted if match[2] == "deleted" else resources.updated
            return _only(method, "GET") or (200, handler(org, match[1], params))
        if route in ("/composite/sobjects", "/composite/sobjects/"):
            return _only(method, "PATCH") or (200, resources.update_collection(org, self.faults, body))
        if match := re.fullmatch(r"/composite/sobjects/(\w+)/(\w+)", route):
            return _only(method, "PATCH") or (200, resources.upsert_collection(org, self.faults, match[1],
                                                                                match[2], body))
        if match := re.fullmatch(r"/sobjects/(\w+)/(\w+)/(.+)", route):
            return _only(method, "PATCH") or resources.upsert(org, match[1], match[2], match[3], body)
        if match := re.fullmatch(r"/sobjects/(\w+)/(\w{15}|\w{18})", route):
            if refused := _only(method, "GET", "PATCH"):
                return refused
            if method == "PATCH":
                return resources.update_record(org, match[1], match[2], body)
            return 200, resources.get_record(org, match[1], match[2], params)
        raise ApiError(404, "NOT_FOUND", "The requested resource does not exist")

    def _limits(self) -> dict[str, Any]:
        remaining = max(self.api_usage_limit - self.api_usage, 0)
        return {"DailyApiRequests": {"Max": self.api_usage_limit, "Remaining": remaining},
                "DailyBulkV2QueryJobs": {"Max": 10000, "Remaining": 10000},
                "SingleEmailMessages": {"Max": 5000, "Remaining": 5000}}


def _error(status: int, code: str, message: str) -> list[dict[str, Any]]:
    return ApiError(status, code, message).body()


def _only(method: str, *allowed: str) -> tuple[int, Any] | None:
    if method in allowed:
        return None
    return 405, _error(405, "METHOD_NOT_ALLOWED",
                       f"HTTP Method '{method}' not allowed. Allowed are {','.join(allowed)}")


def make_app(*, seed: int = 42, clients: int = 50, api_usage_limit: int = 100000,
             client_id: str = DEMO_CLIENT_ID, client_secret: str = DEMO_CLIENT_SECRET,
             clock: Callable[[], datetime] | None = None) -> Emulator:
    """A Salesforce org seeded with the demo's Salesforce records for ``seed``/``clients``."""
    return Emulator(seed=seed, clients=clients, api_usage_limit=api_usage_limit, client_id=client_id,
                    client_secret=client_secret, clock=clock)
