"""The emulator's records: the demo's NetSuite copies, and how they look as SuiteQL table rows."""

from __future__ import annotations

from collections.abc import Container, Iterator
from datetime import UTC, datetime
from typing import Any

from canonical.demo import generate
from canonical.demo.records import SourceCopy
from connectors.netsuite.emulator.table import Table

# REST record type -> SuiteQL table, and the transaction ``type`` code for transaction records.
TABLES = {"customer": "customer", "job": "job", "projectTask": "projecttask", "timeBill": "timebill",
          "customrecord_msa": "customrecord_msa", "systemNote": "systemnote", "salesOrder": "transaction",
          "invoice": "transaction", "customerPayment": "transaction", "journalEntry": "transaction",
          "revenueArrangement": "transaction"}
TRANSACTION_TYPES = {"salesOrder": "SalesOrd", "invoice": "CustInvc", "customerPayment": "CustPymt",
                     "journalEntry": "Journal", "revenueArrangement": "RevArrng"}
# What DeletedRecord.type says for each record type (its label), and the id sequence each type draws from.
LABELS = {"customer": "Customer", "job": "Project", "projectTask": "Project Task", "timeBill": "Time",
          "salesOrder": "Sales Order", "invoice": "Invoice", "customerPayment": "Payment",
          "journalEntry": "Journal Entry", "revenueArrangement": "Revenue Arrangement"}
FAMILIES = {"customer": "entity", "job": "entity", **{t: "transaction" for t in TRANSACTION_TYPES}}


def ns_time(value: datetime) -> str:
    """A timestamp as the record service writes it (UTC, ``Z``)."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(value: str) -> datetime:
    """A timestamp as ``ns_time`` writes it. (``fromisoformat``: strptime would cost more than the rest of a
    record's SuiteQL row.)"""
    if not value.endswith("Z"):
        raise ValueError(f"not a UTC timestamp: {value!r}")
    return datetime.fromisoformat(value[:-1]).replace(tzinfo=UTC)


def _netsuite_copies(seed: int, clients: int) -> Iterator[SourceCopy]:
    data = generate(seed=seed, clients=clients)
    for spec in (*data.clients, *data.engagements, *data.milestones, *data.contracts, *data.revenue_events):
        yield from (s for s in spec.sources if s.system == "netsuite")


def demo_store(seed: int, clients: int) -> dict[str, Table]:
    """record type -> internal id -> record (the demo payload + ``lastModifiedDate`` and ``externalId: None``)."""
    store = {t: Table() for t in TABLES}
    for copy in _netsuite_copies(seed, clients):
        record = dict(copy.payload)
        record.pop("lastModified", None)  # the custom record's own spelling; one field name for all here
        stamp = copy.modified_at or datetime(2020, 1, 1, tzinfo=UTC)
        record["lastModifiedDate"] = record.get("lastModifiedDate") or ns_time(stamp)
        record.setdefault("externalId", None)
        store.setdefault(copy.object_type, Table())[copy.external_id] = record
    return store


def _column(value: Any) -> Any:
    """A record field as a SuiteQL column value: references by id (or name), booleans T/F, numbers as text."""
    if isinstance(value, dict):
        if "items" in value:
            return None  # sublists are separate tables in SuiteQL
        return value.get("id") or value.get("refName")
    if isinstance(value, bool):
        return "T" if value else "F"
    if isinstance(value, int | float):
        return str(value)
    return value


def table_row(record_type: str, record: dict[str, Any], columns: Container[str] | None = None) -> dict[str, Any]:
    """The SuiteQL row of a record: lower-case columns; ``id`` an int, ``lastmodifieddate`` a UTC datetime.
    With ``columns``, the record's other fields are left out (a query reads only the columns it names)."""
    row: dict[str, Any] = {}
    for key, value in record.items():
        name = key.lower()
        if columns is not None and name not in columns:
            continue
        column = _column(value)
        if column is not None and key not in ("links",):
            row[name] = column
    row["id"] = int(record["id"])
    row["lastmodifieddate"] = parse_time(record["lastModifiedDate"])
    row["externalid"] = record.get("externalId")
    if record_type in TRANSACTION_TYPES:
        row["type"] = TRANSACTION_TYPES[record_type]
        row["recordtype"] = record_type.lower()
    return row


def deleted_row(record_type: str, record_id: str, name: str, deleted_at: datetime) -> dict[str, Any]:
    """A DeletedRecord row."""
    return {"recordid": int(record_id), "type": LABELS.get(record_type, record_type),
            "recordtypeid": record_type.lower(), "deleteddate": deleted_at, "name": name,
            "context": "Web Services", "iscustomrecord": "T" if record_type.startswith("customrecord") else "F"}
