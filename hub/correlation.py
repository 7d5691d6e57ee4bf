"""The correlation id of the request or task being served, carried in a context variable.

It reaches logs (hub.logs), Celery headers (hub.celery), outbound HTTP headers and the history
rows a change writes (canonical.models.base.CorrelatedHistory).
"""

import contextlib
import uuid
from collections.abc import Iterator
from contextvars import ContextVar

HEADER = "X-Correlation-ID"
_current: ContextVar[str | None] = ContextVar("correlation_id", default=None)


def new_id() -> str:
    return uuid.uuid4().hex


def get() -> str | None:
    return _current.get()


def clean(value: str | None) -> str | None:
    """Accept a caller's id only if it is short and printable; otherwise the hub makes its own."""
    if value and len(value) <= 64 and value.isascii() and value.replace("-", "").replace("_", "").isalnum():
        return value
    return None


@contextlib.contextmanager
def bind(correlation_id: str | None = None) -> Iterator[str]:
    value = correlation_id or new_id()
    token = _current.set(value)
    try:
        yield value
    finally:
        _current.reset(token)


def activate(value: str) -> object:
    """Bind for code that cannot use a with-block (Celery's prerun/postrun signals); returns a token."""
    return _current.set(value)


def deactivate(token: object) -> None:
    _current.reset(token)
