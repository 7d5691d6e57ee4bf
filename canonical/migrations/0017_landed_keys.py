"""The landed match views (not placed yet) by block key, for the deliveries waiting on a placement."""

import django.contrib.postgres.indexes
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('canonical', '0016_schedule_match_claims_prune'),
    ]

    operations = [
        migrations.AddIndex(
            model_name='matchrecord',
            index=django.contrib.postgres.indexes.GinIndex(condition=models.Q(('golden_record_id__isnull', True), ('is_active', False)), fields=['block_keys'], name='match_landed_keys'),
        ),
    ]
