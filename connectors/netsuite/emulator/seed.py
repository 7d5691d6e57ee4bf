"""The emulator's records: the demo's NetSuite copies, and how they look as SuiteQL table rows.

Most SuiteQL tables are a record type's records, a row each. ``entityaddress`` is not a record type: its rows
are the address book items of customers and projects, each keyed by an ``nkey`` that the entity's
``defaultbillingaddress`` / ``defaultshippingaddress`` columns hold.
"""

from __future__ import annotations

from collections.abc import Container, Iterator
from datetime import UTC, datetime
from typing import Any

from canonical.demo import generate
from canonical.demo.records import SourceCopy
from connectors.netsuite.emulator.suiteql import Reference
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
# SuiteQL tables made of records' sublist items -> the record types whose items they are.
ADDRESSED = ("customer", "job")
DERIVED = {"entityaddress": ADDRESSED}
ADDRESS_COLUMNS = frozenset({"nkey", "recordowner", "addressee", "addr1", "addr2", "addr3", "city", "state", "zip",
                             "country", "attention", "addrphone"})
_ADDRESS_FIELDS = ADDRESS_COLUMNS - {"nkey", "recordowner"}  # the columns an address item's fields give
DEFAULT_ADDRESSES = frozenset({"defaultbillingaddress", "defaultshippingaddress"})
#: The columns a table has whatever its records hold: a query may name them though every row leaves them empty.
COLUMNS = {"entityaddress": ADDRESS_COLUMNS, "customer": DEFAULT_ADDRESSES, "job": DEFAULT_ADDRESSES}
# An address's nkey is its owner's internal id times this plus its place in the address book (from 1): unique in
# the account, as entities share one id sequence, and the same for the same item whenever the rows are rebuilt.
NKEY_SPAN = 1000


def ns_time(value: datetime) -> str:
    """A timestamp as the record service writes it (UTC, ``Z``)."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(value: str) -> datetime:
    """A timestamp as ``ns_time`` writes it. (``fromisoformat``, reading the ``Z`` as UTC itself: strptime, or
    even slicing the ``Z`` off and replacing the tzinfo, would cost more than the rest of a record's SuiteQL row.)"""
    if not value.endswith("Z"):
        raise ValueError(f"not a UTC timestamp: {value!r}")
    return datetime.fromisoformat(value)


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
    """A record field as a SuiteQL column value: references by id (or name), carrying the name for BUILTIN.DF,
    booleans T/F, numbers as text."""
    if isinstance(value, dict):
        if "items" in value:
            return None  # sublists are separate tables in SuiteQL
        record_id, name = value.get("id"), value.get("refName")
        if record_id and name and name != record_id:
            return Reference(str(record_id), str(name))
        return record_id or name
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
        column = value if value.__class__ is str else _column(value)  # most fields are text: no checks for them
        if column is not None and key not in ("links",):
            row[name] = column
    row["id"] = int(record["id"])
    row["lastmodifieddate"] = parse_time(record["lastModifiedDate"])
    row["externalid"] = record.get("externalId")
    if record_type in ADDRESSED and (columns is None or any(c in columns for c in DEFAULT_ADDRESSES)):
        row.update((k, v) for k, v in _default_addresses(record).items() if columns is None or k in columns)
    if record_type in TRANSACTION_TYPES:
        row["type"] = TRANSACTION_TYPES[record_type]
        row["recordtype"] = record_type.lower()
    return row


def table_columns(record_type: str, table: Table) -> set[str]:
    """The columns a record type's records give their SuiteQL table: every field they have had, an empty one too
    (the column is there though no row has a value in it), but sublists (tables of their own); and those every
    row is given."""
    columns = {"id", "lastmodifieddate", "externalid", *COLUMNS.get(TABLES[record_type], ())}
    if record_type in TRANSACTION_TYPES:
        columns |= {"type", "recordtype"}
    columns.update(key.lower() for key, sublist in table.fields.items() if key != "links" and not sublist)
    return columns


def _address_book(record: dict[str, Any]) -> list[dict[str, Any]]:
    return (record.get("addressBook") or {}).get("items") or []


def nkey(record_id: str, position: int) -> int:
    """The nkey of the address at ``position`` (from 0) of a record's address book."""
    return int(record_id) * NKEY_SPAN + position + 1


def _default_addresses(record: dict[str, Any]) -> dict[str, int]:
    """An entity's default address columns: the nkeys of the items flagged default billing / shipping. Billing
    falls back to the first item, as the hub reads a record's billing address; shipping stays empty."""
    items = _address_book(record)
    if not items:
        return {}
    billing = shipping = None
    for n, item in enumerate(items):
        if billing is None and item.get("defaultBilling"):
            billing = n
        if shipping is None and item.get("defaultShipping"):
            shipping = n
    out = {"defaultbillingaddress": nkey(record["id"], billing or 0)}
    if shipping is not None:
        out["defaultshippingaddress"] = nkey(record["id"], shipping)
    return out


def address_rows(record: dict[str, Any]) -> list[dict[str, Any]]:
    """An entity's EntityAddress rows, one per address book item: the address's fields as columns (``country``
    its code), ``nkey`` and ``recordowner`` (the entity's internal id)."""
    owner = int(record["id"])
    rows = []
    for position, item in enumerate(_address_book(record)):
        row: dict[str, Any] = {"nkey": nkey(record["id"], position), "recordowner": owner}
        for key, value in (item.get("addressBookAddress") or {}).items():
            name, column = key.lower(), value if value.__class__ is str else _column(value)
            if name in _ADDRESS_FIELDS and column is not None:
                row[name] = column
        rows.append(row)
    return rows


def deleted_row(record_type: str, record_id: str, name: str, deleted_at: datetime) -> dict[str, Any]:
    """A DeletedRecord row."""
    return {"recordid": int(record_id), "type": LABELS.get(record_type, record_type),
            "recordtypeid": record_type.lower(), "deleteddate": deleted_at, "name": name,
            "context": "Web Services", "iscustomrecord": "T" if record_type.startswith("customrecord") else "F"}
