"""Authentication of consuming systems: ``Authorization: Bearer cc_<prefix>_<secret>``."""

import hmac
from dataclasses import dataclass

from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions
from rest_framework.request import Request

from hub.models import TOKEN_PREFIX, ApiClient

# Writing last_used_at on every call would turn each read into a write; once a minute is plenty.
LAST_USED_RESOLUTION_S = 60


@dataclass(frozen=True)
class ApiClientPrincipal:
    """``request.user`` for a token caller: an authenticated machine, never staff."""

    client: ApiClient
    is_authenticated: bool = True
    is_active: bool = True
    is_staff: bool = False
    is_superuser: bool = False
    pk: None = None

    def __str__(self) -> str:
        return f"api-client:{self.client.name}"


class ApiClientTokenAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request: Request) -> tuple[ApiClientPrincipal, ApiClient] | None:
        header = authentication.get_authorization_header(request).decode("latin-1")
        if not header:
            return None
        scheme, _, token = header.partition(" ")
        if scheme.lower() != self.keyword.lower():
            return None
        token = token.strip()
        if not token.startswith(TOKEN_PREFIX) or token.count("_") < 2:
            raise exceptions.AuthenticationFailed("Malformed token.")
        prefix = token[len(TOKEN_PREFIX):].split("_", 1)[0]
        client = ApiClient.objects.filter(token_prefix=prefix).first()
        if client is None or not hmac.compare_digest(client.token_digest, ApiClient.digest(token)):
            raise exceptions.AuthenticationFailed("Invalid token.")
        if not client.is_active:
            raise exceptions.AuthenticationFailed("This API client is disabled.")
        now = timezone.now()
        if client.last_used_at is None or (now - client.last_used_at).total_seconds() > LAST_USED_RESOLUTION_S:
            ApiClient.objects.filter(pk=client.pk).update(last_used_at=now)
        return ApiClientPrincipal(client=client), client

    def authenticate_header(self, request: Request) -> str:
        return f'{self.keyword} realm="concord"'


class ApiClientTokenScheme(OpenApiAuthenticationExtension):
    target_class = ApiClientTokenAuthentication
    name = "apiClientToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A consuming system's token, created with `manage.py api_client create`.",
        }
