"""The HTTP base every vendor client stands on: timeouts, auth hook, correlation header, error mapping,
and a report of how each request ended for whoever watches (the circuit breaker).

A connector is made for every pull and every delivery batch, so what outlives it is kept per process: one
pooled HTTP client per platform URL (its connections kept alive between connectors) and one access token per
platform URL and credentials, used until it expires or the platform refuses it. A forked child (a Celery
prefork worker) starts with neither: the parent's sockets and tokens stay the parent's.
"""

from __future__ import annotations

import contextlib
import email.utils
import functools
import hashlib
import os
import ssl
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from http.cookiejar import CookieJar, DefaultCookiePolicy
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
    most requests."""
    return httpx.create_ssl_context()


def credentials_digest(*values: str | None) -> str:
    """What identifies a set of credentials in this process's token cache, without holding the secrets."""
    return hashlib.sha256("\0".join(value or "" for value in values).encode()).hexdigest()


@dataclass(frozen=True)
class _Token:
    value: str = field(repr=False)
    renew_at: float | None  # time.monotonic(); None: until the platform refuses it


class _Tokens:
    """Access tokens by key; one thread mints a missing token while the others wait for it."""

    #: A token is renewed this long before it expires, so no request carries one that dies on the way.
    MARGIN_S = 60.0

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._held: dict[tuple[str, ...], _Token] = {}
        self._minting: dict[tuple[str, ...], threading.Lock] = {}

    def get(self, key: tuple[str, ...], mint: Callable[[], str], lifetime: float | None) -> str:
        if token := self._valid(key):
            return token
        with self._lock:
            minting = self._minting.setdefault(key, threading.Lock())
        with minting:
            if token := self._valid(key):  # minted by another thread meanwhile
                return token
            started = time.monotonic()
            value = mint()
            renew_at = None if lifetime is None else started + max(lifetime - self.MARGIN_S, 0.0)
            with self._lock:
                self._held[key] = _Token(value, renew_at)
            return value

    def discard(self, key: tuple[str, ...], value: str) -> None:
        """Forget a token the platform refused, unless another request has already replaced it."""
        with self._lock:
            held = self._held.get(key)
            if held is not None and held.value == value:
                del self._held[key]

    def _valid(self, key: tuple[str, ...]) -> str | None:
        with self._lock:
            token = self._held.get(key)
        if token is None or (token.renew_at is not None and time.monotonic() >= token.renew_at):
            return None
        return token.value


def _new_http(base_url: str, timeout: httpx.Timeout, transport: httpx.BaseTransport | None = None,
              cookies: CookieJar | None = None) -> httpx.Client:
    # Redirects are never followed: a connector talks to the URL it was configured with, nothing else.
    return httpx.Client(base_url=base_url, timeout=timeout, follow_redirects=False, transport=transport,
                        verify=tls_context(), cookies=cookies)


class _Process:
    """This process's pooled clients and tokens."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.clients: dict[tuple[Any, ...], httpx.Client] = {}
        self.tokens = _Tokens()

    def client(self, base_url: str, timeout: httpx.Timeout) -> httpx.Client:
        """The pooled client for a platform URL (all share the verifying TLS context). It keeps no cookies:
        requests of unrelated connectors pass through it."""
        key = (base_url, timeout.connect, timeout.read, timeout.write, timeout.pool)
        with self.lock:
            if key not in self.clients:
                self.clients[key] = _new_http(base_url, timeout,
                                              cookies=CookieJar(DefaultCookiePolicy(allowed_domains=())))
            return self.clients[key]


_process = _Process()


def _forked() -> None:
    global _process
    _process = _Process()  # the parent's clients are not closed: their sockets are still the parent's


os.register_at_fork(after_in_child=_forked)


def sessions_reset() -> None:
    """Close this process's pooled clients and forget its tokens (a test whose platform reuses a port)."""
    global _process
    previous, _process = _process, _Process()
    for client in previous.clients.values():
        client.close()


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
    """A thin client on httpx. Subclasses define URL templates, ``authenticate()``, ``credentials_key()`` and
    ``map_error()``."""

    #: Seconds an access token is good for, when the platform's tokens have a fixed life (None: until the
    #: platform answers 401).
    TOKEN_LIFETIME_S: float | None = None

    def __init__(self, *, base_url: str, timeout: httpx.Timeout = DEFAULT_TIMEOUT,
                 transport: httpx.BaseTransport | None = None) -> None:
        base_url = base_url.rstrip("/")
        # A client given its own transport keeps it, and its tokens, to itself.
        self._own = transport is not None
        self.http = _new_http(base_url, timeout, transport) if self._own else _process.client(base_url, timeout)
        self._tokens = _Tokens() if self._own else _process.tokens
        self._token_key: tuple[str, ...] | None = None

    def close(self) -> None:
        """Close a client's own transport; the process's pooled client stays open for the next connector."""
        if self._own:
            self.http.close()

    def authenticate(self) -> str:
        """A new access token."""
        raise NotImplementedError

    def credentials_key(self) -> str:
        """What identifies the credentials ``authenticate()`` uses (``credentials_digest`` of them)."""
        raise NotImplementedError

    def observe(self, response: httpx.Response) -> None:
        """Every answer of the platform, token requests included, before anything else reads it."""

    def access_token(self) -> str:
        """The process's token for this platform and these credentials, minted when there is none."""
        return self._tokens.get(self._key(), self.authenticate, self.TOKEN_LIFETIME_S)

    def _key(self) -> tuple[str, ...]:
        if self._token_key is None:
            self._token_key = (type(self).__qualname__, str(self.http.base_url), self.credentials_key())
        return self._token_key

    def headers(self) -> dict[str, str]:
        headers = {"Authorization": f"Bearer {self.access_token()}", "Accept": "application/json"}
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
        self.observe(response)
        _report(Outcome(OUTAGE, error=f"POST {url}: HTTP {response.status_code}") if response.status_code >= 500
                else Outcome(ANSWERED))
        return response

    def request(self, method: str, url: str, *, json: Any = None, params: Mapping[str, Any] | None = None,
                headers: Mapping[str, str] | None = None, reauthenticated: bool = False) -> httpx.Response:
        sent = self.headers()
        try:
            response = self.http.request(method, url, json=json, params=params, headers={**sent, **(headers or {})})
        except httpx.TimeoutException as exc:
            raise self._unreachable(Unavailable(f"{method} {url}: timed out")) from exc
        except httpx.TransportError as exc:
            raise self._unreachable(Unavailable(f"{method} {url}: {exc.__class__.__name__}")) from exc
        self.observe(response)
        if response.status_code == 401 and not reauthenticated:
            # Sessions expire or are revoked; forget this token, mint a new one once and try again.
            self._tokens.discard(self._key(), sent["Authorization"].removeprefix("Bearer "))
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
