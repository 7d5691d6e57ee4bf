"""Indexes for the end of every pull: parked source records, golden records waiting for a reference."""

from django.db import migrations, models

GOLDEN_TABLES = ["canonical_client", "canonical_engagement", "canonical_milestone", "canonical_contract"]
# The end of every pull looks for golden records still waiting for a referenced record: a handful among many.
WAITING = "lineage @? '$.* ? (exists(@.unresolved))'"


class Migration(migrations.Migration):

    dependencies = [
        ('canonical', '0012_match_keys'),
    ]

    operations = [
        migrations.AddIndex(
            model_name='sourcerecord',
            index=models.Index(condition=models.Q(('golden_record_id__isnull', True), ('is_deleted', False)), fields=['system', 'first_seen_at'], name='source_record_parked'),
        ),
        migrations.RunSQL(
            [f"CREATE INDEX {table}_waiting ON {table} (id) WHERE {WAITING}" for table in GOLDEN_TABLES],
            [f"DROP INDEX IF EXISTS {table}_waiting" for table in GOLDEN_TABLES],
        ),
    ]
