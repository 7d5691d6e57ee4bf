"""What a connector is: a small class that reads a platform's changes page by page and writes upserts.

A connector knows its platform (through its client and mapping) and nothing of the hub's database:
cursors are handed in and out as plain strings, staging and matching happen in connectors.services.
"""

from __future__ import annotations

import abc
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class Change:
    """One record as the platform holds it, mapped to canonical attributes."""

    object_type: str
    external_id: str
    entity_type: str
    attributes: Mapping[str, Any]
    payload: Mapping[str, Any]
    modified_at: datetime | None = None
    deleted: bool = False
    # The hub's id the record carries in the platform's external-id field (the hub wrote it there), if any.
    hub_id: str | None = None


@dataclass(frozen=True)
class Page:
    """A page of changes and the cursor to resume *after* it (commit both together)."""

    changes: Sequence[Change]
    cursor: str
    has_more: bool


@dataclass(frozen=True)
class Upsert:
    """A golden record to write into the platform, keyed by the hub's id (the platform's external-id field).

    ``external_id``: the platform's own id of a record it created itself (one that does not carry the hub's id
    yet). The connector then updates that record by its id and stamps the hub's id into its external-id field,
    so later writes go by the hub's id as usual."""

    object_type: str
    hub_id: str
    fields: Mapping[str, Any]
    external_id: str | None = None


@dataclass(frozen=True)
class WriteResult:
    hub_id: str
    ok: bool
    external_id: str | None = None
    created: bool = False
    error: str = ""
    retryable: bool = False
    details: Mapping[str, Any] = field(default_factory=dict)


class Connector(abc.ABC):
    """Base of every platform connector. ``config`` holds non-secret settings and the names of the
    environment variables that carry the secrets."""

    kind: str
    #: object type -> canonical entity type, for the objects this connector reads.
    objects: Mapping[str, str]

    def __init__(self, *, base_url: str, config: Mapping[str, Any]) -> None:
        self.base_url = base_url.rstrip("/")
        self.config = dict(config)

    @abc.abstractmethod
    def read_changes(self, object_type: str, cursor: str | None) -> Iterator[Page]:
        """Pages of changes since ``cursor`` (None: everything), oldest first."""

    @abc.abstractmethod
    def read_deleted(self, object_type: str, cursor: str | None) -> Iterator[Page]:
        """Pages of deletions since ``cursor``; each change has ``deleted=True``."""

    @abc.abstractmethod
    def write(self, upserts: Sequence[Upsert]) -> list[WriteResult]:
        """Upsert by external id (or update by the platform's id, see Upsert): writing the same record twice is
        harmless."""

    def held_hub_id(self, payload: Mapping[str, Any]) -> str | None:
        """The hub's id that a crosswalk copy's payload says the platform's record carries, if any.

        A copy the hub wrote records it as ``hub_id``; a copy read from the platform carries it in the
        platform's external-id field (connectors override this to read it)."""
        return payload.get("hub_id") or None

    def written_attributes(self, upsert: Upsert) -> Mapping[str, Any]:
        """The canonical attributes the platform will hold after ``upsert``: what reading it back gives.

        The crosswalk records these at write-back, so the next pull of the record is recognised as the
        hub's own change coming back (the echo) and changes nothing. Override when the mapping is lossy."""
        return upsert.fields

    @abc.abstractmethod
    def parse_record(self, object_type: str, record: Mapping[str, Any]) -> Change:
        """One record as the platform sends it (in a page or a webhook) as a Change."""
