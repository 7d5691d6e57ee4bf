"""Fault injection for the emulator: queued faults, each consumed by the next request it applies to."""

from __future__ import annotations

import threading

#: Kinds answered instead of the next API call (in this order of precedence).
REQUEST_FAULTS = ("expire_token", "request_limit", "unavailable", "lock_row", "malformed")
#: Kinds applied to the next composite collection upsert or update: every other record fails with this code.
BATCH_FAULTS = {"partial_batch": "DUPLICATE_VALUE", "partial_lock": "UNABLE_TO_LOCK_ROW"}
FAULT_KINDS = (*REQUEST_FAULTS, *BATCH_FAULTS)


class Faults:
    """``faults.inject("unavailable", times=2)``: the next two API calls answer 503 SERVER_UNAVAILABLE.

    - ``expire_token``: the caller's session is revoked; the call answers 401 INVALID_SESSION_ID.
    - ``request_limit``: 403 REQUEST_LIMIT_EXCEEDED.  - ``unavailable``: 503 SERVER_UNAVAILABLE.
    - ``lock_row``: 400 UNABLE_TO_LOCK_ROW.  - ``malformed``: 200 with a body that is not JSON.
    - ``partial_batch`` / ``partial_lock``: in the next composite upsert or update every other record (the 2nd,
      4th...) fails with DUPLICATE_VALUE / UNABLE_TO_LOCK_ROW.
    """

    def __init__(self) -> None:
        self._pending: dict[str, int] = {}
        self._lock = threading.Lock()

    def inject(self, kind: str, times: int = 1) -> None:
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; expected one of {', '.join(FAULT_KINDS)}")
        if times < 1:
            raise ValueError("times must be at least 1")
        with self._lock:
            self._pending[kind] = self._pending.get(kind, 0) + times

    def clear(self) -> None:
        with self._lock:
            self._pending.clear()

    def pending(self) -> dict[str, int]:
        with self._lock:
            return dict(self._pending)

    def take(self, kinds: tuple[str, ...] | list[str]) -> str | None:
        """Consume one pending fault among ``kinds`` (first in order), or None."""
        with self._lock:
            for kind in kinds:
                if self._pending.get(kind):
                    self._pending[kind] -= 1
                    if not self._pending[kind]:
                        del self._pending[kind]
                    return kind
        return None
