"""The HTTP base every vendor client stands on: timeouts, auth hook, correlation header, error mapping,
and a report of how each request ended for whoever watches (the circuit breaker)."""

from __future__ import annotations

import contextlib
import email.utils
import functools
import ssl
import time
from collections.abc import Iterator, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

import httpx

from connectors.errors import AuthFailed, ConnectorError, RateLimited, Rejected, Unavailable
from hub import correlation

DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=5.0)

ANSWERED, OUTAGE, THROTTLED = "answered", "outage", "throttled"


@dataclass(frozen=True)
class Outcome:
    """How one request to a platform ended: ``answered`` (any answer but the two below, 4xx included),
    ``outage`` (5xx, timeout, connection failure) or ``throttled`` (the platform's rate limit)."""

    kind: str
    retry_after: float | None = None
    error: str = ""


_watchers: ContextVar[tuple[list[Outcome], ...]] = ContextVar("vendor_request_watchers", default=())


@contextlib.contextmanager
def outcomes() -> Iterator[list[Outcome]]:
    """Collect the outcome of every platform request made in this context, in order."""
    seen: list[Outcome] = []
    token = _watchers.set((*_watchers.get(), seen))
    try:
        yield seen
    finally:
        _watchers.reset(token)


def _report(outcome: Outcome) -> None:
    for seen in _watchers.get():
        seen.append(outcome)


def outcome_of(error: ConnectorError) -> Outcome:
    if isinstance(error, RateLimited):
        return Outcome(THROTTLED, retry_after=error.retry_after, error=str(error))
    if isinstance(error, Unavailable):
        return Outcome(OUTAGE, error=str(error))
    return Outcome(ANSWERED, error=str(error))


@functools.cache
def tls_context() -> ssl.SSLContext:
    """The verifying TLS context every client shares: building one loads the CA bundle, which costs more than
    most requests, and a connector is made for every pull and every delivery."""
    return httpx.create_ssl_context()


def retry_after_seconds(value: str | None) -> float | None:
    """A Retry-After header as seconds: delta-seconds or an HTTP date."""
    if not value:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        parsed = email.utils.parsedate_to_datetime(value)
        return max(parsed.timestamp() - time.time(), 0.0) if parsed else None


class VendorClient:
    """A thin client on httpx. Subclasses define URL templates, ``authenticate()`` and ``map_error()``."""

    def __init__(self, *, base_url: str, timeout: httpx.Timeout = DEFAULT_TIMEOUT,
                 transport: httpx.BaseTransport | None = None) -> None:
        # Redirects are never followed: a connector talks to the URL it was configured with, nothing else.
        self.http = httpx.Client(base_url=base_url.rstrip("/"), timeout=timeout, follow_redirects=False,
                                 transport=transport, verify=tls_context())
        self.token: str | None = None

    def close(self) -> None:
        self.http.close()

    def authenticate(self) -> str:
        raise NotImplementedError

    def headers(self) -> dict[str, str]:
        if self.token is None:
            self.token = self.authenticate()
        headers = {"Authorization": f"Bearer {self.token}", "Accept": "application/json"}
        if cid := correlation.get():
            headers[correlation.HEADER] = cid
        return headers

    def post_form(self, url: str, form: Mapping[str, str]) -> httpx.Response:
        """POST a form without the bearer token (token endpoints); transport failures are Unavailable."""
        try:
            response = self.http.post(url, data=dict(form), headers={"Accept": "application/json"})
        except httpx.TimeoutException as exc:
            raise self._unreachable(Unavailable(f"POST {url}: timed out")) from exc
        except httpx.TransportError as exc:
            raise self._unreachable(Unavailable(f"POST {url}: {exc.__class__.__name__}")) from exc
        _report(Outcome(OUTAGE, error=f"POST {url}: HTTP {response.status_code}") if response.status_code >= 500
                else Outcome(ANSWERED))
        return response

    def request(self, method: str, url: str, *, json: Any = None, params: Mapping[str, Any] | None = None,
                headers: Mapping[str, str] | None = None, reauthenticated: bool = False) -> httpx.Response:
        try:
            response = self.http.request(method, url, json=json, params=params,
                                         headers={**self.headers(), **(headers or {})})
        except httpx.TimeoutException as exc:
            raise self._unreachable(Unavailable(f"{method} {url}: timed out")) from exc
        except httpx.TransportError as exc:
            raise self._unreachable(Unavailable(f"{method} {url}: {exc.__class__.__name__}")) from exc
        if response.status_code == 401 and not reauthenticated:
            # Sessions expire; mint a new token once and try again.
            self.token = None
            return self.request(method, url, json=json, params=params, headers=headers, reauthenticated=True)
        if response.status_code >= 400:
            error = self.map_error(response)
            _report(outcome_of(error))
            raise error
        _report(Outcome(ANSWERED))
        return response

    @staticmethod
    def _unreachable(error: Unavailable) -> Unavailable:
        _report(Outcome(OUTAGE, error=str(error)))
        return error

    def map_error(self, response: httpx.Response) -> ConnectorError:
        body = _body(response)
        status = response.status_code
        message = f"{response.request.method} {response.request.url.path}: HTTP {status}"
        if status == 429:
            return RateLimited(message, retry_after=retry_after_seconds(response.headers.get("Retry-After")),
                               status=status, body=body)
        if status in (502, 503, 504) or status >= 500:
            return Unavailable(message, status=status, body=body)
        if status in (401, 403):
            return AuthFailed(message, status=status, body=body)
        return Rejected(message, status=status, body=body)


def _body(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return response.text[:2000]
