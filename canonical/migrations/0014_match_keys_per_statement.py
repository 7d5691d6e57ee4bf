"""MatchKey kept by statement-level triggers over transition tables instead of a trigger per row.

A page's match views are written in one statement; the row trigger then ran its own statements once per view
(in PL/pgSQL, each executed alone). Now each written statement costs one set-based insert, delete or update of
the keys, whatever its number of rows. Same keys, same rules: an active view holds one key row
per distinct block or name key; a view whose keys, activity or entity type change has its keys rewritten; one
whose golden record alone changes has it moved on its keys.
"""

import importlib

from django.db import migrations

# Undone, the keys are kept by the trigger per row of 0012 again.
ROW_TRIGGER = importlib.import_module("canonical.migrations.0012_match_keys").ROW_TRIGGER

FORWARD = """
DROP TRIGGER IF EXISTS canonical_matchkey_sync ON canonical_matchrecord;
DROP FUNCTION IF EXISTS canonical_matchkey_sync();

CREATE FUNCTION canonical_matchkey_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO canonical_matchkey (entity_type, key, record_id, golden_record_id)
    SELECT DISTINCT n.entity_type, k, n.source_record_id, n.golden_record_id
      FROM new_views n CROSS JOIN LATERAL unnest(n.block_keys || n.name_keys) AS k
     WHERE n.is_active;
    RETURN NULL;
END $$;

CREATE FUNCTION canonical_matchkey_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    WITH rekeyed AS (
        SELECT n.* FROM new_views n JOIN old_views o USING (source_record_id)
         WHERE (n.is_active, n.entity_type, n.block_keys, n.name_keys)
               IS DISTINCT FROM (o.is_active, o.entity_type, o.block_keys, o.name_keys)
    ), cleared AS (
        DELETE FROM canonical_matchkey k USING rekeyed r WHERE k.record_id = r.source_record_id
    )
    INSERT INTO canonical_matchkey (entity_type, key, record_id, golden_record_id)
    SELECT DISTINCT r.entity_type, k, r.source_record_id, r.golden_record_id
      FROM rekeyed r CROSS JOIN LATERAL unnest(r.block_keys || r.name_keys) AS k
     WHERE r.is_active;
    UPDATE canonical_matchkey k SET golden_record_id = n.golden_record_id
      FROM new_views n JOIN old_views o USING (source_record_id)
     WHERE k.record_id = n.source_record_id AND n.golden_record_id IS DISTINCT FROM o.golden_record_id
       AND (n.is_active, n.entity_type, n.block_keys, n.name_keys)
           IS NOT DISTINCT FROM (o.is_active, o.entity_type, o.block_keys, o.name_keys);
    RETURN NULL;
END $$;

CREATE FUNCTION canonical_matchkey_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM canonical_matchkey k USING old_views o WHERE k.record_id = o.source_record_id;
    RETURN NULL;
END $$;

CREATE TRIGGER canonical_matchkey_inserted AFTER INSERT ON canonical_matchrecord
    REFERENCING NEW TABLE AS new_views FOR EACH STATEMENT EXECUTE FUNCTION canonical_matchkey_inserted();
CREATE TRIGGER canonical_matchkey_updated AFTER UPDATE ON canonical_matchrecord
    REFERENCING OLD TABLE AS old_views NEW TABLE AS new_views
    FOR EACH STATEMENT EXECUTE FUNCTION canonical_matchkey_updated();
CREATE TRIGGER canonical_matchkey_deleted AFTER DELETE ON canonical_matchrecord
    REFERENCING OLD TABLE AS old_views FOR EACH STATEMENT EXECUTE FUNCTION canonical_matchkey_deleted();
"""

BACKWARD = """
DROP TRIGGER IF EXISTS canonical_matchkey_inserted ON canonical_matchrecord;
DROP TRIGGER IF EXISTS canonical_matchkey_updated ON canonical_matchrecord;
DROP TRIGGER IF EXISTS canonical_matchkey_deleted ON canonical_matchrecord;
DROP FUNCTION IF EXISTS canonical_matchkey_inserted();
DROP FUNCTION IF EXISTS canonical_matchkey_updated();
DROP FUNCTION IF EXISTS canonical_matchkey_deleted();

"""


class Migration(migrations.Migration):

    dependencies = [
        ("canonical", "0013_settle_indexes"),
    ]

    operations = [migrations.RunSQL(FORWARD, BACKWARD + ROW_TRIGGER)]
