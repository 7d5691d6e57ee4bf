"""Hub-wide models: API clients of consuming systems, and the history base every app shares."""

import hashlib
import secrets
import uuid

from django.contrib.postgres.fields import ArrayField
from django.db import models

from hub import correlation

TOKEN_PREFIX = "cc_"  # noqa: S105 (a public marker, not a secret)


class CorrelatedHistory(models.Model):
    """Base of every historical model: the correlation id of the request or task that made the change,
    and the actor when it was not a staff user (an API client), whom ``history_user`` cannot hold."""

    # Indexed as a plain btree (see _Tracked): a CharField's own index comes with a second one for LIKE, which no
    # one asks of a correlation id, written with every history row.
    correlation_id = models.CharField(max_length=64, blank=True, default="")
    actor = models.CharField(max_length=150, blank=True, default="")

    class Meta:
        abstract = True


def history_user(instance=None, request=None, **kwargs):
    """simple-history's get_user: the signed-in staff user, never an API client's principal."""
    from simple_history.models import HistoricalRecords

    request = request or getattr(HistoricalRecords.context, "request", None)
    user = getattr(request, "user", None)
    return user if isinstance(user, models.Model) and user.is_authenticated else None


def tracked(**kwargs):
    """The history every tracked model keeps: correlation id (indexed), actor, and only real users as
    history_user. ``no_db_index``: the model's indexed fields no one looks its history up by (each index is
    written with every history row)."""
    from simple_history.models import HistoricalRecords

    class _Tracked(HistoricalRecords):
        def get_meta_options(self, model):
            options = super().get_meta_options(model)
            options["indexes"] = (*options.get("indexes", ()), models.Index(fields=["correlation_id"]))
            return options

    return _Tracked(bases=[CorrelatedHistory], get_user=history_user, **kwargs)


def history_context() -> dict[str, str]:
    """The correlation id and actor of history rows written now (also for rows written in bulk, which
    simple-history's signals do not reach)."""
    from simple_history.models import HistoricalRecords

    context = {"correlation_id": correlation.get() or ""}
    request = getattr(HistoricalRecords.context, "request", None)
    auth = getattr(request, "auth", None)  # DRF sets it on the Django request too
    if isinstance(auth, ApiClient):
        context["actor"] = f"api:{auth.name}"
    elif getattr(request, "user", None) is not None and getattr(request.user, "is_authenticated", False):
        context["actor"] = request.user.get_username()
    return context


def set_history_context(sender, history_instance, **kwargs) -> None:
    """simple-history's pre_create_historical_record receiver (connected in HubConfig.ready)."""
    if not hasattr(history_instance, "correlation_id"):
        return
    for name, value in history_context().items():
        setattr(history_instance, name, value)


class ApiClient(models.Model):
    """A consuming system that reads the API with a bearer token; what it may read is its scopes.

    The token is shown once when created; only its SHA-256 digest is stored (tokens are 256-bit random,
    so a fast digest is enough: there is nothing to brute-force).
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=100, unique=True)
    description = models.TextField(blank=True)
    token_prefix = models.CharField(max_length=16, unique=True, editable=False)
    token_digest = models.CharField(max_length=64, editable=False)
    scopes = ArrayField(models.CharField(max_length=64), default=list, blank=True)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @staticmethod
    def digest(token: str) -> str:
        return hashlib.sha256(token.encode()).hexdigest()

    @staticmethod
    def new_token() -> tuple[str, str]:
        """Return (prefix, token). The prefix is public and finds the row; the rest is the secret."""
        prefix = secrets.token_hex(4)
        return prefix, f"{TOKEN_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"

    def has_scope(self, scope: str) -> bool:
        return scope in self.scopes or "*" in self.scopes
