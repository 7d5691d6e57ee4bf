"""Record types read whole through SuiteQL, and how a row becomes the record the record service would return.

A record with flat fields (an entity: a customer, a project) is read with its delta query: one SuiteQL page of a
thousand rows instead of a thousand record GETs, each of which the account's concurrency limit (5 to 15
requests at once, shared with every other integration) would otherwise meter. References come as ids, list and
reference names through ``BUILTIN.DF``, dates through ``TO_CHAR``, the default billing address through a join
to ``EntityAddress``. The row is rebuilt into the shape of the record service's record (the same field names,
references as ``{"id": ...}``, names as ``{"refName": ...}``, the address book's default billing address), so
one mapping serves both and a webhook's record maps as a pulled one does. Transactions keep their item
sublists in another table, one row per line: they are still fetched from the record service.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

DATE = "'YYYY-MM-DD'"


@dataclass(frozen=True)
class Column:
    """A record field read from one SuiteQL expression over the record's table."""

    field: str  # the record service's field name
    column: str  # the SuiteQL column it comes from
    kind: str = "text"  # text | bool ('T'/'F') | ref (an internal id) | name (BUILTIN.DF) | date (TO_CHAR)

    @property
    def alias(self) -> str:
        return self.field.lower()

    def expression(self, table: str) -> str:
        qualified = f"{table}.{self.column}"
        if self.kind == "name":
            return f"BUILTIN.DF({qualified})"
        if self.kind == "date":
            return f"TO_CHAR({qualified}, {DATE})"
        return qualified

    def value(self, text: str) -> Any:
        if self.kind == "bool":
            return text == "T"
        if self.kind == "ref":
            return {"id": text}
        if self.kind == "name":
            return {"refName": text}
        return text


# The default billing address: EntityAddress joined on the entity's ``defaultbillingaddress``.
ADDRESS_ALIAS = "billing"
ADDRESS = (Column("addressee", "addressee"), Column("addr1", "addr1"), Column("addr2", "addr2"),
           Column("city", "city"), Column("state", "state"), Column("zip", "zip"), Column("country", "country", "ref"))


@dataclass(frozen=True)
class WholeRead:
    """How one record type is read whole: its columns, and whether its default billing address comes too."""

    columns: tuple[Column, ...]
    billing_address: bool = False

    def select(self, table: str) -> str:
        """The select list and joins after ``id`` and the stamp column (``FROM <table>`` included)."""
        parts = [f"{c.expression(table)} AS {c.alias}" for c in self.columns]
        joins = ""
        if self.billing_address:
            parts += [f"{ADDRESS_ALIAS}.{c.column} AS {ADDRESS_ALIAS}_{c.alias}" for c in ADDRESS]
            joins = (f" LEFT JOIN entityaddress {ADDRESS_ALIAS} ON {ADDRESS_ALIAS}.nkey = "
                     f"{table}.defaultbillingaddress")
        return ", ".join(parts) + f" FROM {table}{joins}"

    def record(self, row: Mapping[str, str], record_id: str, modified: str | None) -> dict[str, Any]:
        """The row as the record service's record (empty columns are absent from a SuiteQL item, and so here)."""
        record: dict[str, Any] = {"id": record_id}
        for column in self.columns:
            if column.alias in row:
                record[column.field] = column.value(row[column.alias])
        if modified:
            record["lastModifiedDate"] = modified
        if self.billing_address:
            address = {c.field: c.value(row[f"{ADDRESS_ALIAS}_{c.alias}"]) for c in ADDRESS
                       if f"{ADDRESS_ALIAS}_{c.alias}" in row}
            if address:
                record["addressBook"] = {"items": [{"defaultBilling": True, "addressBookAddress": address}]}
        return record


_ENTITY = (Column("entityId", "entityid"), Column("companyName", "companyname"), Column("parent", "parent", "ref"),
           Column("currency", "currency", "name"), Column("isInactive", "isinactive", "bool"),
           Column("externalId", "externalid"))

#: Record type -> how it is read whole. Types not here are fetched record by record after their delta query.
WHOLE: dict[str, WholeRead] = {
    "customer": WholeRead((*_ENTITY, Column("url", "url"), Column("vatRegNumber", "vatregnumber"),
                           Column("subsidiary", "subsidiary", "ref")), billing_address=True),
    "job": WholeRead((*_ENTITY, Column("entityStatus", "entitystatus", "name"), Column("jobType", "jobtype", "name"),
                      Column("jobBillingType", "jobbillingtype", "name"),
                      Column("projectManager", "projectmanager", "name"), Column("startDate", "startdate", "date"),
                      Column("projectedEndDate", "projectedenddate", "date"))),
}
