"""The platform emulators the demo and integration engineers run, and the demo credentials they accept.

Each emulator serves its platform's real URL shapes on a local port. The credentials below are the
emulators' own demo values, not secrets of any real system; connected systems read them from the
environment variables named in their config, like real credentials.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from connectors.netsuite.emulator import make_app as netsuite_app
from connectors.salesforce.emulator import make_app as salesforce_app


@dataclass(frozen=True)
class EmulatorSpec:
    factory: Callable
    port: int
    config: dict  # the connected system's config: which environment variables hold the credentials
    environment: dict = field(default_factory=dict)  # the demo values of those variables


EMULATORS: dict[str, EmulatorSpec] = {
    "salesforce": EmulatorSpec(
        salesforce_app, 8101,
        {"client_id_env": "SALESFORCE_CLIENT_ID", "client_secret_env": "SALESFORCE_CLIENT_SECRET"},
        {"SALESFORCE_CLIENT_ID": "concord-demo", "SALESFORCE_CLIENT_SECRET": "concord-demo-secret"},
    ),
    "netsuite": EmulatorSpec(
        netsuite_app, 8103,
        {"client_id_env": "NETSUITE_CLIENT_ID", "certificate_id_env": "NETSUITE_CERTIFICATE_ID",
         "private_key_env": "NETSUITE_PRIVATE_KEY"},
        {"NETSUITE_CLIENT_ID": "concord-demo", "NETSUITE_CERTIFICATE_ID": "concord-cert"},
    ),
}


class ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class QuietHandler(WSGIRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 (the stdlib's signature)
        pass


def emulator_serve(name: str, *, host: str = "127.0.0.1", port: int | None = None, seed: int = 42,
                   clients: int = 50) -> tuple[WSGIServer, str]:
    spec = EMULATORS[name]
    server = make_server(host, spec.port if port is None else port, spec.factory(seed=seed, clients=clients),
                         server_class=ThreadingServer, handler_class=QuietHandler)
    return server, f"http://{host}:{server.server_port}"
