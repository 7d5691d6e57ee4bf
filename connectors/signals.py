"""What the connectors do when something happens elsewhere in the hub."""

from django.db.models.signals import post_save
from django.dispatch import receiver

from connectors.services.relay import outbound_relay_on_commit


@receiver(post_save, sender="canonical.ChangeEvent", dispatch_uid="connectors.relay_golden_changes")
def golden_change_relayed_promptly(sender, instance, created: bool, **kwargs) -> None:
    """A golden record changed (a change event was written): relay it once its transaction commits."""
    if created:
        outbound_relay_on_commit()
