"""Operators' view of sync health: every stream, its last run, lag and errors; every system's circuit
breaker and outbound deliveries."""

from django.core.management.base import BaseCommand
from django.db.models import Count, Q
from django.utils import timezone

from canonical.models import ConnectedSystem
from connectors.models import BreakerState, DeliveryStatus, Stream


class Command(BaseCommand):
    help = ("Show every stream (last run, time since its last success, counts of the last run, last error) and "
            "every connected system's circuit breaker and deliveries.")

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
        self.stdout.write("")
        self.stdout.write(f"{'system':20} {'circuit':10} {'failures':>8} {'next probe':>10} {'pending':>8} "
                          f"{'held':>6} {'dead':>6}  last error")
        systems = ConnectedSystem.objects.select_related("circuit_breaker").annotate(
            pending=Count("subscriptions__deliveries",
                          filter=Q(subscriptions__deliveries__status=DeliveryStatus.PENDING)),
            held=Count("subscriptions__deliveries", filter=Q(subscriptions__deliveries__status=DeliveryStatus.HELD)),
            dead=Count("subscriptions__deliveries", filter=Q(subscriptions__deliveries__status=DeliveryStatus.DEAD)),
        )
        for system in systems:
            breaker = getattr(system, "circuit_breaker", None)
            state = breaker.state if breaker else BreakerState.CLOSED
            if breaker and breaker.throttled_until and breaker.throttled_until > now:
                state = f"{state}, throttled {(breaker.throttled_until - now).total_seconds():.0f}s"
            probe = (f"{max((breaker.next_probe_at - now).total_seconds(), 0):.0f}s"
                     if breaker and breaker.next_probe_at and breaker.state != BreakerState.CLOSED else "-")
            self.stdout.write(
                f"{system.key:20} {state:10} {breaker.consecutive_failures if breaker else 0:>8} {probe:>10} "
                f"{system.pending:>8} {system.held:>6} {system.dead:>6}  {(breaker.last_error if breaker else '')[:80]}"
            )
