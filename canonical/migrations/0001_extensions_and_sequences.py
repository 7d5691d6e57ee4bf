"""PostgreSQL extensions for matching, and the sequences behind readable golden ids."""

from django.contrib.postgres.operations import CreateExtension
from django.db import migrations

SEQUENCES = ["client", "engagement", "milestone", "contract", "revenue_event"]

GOLDEN_ID_FUNCTION = """
CREATE OR REPLACE FUNCTION concord_golden_id(prefix text, seq text) RETURNS text
LANGUAGE sql VOLATILE AS $$
    SELECT prefix || '-' || lpad(v::text, greatest(6, length(v::text)), '0') FROM nextval(seq::regclass) AS v
$$;
"""


class Migration(migrations.Migration):
    initial = True
    dependencies = []

    operations = [
        CreateExtension("pg_trgm"),
        CreateExtension("unaccent"),
        CreateExtension("fuzzystrmatch"),
        migrations.RunSQL(
            [f"CREATE SEQUENCE IF NOT EXISTS canonical_{name}_golden_seq" for name in SEQUENCES],
            [f"DROP SEQUENCE IF EXISTS canonical_{name}_golden_seq" for name in SEQUENCES],
        ),
        migrations.RunSQL(GOLDEN_ID_FUNCTION, "DROP FUNCTION IF EXISTS concord_golden_id(text, text)"),
    ]
