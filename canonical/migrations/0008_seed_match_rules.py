"""The match rules every installation starts from (canonical/seeds/match_rules.json)."""

import json
from pathlib import Path

from django.db import migrations

SEED = Path(__file__).resolve().parent.parent / "seeds" / "match_rules.json"


def seed(apps, schema_editor):
    MatchConfiguration = apps.get_model("canonical", "MatchConfiguration")
    for entity_type, spec in json.loads(SEED.read_text()).items():
        MatchConfiguration.objects.get_or_create(entity_type=entity_type, defaults={"spec": spec})


class Migration(migrations.Migration):
    dependencies = [("canonical", "0007_history_reason_text")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
