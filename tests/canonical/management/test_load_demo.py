"""The demo book of business: deterministic, loaded once, every golden record seen by two platforms."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.db.models import Count, F

from canonical.choices import ContractKind, RevenueEventKind
from canonical.demo import generate
from canonical.models import (
    ChangeEvent,
    Client,
    Contract,
    Engagement,
    MatchRecord,
    Milestone,
    RevenueEvent,
    SourceRecord,
)
from canonical.registry import MODELS


def test_generator_is_deterministic():
    assert generate(seed=7, clients=6) == generate(seed=7, clients=6)
    assert generate(seed=7, clients=6) != generate(seed=8, clients=6)


@pytest.mark.django_db
def test_load_demo_builds_a_consistent_book_once():
    out = StringIO()
    call_command("load_demo", "--clients", "8", stdout=out)
    counts = {m: m.objects.count() for m in (Client, Engagement, Milestone, Contract, RevenueEvent)}
    again = StringIO()
    call_command("load_demo", "--clients", "8", stdout=again)

    assert "demo data loaded" in out.getvalue()
    assert again.getvalue().strip() == "demo data already loaded"
    assert counts == {m: m.objects.count() for m in counts}
    assert counts[Client] == 8 and counts[Engagement] >= 8 and counts[Milestone] >= counts[Engagement]
    assert set(Contract.objects.values_list("kind", flat=True)) == set(ContractKind.values)
    assert set(RevenueEvent.objects.values_list("kind", flat=True)) == set(RevenueEventKind.values)
    for entity_type, model in MODELS.items():
        per_record = (
            SourceRecord.objects.filter(entity_type=entity_type)
            .values("golden_record_id").annotate(systems=Count("system", distinct=True))
        )
        assert per_record.count() == model.objects.count(), entity_type
        assert min(r["systems"] for r in per_record) >= 2, entity_type
    assert not SourceRecord.objects.filter(golden_record_id__isnull=True).exists()
    assert ChangeEvent.objects.count() == sum(counts.values())
    # Each copy's history: staged, then attached to its golden record; each matched one indexed with it.
    history = SourceRecord.history.model.objects
    sources = SourceRecord.objects.count()
    assert history.filter(history_type="+", history_change_reason="demo data").count() == sources
    assert history.filter(history_type="~", history_change_reason__startswith="attached to ").count() == sources
    views = MatchRecord.objects.filter(is_active=True, source_record__golden_record_id=F("golden_record_id"))
    assert views.count() == SourceRecord.objects.exclude(entity_type="revenue_event").count()
