"""``/healthz``: is the database reachable, is Redis reachable. 200 when both are, 503 otherwise.

Other apps may add informational sections (the connectors report their circuit breakers): a platform
being down is not the hub being down, so those never change the status.
"""

import logging
from collections.abc import Callable

import redis
from django.conf import settings
from django.db import DatabaseError, connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

logger = logging.getLogger(__name__)

_sections: dict[str, Callable[[], dict]] = {}


def health_section_register(name: str, report: Callable[[], dict]) -> None:
    """Add ``name: report()`` to every /healthz answer (keep it cheap: orchestrators poll it)."""
    _sections[name] = report


def _section(name: str, report: Callable[[], dict]) -> dict:
    try:
        return report()
    except Exception as exc:
        logger.warning("health: section failed", extra={"section": name, "error": str(exc)[:300]})
        return {"status": "unknown", "error": exc.__class__.__name__}


def _database() -> dict:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError as exc:
        logger.warning("health: database unreachable", extra={"error": str(exc)})
        return {"status": "down", "error": exc.__class__.__name__}
    return {"status": "ok", "vendor": connection.vendor, "server_version": connection.pg_version}


def _redis() -> dict:
    try:
        client = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=2, socket_connect_timeout=2)
        client.ping()
    except (redis.RedisError, OSError) as exc:
        logger.warning("health: redis unreachable", extra={"error": str(exc)})
        return {"status": "down", "error": exc.__class__.__name__}
    return {"status": "ok"}


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    checks = {"database": _database(), "redis": _redis()}
    healthy = all(c["status"] == "ok" for c in checks.values())
    body = {"status": "ok" if healthy else "degraded", "checks": checks}
    body.update({name: _section(name, report) for name, report in _sections.items()})
    return JsonResponse(body, status=200 if healthy else 503)
