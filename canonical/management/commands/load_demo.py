"""Load the deterministic demo book of business through the canonical services, once."""

import time
from collections.abc import Mapping, Sequence

from django.core.management.base import BaseCommand, CommandError
from django.db import models, transaction

from canonical.demo import DemoData, GoldenSpec, SourceCopy, generate
from canonical.models import ConnectedSystem, RevenueEvent, SourceRecord
from canonical.services.golden import golden_record_create, source_record_stage
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
    golden = {
        group: _create(systems, specs)
        for group, specs in (
            ("client", data.clients), ("engagement", data.engagements), ("milestone", data.milestones),
            ("contract", data.contracts),
        )
    }
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
            source_records=[_stage(systems, "revenue_event", copy) for copy in event.sources],
            reason=REASON,
        )


def _create(systems: Mapping[str, ConnectedSystem], specs: Sequence[GoldenSpec]) -> dict[str, models.Model]:
    """Golden records in list order, so a record's references resolve to ones created before it."""
    created = {}
    for spec in specs:
        sources = [_stage(systems, spec.entity_type, copy) for copy in spec.sources]
        created[spec.key] = golden_record_create(entity_type=spec.entity_type, source_records=sources, reason=REASON)
    return created


def _stage(systems: Mapping[str, ConnectedSystem], entity_type: str, copy: SourceCopy) -> SourceRecord:
    return source_record_stage(
        system=systems[copy.system], object_type=copy.object_type, external_id=copy.external_id,
        entity_type=entity_type, attributes=copy.attributes, payload=copy.payload,
        source_modified_at=copy.modified_at, reason=REASON,
    ).source_record
