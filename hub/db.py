"""Database helpers the ORM lacks."""

from __future__ import annotations

from collections.abc import Sequence

from django.contrib.postgres.fields import ArrayField
from django.db import connections, models, router


def rows_update(model: type[models.Model], rows: Sequence[models.Model], fields: Sequence[str]) -> int:
    """Write ``fields`` of many rows in one statement: what ``bulk_update`` does, as
    ``UPDATE ... FROM unnest(<one array per column>)``.

    ``bulk_update`` builds a ``CASE WHEN pk = ... THEN ...`` per row and field, whose compilation costs more than
    the update itself on pages of thousands of rows; here each column's values travel as one array parameter.
    Like ``bulk_update``, it sends no signals and sets no ``auto_now`` field. Array columns, which an array of
    arrays cannot carry, fall back to ``bulk_update``. Returns the number of rows updated."""
    if not rows:
        return 0
    meta = model._meta
    columns = [meta.get_field(name) for name in fields]
    if any(isinstance(field, ArrayField) for field in columns):
        return model._default_manager.bulk_update(rows, fields)
    connection = connections[router.db_for_write(model)]
    quote = connection.ops.quote_name
    pk = meta.pk
    params = [[pk.get_db_prep_value(row.pk, connection) for row in rows]]
    arrays = [f"%s::{pk.db_type(connection)}[]"]
    for field in columns:
        params.append([field.get_db_prep_save(getattr(row, field.attname), connection) for row in rows])
        arrays.append(f"%s::{field.db_type(connection)}[]")
    names = ["pk", *(f"c{i}" for i in range(len(columns)))]
    assignments = ", ".join(f"{quote(field.column)} = v.c{i}" for i, field in enumerate(columns))
    sql = (f"UPDATE {quote(meta.db_table)} AS t SET {assignments} "  # noqa: S608 (names from the model only)
           f"FROM unnest({', '.join(arrays)}) AS v({', '.join(names)}) WHERE t.{quote(pk.column)} = v.pk")
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount
