"""NetSuite's response shapes: the RFC 7807-like error body and small WSGI helpers."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson

TITLES = {400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed",
          429: "Too Many Requests", 500: "Internal Server Error", 503: "Service Unavailable"}
# The RFC 9110 section each status is described in, as NetSuite's "type" member links to it.
SECTIONS = {400: "15.5.1", 401: "15.5.2", 403: "15.5.4", 404: "15.5.5", 405: "15.5.6", 429: "6585#section-4",
            500: "15.6.1", 503: "15.6.4"}
#: What NetSuite answers a SuiteQL query it cannot run: the reason follows.
SEARCH_ERROR = "Invalid search query. Detailed unprocessed description follows. Search error occurred: {}"
INVALID_LOGIN = ("Invalid login attempt. For more details, see the Login Audit Trail in the NetSuite UI at "
                 "Setup > Users/Roles > User Management > View Login Audit Trail.")


@dataclass
class Response:
    """What a handler returns: status, headers and a body (JSON-encoded unless ``raw``)."""

    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    raw: bytes | None = None

    def encode(self) -> tuple[str, list[tuple[str, str]], bytes]:
        if self.raw is not None:
            payload = self.raw
            content_type = self.headers.pop("Content-Type", "text/html; charset=UTF-8")
        elif self.body is None:
            payload, content_type = b"", ""
        else:
            payload = orjson.dumps(self.body, option=orjson.OPT_NON_STR_KEYS)
            content_type = "application/vnd.oracle.resource+json; type=error" if self.status >= 400 and (
                isinstance(self.body, dict) and "o:errorDetails" in self.body) else "application/json; charset=UTF-8"
        headers = [(k, v) for k, v in self.headers.items()]
        if content_type:
            headers.append(("Content-Type", content_type))
        headers.append(("Content-Length", str(len(payload))))
        reason = TITLES.get(self.status, {200: "OK", 204: "No Content"}.get(self.status, "Unknown"))
        return f"{self.status} {reason}", headers, payload


def error(status: int, code: str, detail: str, **extra: str) -> Response:
    """NetSuite's error body: ``{"type", "title", "status", "o:errorDetails": [{detail, o:errorCode, ...}]}``."""
    section = SECTIONS.get(status, "15.5.1")
    kind = (f"https://www.rfc-editor.org/rfc/rfc{section}" if section.startswith("6585")
            else f"https://www.rfc-editor.org/rfc/rfc9110.html#section-{section}")
    item = {"detail": detail, "o:errorCode": code, **{f"o:{k}": v for k, v in extra.items()}}
    return Response(status, {"type": kind, "title": TITLES.get(status, "Error"), "status": status,
                             "o:errorDetails": [item]})


class Problem(Exception):
    """Raised inside a handler to answer with a NetSuite error body."""

    def __init__(self, status: int, code: str, detail: str, **extra: str) -> None:
        super().__init__(detail)
        self.response = error(status, code, detail, **extra)


def search_error(reason: str) -> Problem:
    """A SuiteQL query NetSuite cannot run (a syntax it does not take, an unknown table or column, values that do
    not compare): 400 INVALID_PARAMETER."""
    return Problem(400, "INVALID_PARAMETER", SEARCH_ERROR.format(reason))
