"""What the demo generator returns: plain descriptions of platform records, no ORM.

A golden record to build is a ``GoldenSpec`` holding the platform copies (``SourceCopy``) it is made
from. A copy refers to a related record by that record's id in the same platform, as a connector's
mapping would: ``{"object_type": "Account", "external_id": "001..."}``. Revenue events name their
client, engagement, contract and milestone by demo key (engagement code, contract number...).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

# "Today" for the whole demo, so the output never depends on the clock.
TODAY = date(2026, 10, 31)
# The year of revenue events the demo covers.
WINDOW_START = date(2025, 11, 1)
WINDOW_END = TODAY


@dataclass(frozen=True)
class SystemSpec:
    key: str
    kind: str
    name: str
    base_url: str


@dataclass(frozen=True)
class SourceCopy:
    """One platform's copy of a record: its id there, the payload as the API returns it, canonical attributes."""

    system: str
    object_type: str
    external_id: str
    attributes: dict[str, Any]
    payload: dict[str, Any]
    modified_at: datetime | None


@dataclass(frozen=True)
class GoldenSpec:
    """A golden record to create from its copies. ``key`` is the demo's own handle on it."""

    entity_type: str
    key: str
    sources: tuple[SourceCopy, ...]


@dataclass(frozen=True)
class RevenueEventSpec:
    idempotency_key: str
    kind: str
    amount: Decimal
    currency: str
    occurred_on: date
    client: str
    engagement: str | None
    contract: str | None
    milestone: str | None
    source_system: str
    source_reference: str
    description: str
    sources: tuple[SourceCopy, ...]


@dataclass(frozen=True)
class DemoData:
    """Everything in load order: a record's references always point at records listed before it."""

    systems: tuple[SystemSpec, ...]
    clients: tuple[GoldenSpec, ...]
    engagements: tuple[GoldenSpec, ...]
    milestones: tuple[GoldenSpec, ...]
    contracts: tuple[GoldenSpec, ...]
    revenue_events: tuple[RevenueEventSpec, ...]

    @property
    def source_count(self) -> int:
        specs = self.clients + self.engagements + self.milestones + self.contracts
        return sum(len(s.sources) for s in specs) + sum(len(e.sources) for e in self.revenue_events)


SYSTEMS = (
    SystemSpec("salesforce", "salesforce", "Salesforce (CRM)", "http://127.0.0.1:8101"),
    SystemSpec("certinia", "certinia", "Certinia PSA", "http://127.0.0.1:8102"),
    SystemSpec("netsuite", "netsuite", "NetSuite (ERP)", "http://127.0.0.1:8103"),
    SystemSpec("anaplan", "anaplan", "Anaplan (FP&A)", "http://127.0.0.1:8104"),
)
