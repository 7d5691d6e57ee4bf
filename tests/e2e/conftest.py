"""End to end with real workers: both platform emulators served over HTTP, the hub's connected systems,
streams and subscriptions pointed at them, and Celery worker subprocesses consuming every queue against
the test database and a Redis database of their own.

The emulators run in the test process, so a test reads their stores directly: what a platform holds is
counted there, not inferred from the hub. Workers log JSON lines to a file; a task's outcome is read from
that log (tasks keep no results), and everything else is polled in the database with a deadline.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from wsgiref.simple_server import make_server

import pytest
import redis
from django.conf import settings
from django.db import connection
from kombu import Connection

from canonical.models import ConnectedSystem
from connectors.emulators import EMULATORS, QuietHandler, ThreadingServer
from connectors.models import Stream, Subscription
from connectors.netsuite.emulator import Emulator as NetSuiteEmulator
from connectors.netsuite.emulator import make_app as netsuite_app
from connectors.salesforce.emulator import Emulator as SalesforceEmulator
from connectors.salesforce.emulator import make_app as salesforce_app
from connectors.services.streams import streams_ensure
from hub import embedded
from hub.celery import QUEUES

ROOT = Path(__file__).resolve().parents[2]
SEED = 42
TIMEOUT_S = 90
# The last word Celery logs of a task: "Task <name>[<id>] succeeded in 0.1s: 3", "... retry: ...", "... raised ...".
OUTCOMES = ("succeeded", "retry", "raised", "failed", "rejected", "ignored")

# What each platform receives of a golden client. Parent links are left out: a golden record's parent is the
# hub's id, which the platforms' mappings do not translate into the platform's own id.
SALESFORCE_FIELDS = ["legal_name", "display_name", "website_domain", "industry", "country", "billing_street",
                     "billing_city", "billing_postcode", "billing_country", "currency"]
NETSUITE_FIELDS = ["legal_name", "website_domain", "tax_id", "country", "billing_street", "billing_city",
                   "billing_postcode", "billing_country", "currency"]


def wait_for(condition: Callable[[], Any], *, what: str, timeout: float = TIMEOUT_S, every: float = 0.1) -> Any:
    """Poll ``condition`` until it returns something truthy (returned), or fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(every)


# --- the platforms ---------------------------------------------------------------------------------------

def clients_with_overlap(clients: int) -> tuple[SalesforceEmulator, NetSuiteEmulator]:
    """Both platforms seeded with the demo's clients (and nothing else): of every three clients, the first
    is only in NetSuite, the second only in Salesforce, the third in both, as each team keeps its own book."""
    salesforce, netsuite = salesforce_app(seed=SEED, clients=clients), netsuite_app(seed=SEED, clients=clients)
    for store, kept in ((salesforce.store, "Account"), (netsuite.store, "customer")):
        for object_type, records in store.items():
            if object_type != kept:
                records.clear()
    accounts, customers = list(salesforce.store["Account"]), list(netsuite.store["customer"])
    for index, (account, customer) in enumerate(zip(accounts, customers, strict=True)):
        if index % 3 == 0:
            del salesforce.store["Account"][account]
        elif index % 3 == 1:
            del netsuite.store["customer"][customer]
    return salesforce, netsuite


@dataclass
class Platforms:
    salesforce: SalesforceEmulator
    netsuite: NetSuiteEmulator
    systems: dict[str, ConnectedSystem]

    def stream(self, system: str, object_type: str) -> Stream:
        return Stream.objects.get(system=self.systems[system], object_type=object_type)

    def streams(self) -> list[Stream]:
        return list(Stream.objects.filter(system__in=self.systems.values()))


@pytest.fixture
def serve() -> Iterator[Callable[[Callable], str]]:
    """``base_url = serve(app)``: the WSGI app answers real HTTP on a free local port until the test ends."""
    servers = []

    def start(app: Callable) -> str:
        server = make_server("127.0.0.1", 0, app, server_class=ThreadingServer, handler_class=QuietHandler)
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_port}"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


@pytest.fixture
def make_platforms(transactional_db, serve, monkeypatch) -> Callable[..., Platforms]:
    """``make_platforms(clients=24, netsuite_page_size=None, subscribe=False)``: both emulators served, their
    connected systems, every inbound stream and, with ``subscribe``, a client subscription each, so each platform
    receives the other's clients (the relay runs as soon as a pull commits)."""
    for spec in EMULATORS.values():
        for name, value in spec.environment.items():
            monkeypatch.setenv(name, value)

    def make(*, clients: int = 24, netsuite_page_size: int | None = None, subscribe: bool = False) -> Platforms:
        salesforce, netsuite = clients_with_overlap(clients)
        netsuite_config = {**EMULATORS["netsuite"].config}
        if netsuite_page_size:
            netsuite_config["page_size"] = netsuite_page_size
        systems = {
            "salesforce": ConnectedSystem.objects.create(
                key="salesforce", kind="salesforce", name="Salesforce", base_url=serve(salesforce),
                config=EMULATORS["salesforce"].config),
            "netsuite": ConnectedSystem.objects.create(
                key="netsuite", kind="netsuite", name="NetSuite", base_url=serve(netsuite), config=netsuite_config),
        }
        if subscribe:
            Subscription.objects.create(system=systems["salesforce"], entity_type="client", object_type="Account",
                                        fields=SALESFORCE_FIELDS)
            Subscription.objects.create(system=systems["netsuite"], entity_type="client", object_type="customer",
                                        fields=NETSUITE_FIELDS)
        for system in systems.values():
            streams_ensure(system=system)
        return Platforms(salesforce, netsuite, systems)

    return make


# --- the workers -----------------------------------------------------------------------------------------

def isolated_redis_url(base_url: str) -> str:
    """A Redis database of its own, so a developer's running worker cannot take this test's tasks."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    db = 10 + int(worker[2:] or 0)
    if base_url.startswith("unix://"):
        return base_url.split("?")[0] + f"?db={db}"
    return f"{base_url.rsplit('/', 1)[0]}/{db}"


@dataclass
class Worker:
    """A Celery worker subprocess (its own process group) and its JSON log."""

    process: subprocess.Popen
    log_path: Path

    def events(self) -> list[dict[str, Any]]:
        events = []
        for line in self.log_path.read_text(errors="replace").splitlines():
            if line.startswith("{"):
                try:
                    events.append(json.loads(line))
                except ValueError:
                    continue
        return events

    def messages(self) -> list[str]:
        return [str(e.get("event", "")) for e in self.events()]

    def pool_processes(self) -> list[int]:
        """The pids of the worker's pool processes (its children)."""
        pid = self.process.pid
        return [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]

    def kill(self) -> None:
        """SIGKILL the worker and its pool: no shutdown, no acknowledgement, as a crash or an OOM kill."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(30)

    def stop(self) -> None:
        if self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(20)
        except subprocess.TimeoutExpired:
            self.kill()


@dataclass
class Workers:
    """Starts workers on the test database and an isolated Redis database; sends them tasks."""

    env: dict[str, str]
    broker_url: str
    directory: Path
    started: list[Worker] = field(default_factory=list)

    def start(self, *, concurrency: int = 1, pool: str = "solo") -> Worker:
        name = f"e2e-{uuid.uuid4().hex[:8]}"
        log_path = self.directory / f"{name}.log"
        with log_path.open("w") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "celery", "-A", "hub", "worker", "-n", f"{name}@%h", "-Q", ",".join(QUEUES),
                 "--pool", pool, "--concurrency", str(concurrency), "--without-gossip", "--without-mingle",
                 "--without-heartbeat", "--loglevel", "INFO"],
                env=self.env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            )
        worker = Worker(process, log_path)
        self.started.append(worker)
        wait_for(lambda: self._ready(worker), what=f"worker {name} to be ready")
        return worker

    @staticmethod
    def _ready(worker: Worker) -> bool:
        if worker.process.poll() is not None:
            raise AssertionError(f"worker exited with {worker.process.returncode}:\n{worker.log_path.read_text()}")
        return any(message.endswith(" ready.") for message in worker.messages())

    def send(self, task: Any, *args: Any, **kwargs: Any) -> str:
        """Enqueue ``task`` on the workers' broker; returns its task id."""
        task_id = uuid.uuid4().hex
        with Connection(self.broker_url) as conn:
            task.apply_async(args=args, kwargs=kwargs, task_id=task_id, connection=conn)
        return task_id

    def outcome(self, task_id: str) -> str | None:
        """How the task ended (``succeeded``, ``retry``, ``raised``...) as a worker's log says, or None yet."""
        needle = f"[{task_id}] "
        for worker in self.started:
            for message in worker.messages():
                if message.startswith("Task ") and needle in message:
                    word = message.split(needle, 1)[1].split(" ", 1)[0].rstrip(":")
                    if word in OUTCOMES:
                        return word
        return None

    def wait(self, *task_ids: str, timeout: float = TIMEOUT_S) -> list[str]:
        """Wait until each task has an outcome in a worker's log; returns them (in the order given)."""
        return wait_for(lambda: (all(outcomes := [self.outcome(t) for t in task_ids]) and outcomes) or None,
                        what=f"tasks {', '.join(task_ids)} to finish", timeout=timeout, every=0.2)


@pytest.fixture
def workers(transactional_db, tmp_path) -> Iterator[Workers]:
    settings_dict = connection.settings_dict
    database_url = (f"postgresql://{settings_dict['USER']}@/{settings_dict['NAME']}"
                    f"?host={settings_dict['HOST'] or 'localhost'}&port={settings_dict['PORT'] or 5432}")
    redis_url = isolated_redis_url(settings.REDIS_URL)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "DJANGO_SETTINGS"))}
    env.update(DATABASE_URL=database_url, REDIS_URL=redis_url, SECRET_KEY="x" * 60, PYTHONPATH=str(ROOT),
               LOG_FORMAT="json", LOG_LEVEL="INFO")
    for spec in EMULATORS.values():
        env.update(spec.environment)
    broker = redis.Redis.from_url(redis_url)
    broker.flushdb()  # nothing left over from an earlier run (a killed worker's unacknowledged tasks)
    pool = Workers(env=env, broker_url=embedded.redis_url_to_broker(redis_url), directory=tmp_path)
    yield pool
    for worker in pool.started:
        worker.stop()
    broker.flushdb()
    broker.close()
