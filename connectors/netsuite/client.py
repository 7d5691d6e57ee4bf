"""HTTP client for NetSuite SuiteTalk REST: OAuth 2.0 client credentials, SuiteQL, record read, eid upsert, update.

Secrets never sit in ``config``: it names where they are (``client_id_env``, ``certificate_id_env``,
``private_key_env``, or ``*_file``; see connectors/secrets.py). The client assertion is a real JWT (header
``{"typ":"JWT","alg":"PS256","kid":<certificate id>}``, payload ``iss``/``scope``/``aud``/``iat``/``exp``).
It is signed with PS256 when a private key (PEM) is configured; otherwise its signature part is the
placeholder ``base64url("unsigned")``, which only the local emulator accepts (it checks structure, not
signatures). Neither tokens nor keys are ever logged.
"""

from __future__ import annotations

import base64
import json
import logging
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote, urlsplit

import httpx
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

from connectors.errors import AuthFailed, ConnectorError, RateLimited, Rejected, Unavailable
from connectors.http import DEFAULT_TIMEOUT, VendorClient, credentials_digest, retry_after_seconds
from connectors.secrets import secret_read

logger = logging.getLogger(__name__)

UNSIGNED = b"unsigned"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _sign_ps256(message: bytes, private_key_pem: str) -> bytes:
    """RSASSA-PSS/SHA-256 signature."""
    key = serialization.load_pem_private_key(private_key_pem.encode(), password=None)
    return key.sign(message, padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32),  # type: ignore[union-attr,call-arg]
                    hashes.SHA256())


def _detail(body: Any) -> str:
    """``CODE: detail`` of NetSuite's first error detail, or ''."""
    if isinstance(body, dict) and body.get("o:errorDetails"):
        first = body["o:errorDetails"][0]
        return f"{first.get('o:errorCode', '')}: {first.get('detail', '')}"
    if isinstance(body, dict) and "error" in body:
        return str(body["error"])
    return ""


class NetSuiteClient(VendorClient):
    """One thin method per endpoint; errors mapped to the connector error family."""

    TOKEN_PATH = "/services/rest/auth/oauth2/v1/token"  # noqa: S105 (a URL path, not a secret)
    SUITEQL_PATH = "/services/rest/query/v1/suiteql"
    RECORD_PATH = "/services/rest/record/v1/{record_type}/{key}"
    SCOPE = "rest_webservices"
    ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
    ASSERTION_LIFETIME = 300
    TOKEN_LIFETIME_S = 3600  # NetSuite's access tokens live 60 minutes (its token answer: "expires_in": "3600")

    def __init__(self, *, base_url: str, config: Mapping[str, Any], timeout: httpx.Timeout = DEFAULT_TIMEOUT,
                 transport: httpx.BaseTransport | None = None) -> None:
        super().__init__(base_url=base_url, timeout=timeout, transport=transport)
        self.config = dict(config)

    def _secret(self, name: str, required: bool = True) -> str | None:
        return secret_read(self.config, name, platform="NetSuite", required=required)

    def client_assertion(self, now: float | None = None) -> str:
        """The signed (or placeholder-signed, see module doc) JWT for the token request."""
        issued = int(time.time() if now is None else now)
        header = {"typ": "JWT", "alg": "PS256", "kid": self._secret("certificate_id")}
        payload = {"iss": self._secret("client_id"), "scope": self.SCOPE,
                   "aud": str(self.http.base_url).rstrip("/") + self.TOKEN_PATH,
                   "iat": issued, "exp": issued + self.ASSERTION_LIFETIME}
        signing_input = f"{b64url(json.dumps(header).encode())}.{b64url(json.dumps(payload).encode())}"
        key = self._secret("private_key", required=False)
        signature = _sign_ps256(signing_input.encode(), key) if key else None
        return f"{signing_input}.{b64url(signature or UNSIGNED)}"

    def credentials_key(self) -> str:
        return credentials_digest(self._secret("client_id"), self._secret("certificate_id"),
                                  self._secret("private_key", required=False))

    def authenticate(self) -> str:
        """OAuth 2.0 client credentials: POST the JWT assertion, return the bearer token (≈60 min)."""
        form = {"grant_type": "client_credentials", "client_assertion_type": self.ASSERTION_TYPE,
                "client_assertion": self.client_assertion()}
        response = self.post_form(self.TOKEN_PATH, form)
        if response.status_code >= 400:
            error = self.map_error(response)
            if isinstance(error, Rejected):  # 400 invalid_client etc.: the credentials are wrong
                raise AuthFailed(str(error), status=error.status, body=error.body)
            raise error
        token = self._json(response).get("access_token")
        if not isinstance(token, str) or not token:
            raise AuthFailed("POST token: no access_token in the response", status=response.status_code)
        logger.debug("netsuite: obtained an access token")
        return token

    def map_error(self, response: httpx.Response) -> ConnectorError:
        """429 → RateLimited(Retry-After), 5xx → Unavailable, 401/403 → AuthFailed, other 4xx → Rejected."""
        try:
            body: Any = response.json()
        except ValueError:
            body = response.text[:2000]
        status = response.status_code
        detail = _detail(body)
        message = f"{response.request.method} {response.request.url.path}: HTTP {status}" + (
            f" {detail}" if detail else "")
        if status == 429:
            return RateLimited(message, retry_after=retry_after_seconds(response.headers.get("Retry-After")),
                               status=status, body=body)
        if status >= 500:
            return Unavailable(message, status=status, body=body)
        if status in (401, 403):
            return AuthFailed(message, status=status, body=body)
        return Rejected(message, status=status, body=body)

    @staticmethod
    def _json(response: httpx.Response) -> dict[str, Any]:
        """The JSON object body; a non-JSON body (a proxy's HTML page...) is a retryable Unavailable."""
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            raise Unavailable(f"{response.request.method} {response.request.url.path}: malformed response body "
                              f"(HTTP {response.status_code}, {response.headers.get('Content-Type', '?')})",
                              status=response.status_code, body=response.text[:2000])
        return body

    # -- endpoints ---------------------------------------------------------------------------------------------

    def suiteql(self, query: str, limit: int = 1000, offset: int = 0) -> dict[str, Any]:
        """One page of a SuiteQL query: ``{"items", "hasMore", "count", "offset", "totalResults", "links"}``."""
        response = self.request("POST", self.SUITEQL_PATH, json={"q": query},
                                params={"limit": limit, "offset": offset}, headers={"Prefer": "transient"})
        return self._json(response)

    def get(self, record_type: str, record_id: str) -> dict[str, Any]:
        """A record by internal id (or ``eid:<external id>``)."""
        url = self.RECORD_PATH.format(record_type=record_type, key=quote(record_id, safe=":"))
        return self._json(self.request("GET", url))

    def upsert(self, record_type: str, external_id: str, fields: Mapping[str, Any]) -> str:
        """``PUT .../<type>/eid:<external id>`` (create or update); the internal id from ``Location``."""
        url = self.RECORD_PATH.format(record_type=record_type, key="eid:" + quote(external_id, safe=""))
        return self._located("PUT", url, self.request("PUT", url, json=dict(fields)))

    def update(self, record_type: str, internal_id: str, fields: Mapping[str, Any]) -> str:
        """``PATCH .../<type>/<internal id>`` (update only: a missing record is 404 NONEXISTENT_ID); the internal
        id from ``Location``."""
        url = self.RECORD_PATH.format(record_type=record_type, key=quote(internal_id, safe=""))
        return self._located("PATCH", url, self.request("PATCH", url, json=dict(fields)))

    @staticmethod
    def _located(method: str, url: str, response: httpx.Response) -> str:
        location = response.headers.get("Location", "")
        internal_id = urlsplit(location).path.rstrip("/").rpartition("/")[2]
        if not internal_id.isdigit():
            raise Unavailable(f"{method} {url}: no usable Location header ({location!r})", status=response.status_code)
        return internal_id
