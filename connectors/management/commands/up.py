"""``make run``: prepare the database and demo, then run the platform emulators, web, worker and beat in
the foreground: the demo's Salesforce and NetSuite are emulated locally and synced by the worker on beat's
schedule.

Ctrl-C stops every process it started, including the embedded PostgreSQL and Redis when this
command is the one that started them.
"""

import os
import secrets
import signal
import subprocess
import sys
import time

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand

from canonical.models import ConnectedSystem
from connectors.emulators import EMULATORS
from connectors.models import Subscription
from connectors.services.streams import streams_ensure
from hub import embedded
from hub.api import scopes
from hub.api.clients import api_client_create
from hub.models import ApiClient

STEWARD = "steward"
DEMO_CLIENT = "demo-consumer"


class Command(BaseCommand):
    help = "Migrate, load the glossary and demo data, then run web server, Celery worker and beat."

    def add_arguments(self, parser):
        parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
        parser.add_argument("--no-demo", action="store_true", help="Skip loading demo data.")
        parser.add_argument("--demo-clients", type=int, default=50, help="Clients in the demo (default 50).")
        parser.add_argument("--prepare-only", action="store_true", help="Prepare, then exit without serving.")

    def handle(self, *args, **options):
        self._prepare(load_demo=not options["no_demo"], clients=options["demo_clients"])
        if options["prepare_only"]:
            return
        self._serve(options["host"], options["port"])

    def _prepare(self, *, load_demo: bool, clients: int) -> None:
        db = settings.DATABASES["default"]
        self.stdout.write(f"database: {db['NAME']} on {db['HOST'] or 'localhost'}"
                          f"{' (embedded)' if settings.EMBEDDED_DATABASE else ''}")
        self.stdout.write(f"redis:    {settings.REDIS_URL}{' (embedded)' if settings.EMBEDDED_REDIS else ''}")
        call_command("migrate", interactive=False, verbosity=0)
        call_command("load_glossary", stdout=self.stdout)
        if load_demo:
            call_command("load_demo", "--clients", str(clients), stdout=self.stdout)
        self._ensure_steward()
        self._ensure_demo_client()
        if load_demo:
            self._connect_emulators()

    def _connect_emulators(self) -> None:
        """Point the demo's connected systems at the local emulators and give them their streams."""
        for key, spec in EMULATORS.items():
            system = ConnectedSystem.objects.filter(key=key).first()
            if system is None:
                continue
            system.base_url = f"http://127.0.0.1:{spec.port}"
            system.config = {**system.config, **spec.config}
            system.save(update_fields=["base_url", "config"])
            streams = streams_ensure(system=system)
            objects = ", ".join(s.object_type for s in streams)
            self.stdout.write(f"{key}: emulated on {system.base_url}, streams {objects}")
            if spec.clients is not None:
                object_type, fields = spec.clients
                Subscription.objects.get_or_create(system=system, entity_type="client", object_type=object_type,
                                                   defaults={"fields": list(fields)})
                self.stdout.write(f"{key}: receives golden clients as {object_type} ({', '.join(fields)})")

    def _ensure_steward(self) -> None:
        users = get_user_model()
        if users.objects.filter(username=STEWARD).exists():
            self.stdout.write(f"steward login: {STEWARD} (password shown on first run; "
                              f"reset with `manage.py changepassword {STEWARD}`)")
            return
        password = secrets.token_urlsafe(12)
        users.objects.create_superuser(username=STEWARD, email="steward@example.com", password=password)
        self.stdout.write(self.style.SUCCESS(f"steward login created: {STEWARD} / {password}  (shown once)"))

    def _ensure_demo_client(self) -> None:
        if ApiClient.objects.filter(name=DEMO_CLIENT).exists():
            self.stdout.write(f"API client: {DEMO_CLIENT} (token shown on first run; "
                              f"`manage.py api_client rotate {DEMO_CLIENT}` for a new one)")
            return
        _, token = api_client_create(name=DEMO_CLIENT, scopes=list(scopes.ALL), description="Demo consuming system")
        self.stdout.write(self.style.SUCCESS(f"API client created: {DEMO_CLIENT}, token (shown once): {token}"))

    def _serve(self, host: str, port: int) -> None:
        python = sys.executable
        manage = str(settings.BASE_DIR / "manage.py")
        commands = {
            **{f"emulator-{key}": [python, manage, "emulator", key] for key in EMULATORS},
            "web": [python, manage, "runserver", f"{host}:{port}", "--noreload"],
            "worker": [python, "-m", "celery", "-A", "hub", "worker", "-Q", "default,inbound,match,outbound",
                       "--concurrency", "2", "--loglevel", "INFO", "--without-gossip", "--without-mingle"],
            "beat": [python, "-m", "celery", "-A", "hub", "beat", "--loglevel", "INFO"],
        }
        # The emulators' demo credentials, unless real ones are configured.
        demo_credentials = {k: v for spec in EMULATORS.values() for k, v in spec.environment.items()}
        env = {**demo_credentials, **os.environ, "LOG_FORMAT": os.environ.get("LOG_FORMAT", "console")}
        processes: dict[str, subprocess.Popen] = {}
        stopping = False

        def stop(signum=None, frame=None) -> None:
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        try:
            for name, command in commands.items():
                # Own process groups: Ctrl-C reaches this command only, and it stops the children in order.
                processes[name] = subprocess.Popen(command, env=env, cwd=settings.BASE_DIR, start_new_session=True)
            self.stdout.write(self.style.SUCCESS(
                f"Concord is up: http://{host}:{port}/admin/  http://{host}:{port}/api/docs/  (Ctrl-C stops all)"
            ))
            while not stopping:
                for name, process in processes.items():
                    if process.poll() is not None:
                        self.stderr.write(f"{name} exited with {process.returncode}; stopping the rest")
                        stopping = True
                time.sleep(0.5)
        finally:
            self._stop(processes)

    def _stop(self, processes: dict[str, subprocess.Popen]) -> None:
        for process in processes.values():
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + 15
        for process in processes.values():
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
        embedded.stop_started()
        self.stdout.write("stopped")
