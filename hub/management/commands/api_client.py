"""Manage the API clients of consuming systems: create (token printed once), list, rotate, scopes, disable."""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from hub.api import scopes as scope_names
from hub.api.clients import api_client_create, api_client_rotate, api_client_set_scopes
from hub.models import ApiClient


class Command(BaseCommand):
    help = "Manage API clients: create, list, rotate, scopes, disable, enable."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="Create a client and print its token (shown once).")
        create.add_argument("name")
        create.add_argument("--scope", action="append", default=[], help=f"One of {sorted(scope_names.ALL)} or '*'.")
        create.add_argument("--description", default="")
        sub.add_parser("list", help="List clients and their scopes.")
        rotate = sub.add_parser("rotate", help="Issue a new token; the old one stops working.")
        rotate.add_argument("name")
        set_scopes = sub.add_parser("scopes", help="Replace a client's scopes.")
        set_scopes.add_argument("name")
        set_scopes.add_argument("--scope", action="append", default=[])
        for action in ("disable", "enable"):
            sub.add_parser(action).add_argument("name")

    def _get(self, name: str) -> ApiClient:
        try:
            return ApiClient.objects.get(name=name)
        except ApiClient.DoesNotExist:
            raise CommandError(f"no API client named {name!r}") from None

    def handle(self, *args, action: str, **options):
        try:
            if action == "create":
                if not options["scope"]:
                    raise CommandError("give at least one --scope")
                client, token = api_client_create(
                    name=options["name"], scopes=options["scope"], description=options["description"]
                )
                self.stdout.write(f"created {client.name} with scopes {', '.join(client.scopes)}")
                self.stdout.write(f"token (shown once): {token}")
            elif action == "list":
                for client in ApiClient.objects.all():
                    state = "active" if client.is_active else "disabled"
                    self.stdout.write(f"{client.name}\t{client.token_prefix}\t{state}\t{','.join(client.scopes)}")
            elif action == "rotate":
                self.stdout.write(f"token (shown once): {api_client_rotate(client=self._get(options['name']))}")
            elif action == "scopes":
                client = api_client_set_scopes(client=self._get(options["name"]), scopes=options["scope"])
                self.stdout.write(f"{client.name}: {', '.join(client.scopes) or '(none)'}")
            else:
                client = self._get(options["name"])
                client.is_active = action == "enable"
                client.save(update_fields=["is_active"])
                self.stdout.write(f"{client.name}: {'active' if client.is_active else 'disabled'}")
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
