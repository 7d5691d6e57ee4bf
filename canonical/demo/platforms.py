"""How each platform spells ids, timestamps and references, so demo payloads look like the real APIs."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_CHECKSUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"

# Salesforce key prefixes: standard objects have fixed ones, managed-package objects get one per org.
SF_PREFIX = {
    "Account": "001", "Contact": "003", "Opportunity": "006", "OpportunityHistory": "008",
    "OpportunityLineItem": "00k", "Contract": "800", "pse__Milestone__History": "017",
    "pse__Proj__c": "a1X", "pse__Milestone__c": "a1T", "pse__Timecard_Header__c": "a2D",
    "pse__Billing_Event__c": "a0m", "pse__Budget__c": "a0J",
}
# The instance ("pod") characters of each org: the CRM org and the PSA org are separate orgs here.
SF_POD = {"salesforce": "5g", "certinia": "8d"}
# NetSuite internal ids: entities share one sequence, transactions another, the rest their own.
NS_FAMILY = {
    "customer": "entity", "job": "entity", "salesOrder": "transaction", "invoice": "transaction",
    "customerPayment": "transaction", "revenueArrangement": "transaction", "journalEntry": "transaction",
}


def salesforce_checksum(id15: str) -> str:
    """The 3-character suffix that makes a 15-character Salesforce id case-insensitively unique."""
    suffix = ""
    for chunk in range(3):
        bits = sum(1 << i for i, ch in enumerate(id15[chunk * 5: chunk * 5 + 5]) if "A" <= ch <= "Z")
        suffix += _CHECKSUM[bits]
    return id15 + suffix


def _base62(number: int, width: int) -> str:
    out = ""
    while number:
        number, digit = divmod(number, 62)
        out = BASE62[digit] + out
    return out.rjust(width, "0")


class PlatformIds:
    """Hands out unique, plausible record ids per platform, from the demo's seeded generator."""

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng
        self._next: dict[tuple[str, str], int] = {}

    def _advance(self, key: tuple[str, str], low: int, high: int, max_gap: int) -> int:
        if key not in self._next:
            self._next[key] = self._rng.randrange(low, high)
        value = self._next[key]
        self._next[key] = value + self._rng.randint(1, max_gap)
        return value

    def salesforce(self, system: str, object_type: str) -> str:
        n = self._advance((system, object_type), 62**4, 62**5, 40)
        return salesforce_checksum(f"{SF_PREFIX[object_type]}{SF_POD[system]}0000{_base62(n, 6)}")

    def netsuite(self, record_type: str) -> str:
        family = NS_FAMILY.get(record_type, record_type)
        return str(self._advance(("netsuite", family), 1000, 9000, 7))

    def number(self, series: str, low: int = 100, high: int = 900) -> int:
        """A document number in a series (invoice numbers, contract numbers...)."""
        return self._advance(("number", series), low, high, 1)


def moment(rng: random.Random, day: date) -> datetime:
    """A time during a working day, in UTC."""
    return datetime.combine(day, time(8, 0), tzinfo=UTC) + timedelta(seconds=rng.randrange(10 * 3600))


def sf_time(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%S.000+0000")


def ns_time(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


def sf_attributes(object_type: str, record_id: str) -> dict:
    return {"type": object_type, "url": f"/services/data/v62.0/sobjects/{object_type}/{record_id}"}


def ref(object_type: str, external_id: str) -> dict:
    """A canonical attribute value pointing at a related record by its id in the same platform."""
    return {"object_type": object_type, "external_id": external_id}


def num(amount: Decimal | None) -> float | None:
    """Money as the platforms' JSON carries it (a JSON number). Canonical attributes keep strings."""
    return None if amount is None else float(amount)


def money(amount: Decimal | None) -> str | None:
    return None if amount is None else f"{amount:.2f}"


def iso(day: date | None) -> str | None:
    return None if day is None else day.isoformat()
