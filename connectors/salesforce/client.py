"""HTTP client for the Salesforce REST API (v62.0): OAuth client credentials, SOQL, replication, upserts, updates.

Secrets never appear in logs or errors: the config names where they are (connectors/secrets.py).
Salesforce answers API calls at the token's ``instance_url``; this client keeps talking to the URL it was
configured with (no redirects, no hopping), so configure the org's My Domain URL as the base URL.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import httpx

from connectors.errors import AuthFailed, ConnectorError, RateLimited, Rejected, Retryable, Unavailable
from connectors.http import DEFAULT_TIMEOUT, VendorClient, credentials_digest
from connectors.secrets import secret_read

logger = logging.getLogger(__name__)

API_VERSION = "v62.0"
COLLECTION_LIMIT = 200


class MalformedResponse(Unavailable):
    """The platform answered 2xx with a body that is not the JSON it promised (a proxy page, a cut stream)."""


def sf_datetime(value: datetime | str) -> str:
    """A datetime as Salesforce accepts it in SOQL literals and replication parameters (UTC, ``Z``)."""
    if isinstance(value, str):
        return value
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def error_codes(body: Any) -> list[str]:
    """The ``errorCode``s of a Salesforce error array (empty for anything else)."""
    if isinstance(body, list):
        return [e.get("errorCode", "") for e in body if isinstance(e, dict)]
    return []


class SalesforceClient(VendorClient):
    """One thin method per endpoint; errors mapped to the connector error family."""

    TOKEN_URL = "/services/oauth2/token"  # noqa: S105 (a URL path)
    API = f"/services/data/{API_VERSION}"
    LIMITS_URL = API + "/limits"
    QUERY_URL = API + "/query"
    QUERY_ALL_URL = API + "/queryAll"
    DELETED_URL = API + "/sobjects/{object}/deleted/"
    UPDATED_URL = API + "/sobjects/{object}/updated/"
    RECORD_URL = API + "/sobjects/{object}/{id}"
    UPSERT_URL = API + "/sobjects/{object}/{field}/{value}"
    COLLECTION_URL = API + "/composite/sobjects/{object}/{field}"
    COLLECTION_UPDATE_URL = API + "/composite/sobjects"

    def __init__(self, *, base_url: str, config: Mapping[str, Any], timeout: httpx.Timeout = DEFAULT_TIMEOUT,
                 transport: httpx.BaseTransport | None = None) -> None:
        super().__init__(base_url=base_url, timeout=timeout, transport=transport)
        self.config = dict(config)
        self.batch_size: int | None = self.config.get("batch_size")
        #: (used, limit) from the last ``Sforce-Limit-Info`` header seen.
        self.api_usage: tuple[int, int] | None = None
        #: The ``instance_url`` of this client's last token request (a token from the process's cache has none).
        self.instance_url: str | None = None

    # -- auth -------------------------------------------------------------------------------------------------
    def _credential(self, name: str) -> str:
        return secret_read(self.config, name, platform="Salesforce")

    def credentials_key(self) -> str:
        return credentials_digest(self._credential("client_id"), self._credential("client_secret"))

    def authenticate(self) -> str:
        """OAuth 2.0 client credentials: a new access token (Salesforce issues no refresh token here). It lives
        as long as the org's session policy says; a 401 INVALID_SESSION_ID says it no longer does."""
        form = {"grant_type": "client_credentials", "client_id": self._credential("client_id"),
                "client_secret": self._credential("client_secret")}
        response = self.post_form(self.TOKEN_URL, form)
        if response.status_code >= 500:
            raise Unavailable(f"POST token: HTTP {response.status_code}", status=response.status_code)
        body = self._json(response)
        if response.status_code != 200 or not isinstance(body, dict) or not body.get("access_token"):
            error = body.get("error", "") if isinstance(body, dict) else ""
            raise AuthFailed(f"Salesforce refused the credentials: HTTP {response.status_code} {error}".rstrip(),
                             status=response.status_code, body={"error": error})
        self.instance_url = body.get("instance_url")
        logger.info("salesforce: authenticated", extra={"instance_url": self.instance_url})
        return body["access_token"]

    # -- errors and bodies ------------------------------------------------------------------------------------
    def observe(self, response: httpx.Response) -> None:
        """Track ``Sforce-Limit-Info``."""
        info = response.headers.get("Sforce-Limit-Info", "")
        for part in info.split(","):
            name, _, value = part.strip().partition("=")
            used, _, limit = value.partition("/")
            if name == "api-usage" and used.isdigit() and limit.isdigit():
                self.api_usage = (int(used), int(limit))

    def map_error(self, response: httpx.Response) -> ConnectorError:
        try:
            body: Any = response.json()
        except ValueError:
            body = response.text[:2000]
        status, codes = response.status_code, error_codes(body)
        first = body[0] if codes else {}
        detail = f" {first.get('errorCode')}: {first.get('message', '')}" if codes else ""
        message = f"{response.request.method} {response.request.url.path}: HTTP {status}{detail}"
        if status == 403 and "REQUEST_LIMIT_EXCEEDED" in codes:
            return RateLimited(message, retry_after=None, status=status, body=body)
        if status == 401:
            return AuthFailed(message, status=status, body=body)
        if status == 400 and "UNABLE_TO_LOCK_ROW" in codes:
            return Retryable(message, status=status, body=body)
        if status >= 500:
            return Unavailable(message, status=status, body=body)
        return Rejected(message, status=status, body=body)

    @staticmethod
    def _json(response: httpx.Response) -> Any:
        try:
            return response.json()
        except ValueError:
            raise MalformedResponse(
                f"{response.request.method} {response.request.url.path}: HTTP {response.status_code} "
                "with a body that is not JSON", status=response.status_code, body=response.text[:200]) from None

    def _call(self, method: str, url: str, **kwargs: Any) -> Any:
        return self._json(self.request(method, url, **kwargs))

    # -- endpoints --------------------------------------------------------------------------------------------
    def limits(self) -> dict[str, Any]:
        return self._call("GET", self.LIMITS_URL)

    def query(self, soql: str, *, include_deleted: bool = False) -> dict[str, Any]:
        """The first batch of a SOQL query (``queryAll`` when ``include_deleted``)."""
        headers = {"Sforce-Query-Options": f"batchSize={self.batch_size}"} if self.batch_size else None
        url = self.QUERY_ALL_URL if include_deleted else self.QUERY_URL
        return self._call("GET", url, params={"q": soql}, headers=headers)

    def query_more(self, next_url: str) -> dict[str, Any]:
        """The next batch, by the ``nextRecordsUrl`` of the previous one (a path under this API version)."""
        if not next_url.startswith(self.API + "/"):
            raise Rejected(f"unexpected nextRecordsUrl {next_url[:100]!r}")
        return self._call("GET", next_url)

    def deleted(self, object_type: str, start: datetime | str, end: datetime | str) -> dict[str, Any]:
        return self._call("GET", self.DELETED_URL.format(object=object_type),
                          params={"start": sf_datetime(start), "end": sf_datetime(end)})

    def updated(self, object_type: str, start: datetime | str, end: datetime | str) -> dict[str, Any]:
        return self._call("GET", self.UPDATED_URL.format(object=object_type),
                          params={"start": sf_datetime(start), "end": sf_datetime(end)})

    def get(self, object_type: str, record_id: str) -> dict[str, Any]:
        return self._call("GET", self.RECORD_URL.format(object=object_type, id=record_id))

    def upsert(self, object_type: str, ext_field: str, ext_value: str, fields: Mapping[str, Any]) -> dict[str, Any]:
        """Upsert one record by external id: ``{"id", "success", "errors", "created"}``."""
        url = self.UPSERT_URL.format(object=object_type, field=ext_field, value=quote(ext_value, safe=""))
        return self._call("PATCH", url, json=dict(fields))

    def upsert_collection(self, object_type: str, ext_field: str, records: Sequence[Mapping[str, Any]],
                          all_or_none: bool = False) -> list[dict[str, Any]]:
        """Upsert up to 200 records (each carrying ``ext_field``): one result per record, in order."""
        if len(records) > COLLECTION_LIMIT:
            raise ValueError(f"at most {COLLECTION_LIMIT} records per collection call, got {len(records)}")
        body = {"allOrNone": all_or_none,
                "records": [{"attributes": {"type": object_type}, **record} for record in records]}
        results = self._call("PATCH", self.COLLECTION_URL.format(object=object_type, field=ext_field), json=body)
        if not isinstance(results, list) or len(results) != len(records):
            raise MalformedResponse(f"composite upsert of {len(records)} {object_type} answered {str(results)[:200]}")
        return results

    def update(self, object_type: str, record_id: str, fields: Mapping[str, Any]) -> None:
        """Update one record by its Id (``PATCH sobjects/<Object>/<Id>``, 204 No Content)."""
        self.request("PATCH", self.RECORD_URL.format(object=object_type, id=quote(record_id, safe="")),
                     json=dict(fields))

    def update_collection(self, object_type: str, records: Sequence[Mapping[str, Any]],
                          all_or_none: bool = False) -> list[dict[str, Any]]:
        """Update up to 200 records (each carrying its ``id``): one result per record, in order."""
        if len(records) > COLLECTION_LIMIT:
            raise ValueError(f"at most {COLLECTION_LIMIT} records per collection call, got {len(records)}")
        body = {"allOrNone": all_or_none,
                "records": [{"attributes": {"type": object_type}, **record} for record in records]}
        results = self._call("PATCH", self.COLLECTION_UPDATE_URL, json=body)
        if not isinstance(results, list) or len(results) != len(records):
            raise MalformedResponse(f"composite update of {len(records)} {object_type} answered {str(results)[:200]}")
        return results
