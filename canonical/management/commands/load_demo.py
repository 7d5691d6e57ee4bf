"""Load the deterministic demo book of business through the canonical services, once."""

import time
from collections.abc import Mapping, Sequence

from django.core.management.base import BaseCommand, CommandError
from django.db import models, transaction

from canonical.demo import DemoData, GoldenSpec, SourceCopy, generate
from canonical.models import ConnectedSystem, RevenueEvent, SourceRecord
from canonical.services.arrivals import Arrival, source_records_stage
from canonical.services.golden import golden_record_create
from canonical.services.rematch import match_records_rebuild, match_weights_train
from canonical.services.revenue import RevenueFact, revenue_event_record
from hub import correlation

REASON = "demo data"
# Demo revenue events carry this key prefix; none exist unless a demo load committed.
MARKER_PREFIX = "demo:"


class Command(BaseCommand):
    help = "Load demo clients, engagements, milestones, contracts and a year of revenue events (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("--seed", type=int, default=42, help="Seed of the generator (default 42).")
        parser.add_argument("--clients", type=int, default=50, help="Number of clients (default 50).")

    def handle(self, *args, **options):
        if RevenueEvent.objects.filter(idempotency_key__startswith=MARKER_PREFIX).exists():
            self.stdout.write("demo data already loaded")
            return
        if options["clients"] < 1:
            raise CommandError("--clients must be at least 1")
        started = time.monotonic()
        data = generate(seed=options["seed"], clients=options["clients"])
        with correlation.bind() as correlation_id, transaction.atomic():
            _load(data)
            # Index the demo for matching and learn its weights, so records arriving later match online.
            for entity_type in ("client", "engagement", "contract", "milestone"):
                match_records_rebuild(entity_type=entity_type)
                match_weights_train(entity_type=entity_type)
        self.stdout.write(
            f"demo data loaded (seed {options['seed']}): {len(data.systems)} systems, {len(data.clients)} clients, "
            f"{len(data.engagements)} engagements, {len(data.milestones)} milestones, {len(data.contracts)} contracts, "
            f"{len(data.revenue_events)} revenue events, {data.source_count} source records "
            f"in {time.monotonic() - started:.1f} s (correlation id {correlation_id})"
        )


def _load(data: DemoData) -> None:
    systems = {}
    for spec in data.systems:
        systems[spec.key], _ = ConnectedSystem.objects.get_or_create(
            key=spec.key, defaults={"kind": spec.kind, "name": spec.name, "base_url": spec.base_url, "enabled": True}
        )
    groups = (("client", data.clients), ("engagement", data.engagements), ("milestone", data.milestones),
              ("contract", data.contracts))
    copies = [(spec.entity_type, copy) for _, specs in groups for spec in specs for copy in spec.sources]
    copies += [("revenue_event", copy) for event in data.revenue_events for copy in event.sources]
    staged = _stage(systems, copies)
    golden = {group: _create(staged, specs) for group, specs in groups}
    for event in data.revenue_events:
        revenue_event_record(
            fact=RevenueFact(
                idempotency_key=event.idempotency_key, kind=event.kind, amount=event.amount,
                currency=event.currency, occurred_on=event.occurred_on, client=golden["client"][event.client],
                engagement=golden["engagement"].get(event.engagement),
                contract=golden["contract"].get(event.contract), milestone=golden["milestone"].get(event.milestone),
                source_system=systems[event.source_system], source_reference=event.source_reference,
                description=event.description,
            ),
            source_records=[staged[_key(copy)] for copy in event.sources],
            reason=REASON,
        )


def _create(staged: Mapping[tuple[str, str, str], SourceRecord],
            specs: Sequence[GoldenSpec]) -> dict[str, models.Model]:
    """Golden records in list order, so a record's references resolve to ones created before it."""
    return {spec.key: golden_record_create(entity_type=spec.entity_type, reason=REASON,
                                           source_records=[staged[_key(copy)] for copy in spec.sources])
            for spec in specs}


def _key(copy: SourceCopy) -> tuple[str, str, str]:
    return copy.system, copy.object_type, str(copy.external_id)


def _stage(systems: Mapping[str, ConnectedSystem], copies: Sequence[tuple[str, SourceCopy]]
           ) -> dict[tuple[str, str, str], SourceRecord]:
    """Every platform's copies staged a system at a time, in a few statements each (as a pull stages a page)."""
    by_system: dict[str, list[tuple[str, SourceCopy]]] = {}
    for entity_type, copy in copies:
        by_system.setdefault(copy.system, []).append((entity_type, copy))
    staged = {}
    for key, group in by_system.items():
        arrivals = [Arrival(copy.object_type, str(copy.external_id), entity_type, copy.attributes, copy.payload,
                            copy.modified_at) for entity_type, copy in group]
        results = source_records_stage(system=systems[key], arrivals=arrivals, reason=REASON)
        staged.update((_key(copy), result.source_record) for (_, copy), result in zip(group, results, strict=True))
    return staged
