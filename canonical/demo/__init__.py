"""Deterministic demo data: a consulting firm's book of business as its platforms would hold it.

Pure generation (no ORM, no clock, no global random): the same seed and size always give equal
output. ``canonical.management.commands.load_demo`` loads it through the canonical services.
"""

from __future__ import annotations

import random

from canonical.demo.clients import client_record, plan_clients
from canonical.demo.contracts import contract_record, plan_contracts
from canonical.demo.engagements import engagement_record, milestone_record, plan_engagements
from canonical.demo.events import revenue_events
from canonical.demo.platforms import PlatformIds
from canonical.demo.records import SYSTEMS, TODAY, DemoData, GoldenSpec, RevenueEventSpec, SourceCopy, SystemSpec

__all__ = ["TODAY", "DemoData", "GoldenSpec", "RevenueEventSpec", "SourceCopy", "SystemSpec", "generate"]


def generate(*, seed: int = 42, clients: int = 50) -> DemoData:
    """The demo for ``clients`` clients (about two engagements each), from ``seed``."""
    if clients < 1:
        raise ValueError("clients must be at least 1")
    rng = random.Random(seed)
    ids = PlatformIds(rng)
    client_plans = plan_clients(rng, ids, clients)
    by_key = {c.key: c for c in client_plans}
    engagement_plans = plan_engagements(rng, ids, client_plans)
    contract_plans = plan_contracts(rng, ids, client_plans, engagement_plans)
    return DemoData(
        systems=SYSTEMS,
        clients=tuple(client_record(rng, c, by_key.get(c.parent)) for c in client_plans),
        engagements=tuple(engagement_record(rng, e) for e in engagement_plans),
        milestones=tuple(milestone_record(rng, e, m) for e in engagement_plans for m in e.milestones),
        contracts=tuple(contract_record(rng, c) for c in contract_plans),
        revenue_events=tuple(revenue_events(rng, ids, engagement_plans, contract_plans)),
    )
