"""Revenue events are facts: the database itself refuses to change or delete one."""

from django.db import migrations

TRIGGER = """
CREATE OR REPLACE FUNCTION canonical_revenue_event_immutable() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'revenue event % is immutable and cannot be deleted', OLD.golden_id
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF (NEW.idempotency_key, NEW.kind, NEW.amount, NEW.currency, NEW.occurred_on, NEW.period)
       IS DISTINCT FROM
       (OLD.idempotency_key, OLD.kind, OLD.amount, OLD.currency, OLD.occurred_on, OLD.period) THEN
        RAISE EXCEPTION 'revenue event % is immutable: record a new event instead', OLD.golden_id
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END;
$$;
CREATE TRIGGER canonical_revenue_event_immutable
    BEFORE UPDATE OR DELETE ON canonical_revenueevent
    FOR EACH ROW EXECUTE FUNCTION canonical_revenue_event_immutable();
"""

REVERSE = """
DROP TRIGGER IF EXISTS canonical_revenue_event_immutable ON canonical_revenueevent;
DROP FUNCTION IF EXISTS canonical_revenue_event_immutable();
"""


class Migration(migrations.Migration):
    dependencies = [("canonical", "0002_initial")]
    operations = [migrations.RunSQL(TRIGGER, REVERSE)]
