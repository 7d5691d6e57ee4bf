"""Candidate lookups through a b-tree of keys (MatchKey), kept by a trigger on the match views.

The GIN indexes on the views' key array and trigram name are dropped: every lookup now probes MatchKey, and
similar names are found by name keys (canonical.matching.blocking.name_keys), then compared in Python.
"""

import django.contrib.postgres.fields
from django.db import migrations, models

ROW_TRIGGER = """
CREATE FUNCTION canonical_matchkey_sync() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND NEW.is_active = OLD.is_active AND NEW.entity_type = OLD.entity_type
       AND NEW.block_keys = OLD.block_keys AND NEW.name_keys = OLD.name_keys THEN
        IF NEW.golden_record_id IS DISTINCT FROM OLD.golden_record_id THEN
            UPDATE canonical_matchkey SET golden_record_id = NEW.golden_record_id
             WHERE record_id = NEW.source_record_id;
        END IF;
        RETURN NULL;
    END IF;
    IF TG_OP <> 'INSERT' THEN
        DELETE FROM canonical_matchkey WHERE record_id = OLD.source_record_id;
    END IF;
    IF TG_OP <> 'DELETE' AND NEW.is_active THEN
        INSERT INTO canonical_matchkey (entity_type, key, record_id, golden_record_id)
        SELECT DISTINCT NEW.entity_type, k, NEW.source_record_id, NEW.golden_record_id
          FROM unnest(NEW.block_keys || NEW.name_keys) AS k;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER canonical_matchkey_sync AFTER INSERT OR UPDATE OR DELETE ON canonical_matchrecord
    FOR EACH ROW EXECUTE FUNCTION canonical_matchkey_sync();
"""

BACKFILL = """
INSERT INTO canonical_matchkey (entity_type, key, record_id, golden_record_id)
    SELECT DISTINCT m.entity_type, k, m.source_record_id, m.golden_record_id
      FROM canonical_matchrecord m CROSS JOIN LATERAL unnest(m.block_keys) AS k WHERE m.is_active;
"""

UNDO = """
DROP TRIGGER IF EXISTS canonical_matchkey_sync ON canonical_matchrecord;
DROP FUNCTION IF EXISTS canonical_matchkey_sync();
"""


def name_keys_fill(apps, schema_editor):
    from canonical.matching.blocking import name_keys

    views = apps.get_model("canonical", "MatchRecord").objects.exclude(name_key="")
    batch = []
    for view in views.iterator(chunk_size=2000):
        view.name_keys = name_keys(view.name_key)
        batch.append(view)
        if len(batch) == 2000:
            type(view).objects.bulk_update(batch, ["name_keys"])
            batch = []
    if batch:
        type(batch[0]).objects.bulk_update(batch, ["name_keys"])


class Migration(migrations.Migration):

    dependencies = [
        ('canonical', '0011_source_attribute_times'),
    ]

    operations = [
        migrations.CreateModel(
            name='MatchKey',
            fields=[
                ('id', models.BigAutoField(primary_key=True, serialize=False)),
                ('entity_type', models.CharField(max_length=32)),
                ('key', models.CharField(max_length=300)),
                ('record_id', models.UUIDField(help_text='the match view (its source record)')),
                ('golden_record_id', models.UUIDField(null=True)),
            ],
        ),
        migrations.RemoveIndex(
            model_name='matchrecord',
            name='match_block_keys',
        ),
        migrations.RemoveIndex(
            model_name='matchrecord',
            name='match_name_trgm',
        ),
        migrations.AddField(
            model_name='matchrecord',
            name='name_keys',
            field=django.contrib.postgres.fields.ArrayField(base_field=models.CharField(max_length=300), default=list, size=None),
        ),
        migrations.AddIndex(
            model_name='matchkey',
            index=models.Index(fields=['entity_type', 'key'], include=('record_id', 'golden_record_id'), name='matchkey_lookup'),
        ),
        migrations.AddIndex(
            model_name='matchkey',
            index=models.Index(fields=['record_id'], name='matchkey_record'),
        ),
        migrations.RunSQL(ROW_TRIGGER + BACKFILL, UNDO),
        migrations.RunPython(name_keys_fill, migrations.RunPython.noop),
    ]
