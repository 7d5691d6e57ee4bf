"""Pull a connected system's streams now: ``manage.py sync salesforce [Account] [--full]``."""

from django.core.management.base import BaseCommand, CommandError

from canonical.models import ConnectedSystem
from connectors.errors import ConnectorError
from connectors.services.inbound import StreamBusy, stream_sync
from connectors.services.streams import streams_ensure


class Command(BaseCommand):
    help = "Pull a connected system's changes (all its objects, or one) into the hub, now."

    def add_arguments(self, parser):
        parser.add_argument("system", help="Connected system key, e.g. salesforce.")
        parser.add_argument("object", nargs="?", help="One object of that system, e.g. Account.")
        parser.add_argument("--full", action="store_true", help="Read everything, not only changes since the cursor.")

    def handle(self, *args, system: str, object: str | None, full: bool, **options):  # noqa: A002
        connected = ConnectedSystem.objects.filter(key=system).first()
        if connected is None:
            known = ", ".join(ConnectedSystem.objects.values_list("key", flat=True)) or "none"
            raise CommandError(f"no connected system {system!r} (known: {known})")
        try:
            streams = streams_ensure(system=connected)
        except LookupError as exc:
            raise CommandError(str(exc)) from exc
        if object:
            streams = [s for s in streams if s.object_type == object]
            if not streams:
                raise CommandError(f"{system} has no object {object!r} that the hub reads")
        failed = False
        for stream in streams:
            try:
                run = stream_sync(stream=stream, full=full)
            except StreamBusy as exc:
                self.stderr.write(str(exc))
                continue
            except ConnectorError as exc:
                self.stderr.write(f"{stream.object_type}: failed: {exc}")
                failed = True
                continue
            self.stdout.write(
                f"{stream.object_type}: {run.pages} pages, {run.received} received, {run.created} created, "
                f"{run.updated} updated, {run.unchanged} unchanged, {run.deleted} deleted "
                f"in {run.duration_s:.1f} s (cursor {run.cursor_after or stream.cursor or '-'})"
            )
        if failed:
            raise CommandError("some streams failed; their cursors stay at the last committed page")
