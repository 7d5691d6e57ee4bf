"""The emulators the demo runs answer on their own port, with the credentials the demo systems name."""

import threading

import httpx
import pytest

from connectors.emulators import EMULATORS, emulator_serve


@pytest.mark.parametrize(("name", "path"), [("salesforce", "/services/data/"),
                                            ("netsuite", "/services/rest/record/v1/customer/1")])
def test_emulator_serves_its_platform(name, path):
    server, url = emulator_serve(name, port=0, clients=3)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        response = httpx.get(url + path, timeout=10)
    finally:
        server.shutdown()
        server.server_close()

    # Salesforce lists its API versions without a token; NetSuite refuses a call without one.
    assert response.status_code == (200 if name == "salesforce" else 401)
    assert set(EMULATORS[name].config.values()) >= set(EMULATORS[name].environment)
