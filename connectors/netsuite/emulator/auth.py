"""The emulator's OAuth 2.0 client-credentials token endpoint (NetSuite OAuth 2.0 M2M).

The client assertion is checked for *structure only*: three base64url parts, a header whose ``kid`` is the
configured certificate id and whose ``alg`` is one NetSuite accepts, a payload whose ``iss`` is the configured
client id, whose ``scope`` includes ``rest_webservices``, whose ``aud`` is the token URL and whose ``exp`` is
in the future and at most 60 minutes after ``iat``. The signature is NOT verified: the emulator holds no
certificate, so any signature (including a placeholder) is accepted.
"""

from __future__ import annotations

import base64
import binascii
import json
import secrets
from typing import Any
from urllib.parse import parse_qs

from connectors.netsuite.emulator.responses import Response

TOKEN_PATH = "/services/rest/auth/oauth2/v1/token"  # noqa: S105 (a URL path, not a secret)
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
ALGORITHMS = {"PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "RS256"}
TOKEN_LIFETIME = 3600


def _b64_json(part: str) -> dict[str, Any]:
    decoded = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    if not isinstance(decoded, dict):
        raise ValueError("not an object")
    return decoded


def check_assertion(assertion: str, *, client_id: str, certificate_id: str, now: float) -> bool:
    """Whether ``assertion`` is a well-formed JWT for this integration (signature not checked, see module doc)."""
    parts = assertion.split(".")
    if len(parts) != 3 or not all(parts[:2]):
        return False
    try:
        header, payload = _b64_json(parts[0]), _b64_json(parts[1])
    except (ValueError, binascii.Error, UnicodeDecodeError):
        return False
    scopes = str(payload.get("scope", "")).replace(" ", "").split(",")
    iat, exp = payload.get("iat"), payload.get("exp")
    return (header.get("kid") == certificate_id and header.get("alg") in ALGORITHMS
            and payload.get("iss") == client_id and "rest_webservices" in scopes
            and str(payload.get("aud", "")).endswith(TOKEN_PATH)
            and isinstance(iat, int | float) and isinstance(exp, int | float)
            and exp > now and exp - iat <= TOKEN_LIFETIME)


def new_token() -> str:
    """An opaque access token that looks like NetSuite's (a JWT-shaped string)."""
    head = base64.urlsafe_b64encode(b'{"kid":"emulator","typ":"JWT","alg":"RS256"}').rstrip(b"=").decode()
    return f"{head}.{secrets.token_urlsafe(48)}.{secrets.token_urlsafe(32)}"


def token_response(body: bytes, *, client_id: str, certificate_id: str, now: float,
                   tokens: dict[str, float]) -> Response:
    """Answer a token POST: a new bearer token in ``tokens`` (token -> expiry), or NetSuite's OAuth error."""
    form = {k: v[0] for k, v in parse_qs(body.decode("utf-8", "replace")).items()}
    if form.get("grant_type") != "client_credentials":
        return Response(400, {"error": "unsupported_grant_type"})
    if form.get("client_assertion_type") != ASSERTION_TYPE or not form.get("client_assertion"):
        return Response(400, {"error": "invalid_request"})
    if not check_assertion(form["client_assertion"], client_id=client_id, certificate_id=certificate_id, now=now):
        return Response(400, {"error": "invalid_client"})
    token = new_token()
    tokens[token] = now + TOKEN_LIFETIME
    return Response(200, {"access_token": token, "expires_in": str(TOKEN_LIFETIME), "token_type": "Bearer"})
