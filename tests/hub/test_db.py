"""The bulk writes the ORM lacks: rows inserted and updated column by column, and their history rows."""

import datetime as dt
import json
import uuid
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import pytest
from django.core.serializers.json import DjangoJSONEncoder
from django.db import DataError, connection
from django.test.utils import CaptureQueriesContext
from psycopg.postgres import types
from psycopg.pq import Format

from canonical.models import ChangeEvent, Client, MatchRecord, SourceRecord
from hub import correlation
from hub.db import history_rows_insert, json_safe, rows_insert, rows_update
from tests.factories.canonical import SourceRecordFactory

AWKWARD = ['name=o"brien', "back\\slash", "comma, and {braces}", "NULL", "", "ünïcödé"]


def statements(change):
    with CaptureQueriesContext(connection) as captured:
        result = change()
    return len(captured.captured_queries), result


def view(source, keys, active=True):
    return MatchRecord(source_record=source, entity_type="client", values={"name": source.external_id},
                       block_keys=keys, name_key=source.external_id, name_keys=list(reversed(keys)),
                       is_active=active)


@pytest.mark.django_db
def test_rows_insert_writes_every_row_in_one_statement_array_values_included():
    sources = SourceRecordFactory.create_batch(3)
    views = [view(sources[0], AWKWARD), view(sources[1], []), view(sources[2], ["a"], active=False)]

    count, written = statements(lambda: rows_insert(MatchRecord, views))

    assert count == 1
    assert written == {s.pk for s in sources}
    stored = {v.pk: (v.block_keys, v.name_keys, v.values, v.is_active) for v in MatchRecord.objects.all()}
    assert stored == {v.pk: (v.block_keys, v.name_keys, v.values, v.is_active) for v in views}


@pytest.mark.django_db
def test_rows_insert_skips_or_updates_the_rows_a_unique_constraint_refuses():
    sources = SourceRecordFactory.create_batch(2)
    rows_insert(MatchRecord, [view(sources[0], ["old"])])

    again = [view(sources[0], ["new"]), view(sources[1], ["b"])]
    assert rows_insert(MatchRecord, again, ignore_conflicts=True) == {sources[1].pk}
    assert MatchRecord.objects.get(pk=sources[0].pk).block_keys == ["old"]

    upserted = rows_insert(MatchRecord, [view(sources[0], ["new", "x"])], unique_fields=["source_record"],
                           update_fields=["block_keys"])
    assert upserted == {sources[0].pk}
    assert MatchRecord.objects.get(pk=sources[0].pk).block_keys == ["new", "x"]


@pytest.mark.django_db
def test_rows_insert_reads_back_what_the_database_assigns():
    clients = [Client(legal_name=f"Firm {i} Ltd", country="GB", currency="GBP") for i in range(3)]
    rows_insert(Client, clients)

    stored = {c.pk: (c.golden_id, c.created_at) for c in Client.objects.all()}
    assert {c.pk: (c.golden_id, c.created_at) for c in clients} == stored
    assert len({c.golden_id for c in clients}) == 3 and all(c.golden_id.startswith("CL-") for c in clients)
    assert all(not c._state.adding for c in clients)

    events = [ChangeEvent(entity_type="client", record_id=c.pk, golden_id=c.golden_id, version=1,
                          operation="created", data={"n": i}) for i, c in enumerate(clients)]
    rows_insert(ChangeEvent, events)
    assert {e.pk: e.data for e in events} == {e.pk: e.data for e in ChangeEvent.objects.all()}


@pytest.mark.django_db
def test_rows_insert_refuses_to_guess_which_numbered_rows_a_conflict_skipped():
    event = ChangeEvent(entity_type="client", record_id=uuid.uuid4(), golden_id="CL-1", version=1, operation="created")
    with pytest.raises(ValueError, match="cannot be told apart"):
        rows_insert(ChangeEvent, [event], ignore_conflicts=True)


@pytest.mark.django_db
def test_history_rows_are_those_simple_history_writes_with_the_correlation_id_and_reasons():
    clients = [Client(legal_name=f"Firm {i} Ltd", country="GB", currency="GBP") for i in range(2)]
    rows_insert(Client, clients)
    clients[0]._change_reason = "pulled from netsuite"

    with correlation.bind("corr-123"):
        count, _ = statements(lambda: history_rows_insert(Client, clients))
        Client.history.bulk_history_create(clients, update=True, custom_historical_attrs={"correlation_id": "corr-123"})

    assert count == 1
    ours = Client.history.filter(history_type="+").order_by("legal_name")
    theirs = Client.history.filter(history_type="~").order_by("legal_name")
    fields = [f.attname for f in Client.history.model.tracked_fields] + [
        "history_change_reason", "history_user_id", "correlation_id", "actor"]
    assert [[getattr(h, f) for f in fields] for h in ours] == [[getattr(h, f) for f in fields] for h in theirs]
    assert [h.history_change_reason for h in ours] == ["pulled from netsuite", ""]
    assert {h.correlation_id for h in ours} == {"corr-123"}


@pytest.mark.django_db
def test_rows_update_writes_array_columns_too():
    sources = SourceRecordFactory.create_batch(2)
    views = [view(s, ["a"]) for s in sources]
    rows_insert(MatchRecord, views)
    views[0].block_keys, views[1].block_keys = AWKWARD, []

    count, updated = statements(lambda: rows_update(MatchRecord, views, ["block_keys"]))

    assert (count, updated) == (1, 2)
    assert {v.pk: v.block_keys for v in MatchRecord.objects.all()} == {v.pk: v.block_keys for v in views}


@pytest.mark.django_db
def test_values_of_other_types_than_the_field_s_own_are_prepared_as_the_orm_prepares_them():
    sources = SourceRecordFactory.create_batch(3)
    golden = uuid.uuid4()
    views = [view(s, ["k"]) for s in sources]
    # a golden record id as a UUID, as a string, and none; a name key that is not a string
    for row, golden_id, name in zip(views, [golden, str(golden), None], ["plain", 12345, "x"], strict=True):
        row.golden_record_id, row.name_key = golden_id, name
    rows_insert(MatchRecord, views)
    rows_update(MatchRecord, views, ["golden_record_id", "name_key"])

    stored = dict(MatchRecord.objects.values_list("pk", "golden_record_id"))
    assert [stored[s.pk] for s in sources] == [golden, golden, None]
    assert sorted(MatchRecord.objects.values_list("name_key", flat=True)) == ["12345", "plain", "x"]


@pytest.mark.django_db
def test_json_values_are_stored_as_the_orm_stores_them():
    """The rows travel as one JSON document: a JSON column's value must come out as ``.save()`` would write it,
    integer keys made strings and integers too big for 64 bits kept whole, and varchar values too long for their
    column cut as the array path cut them."""
    sources = SourceRecordFactory.create_batch(3)
    awkward = {1: "an integer key", "big": 2**70, "nested": {"list": [1, "two", None, 2.5]},
               "text": 'quote " backslash \\ and ünïcödé', "empty": {}}
    bulk = [view(sources[0], ["k"]), view(sources[1], ["k"])]
    bulk[0].values, bulk[1].values = awkward, "a bare string"
    rows_insert(MatchRecord, bulk)
    saved = view(sources[2], ["k"])
    saved.values = awkward
    saved.save()

    stored = dict(MatchRecord.objects.values_list("pk", "values"))
    assert stored[sources[0].pk] == stored[sources[2].pk] == {**{k: v for k, v in awkward.items() if k != 1},
                                                              "1": "an integer key"}
    assert stored[sources[1].pk] == "a bare string"

    bulk[1].values, bulk[1].name_key = ["a", None], "x" * 400  # the column is varchar(300)
    rows_update(MatchRecord, bulk, ["values", "name_key"])
    row = MatchRecord.objects.get(pk=sources[1].pk)
    assert (row.values, row.name_key) == (["a", None], "x" * MatchRecord._meta.get_field("name_key").max_length)


def test_json_safe_gives_what_a_json_field_reads_back():
    from django.utils.translation import gettext_lazy

    value = {
        "at": datetime(2026, 3, 4, 5, 6, 7, 891234, tzinfo=UTC), "naive": datetime(2026, 3, 4, 5, 6, 7),
        "day": date(2026, 3, 4), "time": time(5, 6, 7, 891234), "took": timedelta(hours=1, seconds=3),
        "amount": Decimal("1234.50"), "id": uuid.UUID("12345678-1234-5678-1234-567812345678"),
        "label": gettext_lazy("Client"), "nested": [{1: "one", None: "none", False: "no"}, (1.5, "é", None)],
        "big": 2**70, "float": 1e16,
    }
    assert json_safe(value) == json.loads(json.dumps(value, cls=DjangoJSONEncoder))
    assert json_safe(value)["at"] == "2026-03-04T05:06:07.891Z"
    with pytest.raises(TypeError):
        json_safe({"tags": {"a", "b"}})


@pytest.mark.django_db
def test_the_any_lookup_finds_the_rows_in_finds_in_one_array_parameter():
    sources = SourceRecordFactory.create_batch(5)
    views = [MatchRecord.objects.create(source_record=s, entity_type="client", values={}) for s in sources[:3]]
    wanted = [sources[0].pk, sources[2].pk, sources[4].pk, uuid.uuid4()]  # one unknown

    with CaptureQueriesContext(connection) as queries:
        by_pk = sorted(SourceRecord.objects.filter(pk__any=wanted).values_list("external_id", flat=True))
    by_relation = set(MatchRecord.objects.filter(pk__any=wanted).values_list("pk", flat=True))  # a one-to-one pk
    by_text = set(SourceRecord.objects.filter(external_id__any=[sources[1].external_id, "nope"])
                  .values_list("pk", flat=True))

    assert by_pk == sorted(SourceRecord.objects.filter(pk__in=wanted).values_list("external_id", flat=True))
    assert len(by_pk) == 3 and by_relation == {views[0].pk, views[2].pk} and by_text == {sources[1].pk}
    assert "= ANY(" in queries[0]["sql"] and len(queries[0]["sql"]) < 500  # the values travel as one parameter
    assert not SourceRecord.objects.filter(pk__any=[]).exists()


def test_timestamps_are_read_as_django_reads_them(db):
    """The connection's ``timestamptz`` loader parses PostgreSQL's ISO text natively: aware UTC values to the
    microsecond, whatever offset they were written with; values it does not parse fall back to Django's loader."""
    written = dt.datetime(2026, 3, 4, 5, 6, 7, 890123, tzinfo=dt.timezone(dt.timedelta(hours=5, minutes=30)))
    with connection.cursor() as cursor:
        cursor.execute("SELECT %s::timestamptz, '2026-03-04 05:06:07+00'::timestamptz, '1999-12-31 23:59:59.5-08'"
                       "::timestamptz", [written])
        precise, whole, negative = cursor.fetchone()
        loader = connection.connection.adapters.get_loader(types["timestamptz"].oid, Format.TEXT)

        assert loader.__name__ == "IsoTimestamptzLoader"
        assert (precise, precise.tzinfo) == (written, dt.UTC) and precise.microsecond == 890123
        assert whole == dt.datetime(2026, 3, 4, 5, 6, 7, tzinfo=dt.UTC)
        assert negative == dt.datetime(2000, 1, 1, 7, 59, 59, 500000, tzinfo=dt.UTC)
        with pytest.raises(DataError, match="after year 10K"):  # Django's loader's own answer
            cursor.execute("SELECT 'infinity'::timestamptz")
            cursor.fetchone()
