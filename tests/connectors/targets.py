"""Helpers for outbound tests: golden clients from a platform that is not the target, and delivering
what is due the way the relay's tasks do."""

import datetime as dt
import threading
from collections.abc import Callable, Iterable
from typing import Any

from canonical.models import Client
from canonical.services.golden import source_record_stage
from canonical.services.matching import source_record_match
from connectors.models import Delivery
from connectors.services.outbound import deliveries_due, delivery_attempt
from tests.factories.canonical import ConnectedSystemFactory

T0 = dt.datetime(2026, 7, 1, tzinfo=dt.UTC)


def golden_client(name: str, *, source_key: str = "kantata") -> Client:
    """A golden client born of a record in another platform (so every subscriber is sent it)."""
    source_system = ConnectedSystemFactory(key=source_key, kind="kantata")
    external_id = name.lower().replace(" ", "-")
    source = source_record_stage(system=source_system, object_type="client", external_id=external_id,
                                 entity_type="client", attributes={"legal_name": name, "country": "GB"},
                                 payload={"id": external_id, "name": name}, source_modified_at=T0).source_record
    source_record_match(source_record=source)
    source.refresh_from_db()
    return Client.objects.get(pk=source.golden_record_id)


def deliver_all() -> list[Delivery | None]:
    return [delivery_attempt(delivery_id=i) for i in deliveries_due()]


def make_due(deliveries: Iterable[Delivery] | None = None) -> None:
    """Time passes: pending deliveries' next attempts come due."""
    queryset = Delivery.objects.filter(pk__in=[d.pk for d in deliveries]) if deliveries else Delivery.objects.all()
    queryset.update(next_attempt_at=dt.datetime.now(dt.UTC))


class HeaderLog:
    """Wrap a WSGI app; ``log`` lists (method, path, headers) of every request it received."""

    def __init__(self, app: Callable[..., Any]) -> None:
        self.app = app
        self.log: list[tuple[str, str, dict[str, str]]] = []
        self._lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]):
        headers = {k[5:].replace("_", "-").lower(): v for k, v in environ.items() if k.startswith("HTTP_")}
        with self._lock:
            self.log.append((environ["REQUEST_METHOD"], environ.get("PATH_INFO", ""), headers))
        return self.app(environ, start_response)
