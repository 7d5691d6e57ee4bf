"""Replay dead letters: ``manage.py replay --all`` or ``--system salesforce`` or delivery ids."""

from django.core.management.base import BaseCommand, CommandError

from connectors.models import Delivery, DeliveryStatus
from connectors.services.outbound import deliveries_replay


class Command(BaseCommand):
    help = "Give dead-lettered deliveries another run of attempts (relayed as soon as this commits)."

    def add_arguments(self, parser):
        parser.add_argument("ids", nargs="*", help="Delivery ids.")
        parser.add_argument("--system", help="Every dead letter of this connected system.")
        parser.add_argument("--all", action="store_true", help="Every dead letter.")

    def handle(self, *args, ids: list[str], system: str | None, all: bool, **options):  # noqa: A002
        if not (ids or system or all):
            raise CommandError("name delivery ids, --system KEY or --all")
        dead = Delivery.objects.filter(status=DeliveryStatus.DEAD)
        if ids:
            dead = dead.filter(pk__in=ids)
        if system:
            dead = dead.filter(subscription__system__key=system)
        count = deliveries_replay(deliveries=dead, actor="manage.py replay")
        self.stdout.write(f"{count} dead letter(s) replayed")
