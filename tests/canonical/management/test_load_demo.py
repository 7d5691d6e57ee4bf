"""The demo book of business: deterministic, loaded once, every golden record seen by two platforms."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.db.models import Count

from canonical.choices import ContractKind, RevenueEventKind
from canonical.demo import generate
from canonical.models import ChangeEvent, Client, Contract, Engagement, Milestone, RevenueEvent, SourceRecord
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
