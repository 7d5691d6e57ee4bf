"""Run a platform emulator on its own, seeded, for a client or a script to talk to:
``manage.py emulator salesforce --port 8101``."""

from django.core.management.base import BaseCommand, CommandError

from connectors.emulators import EMULATORS, emulator_serve
from hub import memory


class Command(BaseCommand):
    help = "Serve a seeded local emulator of a platform's API (salesforce, netsuite) until interrupted."

    def add_arguments(self, parser):
        parser.add_argument("platform", choices=sorted(EMULATORS))
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, help="Default: the demo's port for that platform.")
        parser.add_argument("--seed", type=int, default=42)
        parser.add_argument("--clients", type=int, default=300,
                            help="Clients seeded (default 300), each with its engagements, contracts and revenue; "
                                 "the same companies, values differing, in both platforms' emulators.")

    def handle(self, *args, platform: str, host: str, port: int | None, seed: int, clients: int, **options):
        if clients < 1:
            raise CommandError("--clients must be at least 1")
        server, url = emulator_serve(platform, host=host, port=port, seed=seed, clients=clients)
        memory.collector_tune()  # it holds the platform's records for as long as it runs
        credentials = ", ".join(f"{k}={v}" for k, v in EMULATORS[platform].environment.items())
        self.stdout.write(f"{platform} emulator on {url} (seed {seed}, {clients} clients); credentials: {credentials}")
        self.stdout.flush()
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            server.server_close()
