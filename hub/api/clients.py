"""Creating and managing API clients (consuming systems). The token is returned once, never stored."""

from collections.abc import Sequence

from django.core.exceptions import ValidationError
from django.db import transaction

from hub.api import scopes as scope_names
from hub.models import ApiClient


def _validated(scopes: Sequence[str]) -> list[str]:
    unknown = sorted(set(scopes) - set(scope_names.ALL) - {"*"})
    if unknown:
        raise ValidationError(f"unknown scopes {unknown}; known: {sorted(scope_names.ALL)} or '*'")
    return sorted(set(scopes))


def api_client_create(*, name: str, scopes: Sequence[str], description: str = "") -> tuple[ApiClient, str]:
    prefix, token = ApiClient.new_token()
    client = ApiClient(
        name=name, description=description, scopes=_validated(scopes), token_prefix=prefix,
        token_digest=ApiClient.digest(token),
    )
    client.full_clean()
    client.save()
    return client, token


def api_client_rotate(*, client: ApiClient) -> str:
    """A new token for the client; the old one stops working at once."""
    prefix, token = ApiClient.new_token()
    with transaction.atomic():
        client.token_prefix = prefix
        client.token_digest = ApiClient.digest(token)
        client.save(update_fields=["token_prefix", "token_digest"])
    return token


def api_client_set_scopes(*, client: ApiClient, scopes: Sequence[str]) -> ApiClient:
    client.scopes = _validated(scopes)
    client.save(update_fields=["scopes"])
    return client
