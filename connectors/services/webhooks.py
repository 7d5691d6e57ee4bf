"""Inbound webhooks: verify, store raw, answer fast; then apply through the same path as a pull.

A platform (or the emulators) signs ``"{timestamp}.{raw body}"`` with HMAC-SHA256 and the secret the
connected system's config names (``webhook_secret_env`` or ``webhook_secret_file``), and sends
``X-Concord-Signature: t=<unix seconds>,v1=<hex>[,v1=<hex>...]`` (several v1 values while a secret is being
rotated). A timestamp more than 300 s away from now, either way, is refused, so a captured request cannot
be replayed later; the same event id twice is stored and applied once.
The body: ``{"id": "<event id>", "object_type": "Account", "records": [<records as the platform's API
returns them>]}``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils import timezone

from canonical.models import ConnectedSystem
from connectors.base import Page
from connectors.errors import AuthFailed
from connectors.models import Direction, Stream, SyncRun, WebhookEvent, WebhookStatus
from connectors.secrets import secret_read
from connectors.services.inbound import connector_for, stream_page_apply
from hub import correlation

SIGNATURE_HEADER = "X-Concord-Signature"
TOLERANCE_S = 300


class WebhookRefused(Exception):
    """The request is not a valid, fresh, signed event; ``status`` is the HTTP status to answer."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def signature_header(secret: str, body: bytes, *, timestamp: int | None = None) -> str:
    """What a sender puts in X-Concord-Signature (used by the emulators and the tests)."""
    stamp = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{stamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={stamp},v1={digest}"


def _secret(system: ConnectedSystem) -> str:
    try:
        secret = secret_read(system.config, "webhook_secret", platform=system.key)
    except AuthFailed:
        secret = None
    if not secret:
        raise WebhookRefused(f"{system.key} takes no webhooks (no webhook secret configured)", status=404)
    return secret


def signature_verify(*, secret: str, header: str | None, body: bytes, now: float | None = None) -> int:
    """The signed timestamp, if the header carries a valid signature made within the tolerance."""
    parts: dict[str, list[str]] = {}
    for item in (header or "").split(","):
        key, _, value = item.strip().partition("=")
        parts.setdefault(key, []).append(value)
    try:
        stamp = int(parts.get("t", [""])[0])
    except ValueError:
        raise WebhookRefused("missing or malformed signature timestamp", status=401) from None
    if abs((time.time() if now is None else now) - stamp) > TOLERANCE_S:
        raise WebhookRefused("signature timestamp outside the tolerance (a replay, or a clock far off)", 401)
    expected = hmac.new(secret.encode(), f"{stamp}.".encode() + body, hashlib.sha256).hexdigest()
    if not any(hmac.compare_digest(expected, given) for given in parts.get("v1", [])):
        raise WebhookRefused("signature does not match", status=401)
    return stamp


@dataclass(frozen=True)
class Receipt:
    event: WebhookEvent
    duplicate: bool


def webhook_receive(*, system_key: str, header: str | None, body: bytes) -> Receipt:
    """Verify and store an event (raw); the caller queues it for processing and answers 202."""
    system = ConnectedSystem.objects.filter(key=system_key, enabled=True).first()
    if system is None:
        raise WebhookRefused(f"unknown system {system_key!r}", status=404)
    stamp = signature_verify(secret=_secret(system), header=header, body=body)
    try:
        data = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise WebhookRefused(f"body is not JSON: {exc}") from None
    if not isinstance(data, Mapping) or not data.get("id") or not data.get("object_type") \
            or not isinstance(data.get("records"), list):
        raise WebhookRefused('body must be {"id": ..., "object_type": ..., "records": [...]}')
    try:
        with transaction.atomic():
            event = WebhookEvent.objects.create(
                system=system, event_id=str(data["id"])[:200], object_type=str(data["object_type"])[:100],
                body=data, signature_timestamp=stamp, correlation_id=correlation.get() or "",
            )
    except IntegrityError:
        return Receipt(WebhookEvent.objects.get(system=system, event_id=str(data["id"])[:200]), duplicate=True)
    return Receipt(event, duplicate=False)


def webhook_process(*, event_id: str) -> WebhookEvent:
    """Apply a stored event through the inbound path (stage, match), once. Idempotent."""
    with transaction.atomic():
        event = WebhookEvent.objects.select_for_update().select_related("system").get(pk=event_id)
        if event.status == WebhookStatus.PROCESSED:
            return event
        connector = connector_for(event.system)
        try:
            changes = [connector.parse_record(event.object_type, record) for record in event.body["records"]]
        except (KeyError, TypeError, ValueError) as exc:
            event.status, event.error = WebhookStatus.FAILED, f"unreadable record: {exc}"
            event.save(update_fields=["status", "error"])
            return event
        stream, _ = Stream.objects.get_or_create(system=event.system, object_type=event.object_type,
                                                 direction=Direction.INBOUND)
        run = SyncRun.objects.create(stream=stream, correlation_id=event.correlation_id)
        # The pull cursor is left alone: the next pull re-reads these records, as no-ops.
        stream_page_apply(stream=stream, page=Page(changes, cursor=stream.cursor, has_more=False), run=run,
                          advance_cursor=False)
        SyncRun.objects.filter(pk=run.pk).update(status="succeeded", finished_at=timezone.now())
        event.status, event.processed_at = WebhookStatus.PROCESSED, timezone.now()
        event.save(update_fields=["status", "processed_at"])
    return event
