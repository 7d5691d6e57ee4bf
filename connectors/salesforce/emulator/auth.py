"""The emulator's OAuth 2.0 token endpoint (client credentials and JWT bearer) and its sessions.

JWT bearer: the assertion must be a well-formed three-part JWT whose ``iss`` is the client id (and whose
``exp``, if present, is not past). **The signature is not verified**: the emulator holds no certificate.
"""

from __future__ import annotations

import base64
import binascii
import json
import secrets
import threading
from collections.abc import Mapping
from datetime import datetime
from typing import Any

JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
ORG_ID = "00D5g000004Ft9WEAS"
USER_ID = "0055g00000FvSzQAAV"


class TokenError(Exception):
    """A refused token request: 400 ``{"error", "error_description"}``."""

    def __init__(self, error: str, description: str) -> None:
        super().__init__(description)
        self.error, self.description = error, description


def _b64json(part: str) -> dict[str, Any]:
    padded = part + "=" * (-len(part) % 4)
    value = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
    if not isinstance(value, dict):
        raise ValueError("not a JSON object")
    return value


class Sessions:
    """Issued access tokens (random, remembered) and the credentials of the one connected app."""

    def __init__(self, client_id: str, client_secret: str) -> None:
        self.client_id, self.client_secret = client_id, client_secret
        self._tokens: set[str] = set()
        self._lock = threading.Lock()
        self.issued = 0

    def grant(self, form: Mapping[str, str], *, instance_url: str, now: datetime) -> dict[str, Any]:
        """Answer a token request or raise TokenError."""
        grant_type = form.get("grant_type", "")
        if grant_type == "client_credentials":
            if form.get("client_id") != self.client_id or not secrets.compare_digest(
                    form.get("client_secret", ""), self.client_secret):
                raise TokenError("invalid_grant", "authentication failure")
        elif grant_type == JWT_GRANT:
            self._check_jwt(form.get("assertion", ""), now)
        else:
            raise TokenError("unsupported_grant_type", "grant type not supported")
        token = f"{ORG_ID[:15]}!AQ{secrets.token_urlsafe(48)}"
        with self._lock:
            self._tokens.add(token)
            self.issued += 1
        return {
            "access_token": token, "instance_url": instance_url,
            "id": f"{instance_url}/id/{ORG_ID}/{USER_ID}", "token_type": "Bearer", "scope": "api",
            "issued_at": str(int(now.timestamp() * 1000)),
            "signature": base64.b64encode(secrets.token_bytes(32)).decode("ascii"),
        }

    def _check_jwt(self, assertion: str, now: datetime) -> None:
        parts = assertion.split(".")
        try:
            if len(parts) != 3 or not all(parts[:2]):
                raise ValueError("not three parts")
            _b64json(parts[0])
            claims = _b64json(parts[1])
        except (ValueError, binascii.Error, UnicodeError):
            raise TokenError("invalid_grant", "invalid assertion") from None
        if claims.get("iss") != self.client_id:
            raise TokenError("invalid_grant", "authentication failure")
        exp = claims.get("exp")
        if exp is not None and (not isinstance(exp, int | float) or exp < now.timestamp()):
            raise TokenError("invalid_grant", "expired authorization code")

    def valid(self, token: str | None) -> bool:
        with self._lock:
            return token is not None and token in self._tokens

    def revoke(self, token: str | None) -> None:
        with self._lock:
            self._tokens.discard(token or "")
