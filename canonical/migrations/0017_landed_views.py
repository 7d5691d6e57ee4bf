"""A partial index of the landed match views (not placed yet): whether any are left, asked at the end of every pull."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('canonical', '0016_schedule_match_claims_prune'),
    ]

    operations = [
        migrations.AddIndex(
            model_name='matchrecord',
            index=models.Index(condition=models.Q(('golden_record_id__isnull', True), ('is_active', False)), fields=['entity_type'], name='match_landed'),
        ),
    ]
