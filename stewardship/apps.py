from django.apps import AppConfig
from django.db.models.signals import post_migrate


class StewardshipConfig(AppConfig):
    name = "stewardship"
    verbose_name = "Stewardship"

    def ready(self) -> None:
        from stewardship.permissions import roles_sync

        # Sent for this app after the apps listed before it (whose permissions then exist) and its own.
        post_migrate.connect(roles_sync, sender=self, dispatch_uid="stewardship.roles_sync")
