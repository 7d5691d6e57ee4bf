"""Operators' view of sync health: every stream, its last run, lag and errors."""

from django.core.management.base import BaseCommand
from django.utils import timezone

from connectors.models import Stream


class Command(BaseCommand):
    help = "Show every stream: last run, time since its last success, counts of the last run, last error."

    def handle(self, *args, **options):
        now = timezone.now()
        self.stdout.write(f"{'stream':40} {'last run':20} {'lag':>10} {'received':>9} {'errors':>6}  last error")
        for stream in Stream.objects.select_related("system"):
            run = stream.runs.first()
            lag = f"{(now - stream.last_success_at).total_seconds():.0f}s" if stream.last_success_at else "never"
            self.stdout.write(
                f"{stream.system.key + ':' + stream.object_type + ' (' + stream.direction + ')':40} "
                f"{(run.started_at.strftime('%Y-%m-%d %H:%M:%S') + ' ' + run.status) if run else '-':20} "
                f"{lag:>10} {run.received if run else 0:>9} {run.errors if run else 0:>6}  "
                f"{stream.last_error[:80]}"
            )
