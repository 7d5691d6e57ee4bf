from django.apps import AppConfig
from django.db.backends.signals import connection_created


class HubConfig(AppConfig):
    name = "hub"
    verbose_name = "Hub"

    def ready(self) -> None:
        from simple_history.signals import pre_create_historical_record

        import hub.db  # noqa: F401 (registers the ``__any`` lookup)
        from hub.models import set_history_context

        pre_create_historical_record.connect(set_history_context, dispatch_uid="hub.history_context")
        _lists_travel_binary()
        connection_created.connect(hub.db.timestamps_read_natively, dispatch_uid="hub.timestamps_read_natively")


def _lists_travel_binary() -> None:
    """Send list parameters (the arrays of a bulk insert's UNNEST, of ``rows_update``, of ``= ANY(...)``) in
    PostgreSQL's binary array format. The text format escapes every quote of every JSON document in Python, one
    regex substitution each: ten times slower than the statement it feeds on pages of thousands of rows."""
    import psycopg
    from psycopg.types.array import ListBinaryDumper

    psycopg.adapters.register_dumper(list, ListBinaryDumper)
