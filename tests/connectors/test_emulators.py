"""The emulators the demo runs answer on their own port, with the credentials the demo systems name."""

import re
import subprocess
import sys
import threading
from pathlib import Path

import httpx
import pytest

from connectors.emulators import EMULATORS, emulator_serve
from connectors.salesforce.client import API_VERSION

ROOT = Path(__file__).resolve().parents[2]


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


def test_emulator_command_serves_hundreds_of_seeded_clients():
    """``manage.py emulator salesforce`` on its own: its printed URL and credentials let a plain HTTP client take a
    token and read the seeded accounts (300 by default)."""
    process = subprocess.Popen([sys.executable, "manage.py", "emulator", "salesforce", "--port", "0"],
                               cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = process.stdout.readline()
        found = re.search(r"on (http://\S+) \(seed 42, 300 clients\); credentials: (.*)$", line)
        assert found, line + process.stderr.read() if process.poll() is not None else line
        url, credentials = found.group(1), dict(pair.split("=") for pair in found.group(2).split(", "))
        token = httpx.post(f"{url}/services/oauth2/token", timeout=10, data={
            "grant_type": "client_credentials", "client_id": credentials["SALESFORCE_CLIENT_ID"],
            "client_secret": credentials["SALESFORCE_CLIENT_SECRET"]}).json()["access_token"]
        counted = httpx.get(f"{url}/services/data/{API_VERSION}/query", params={"q": "SELECT Id FROM Account"},
                            headers={"Authorization": f"Bearer {token}"}, timeout=10)
    finally:
        process.terminate()
        process.wait(timeout=10)
    assert counted.status_code == 200, counted.text
    assert counted.json()["totalSize"] == 300


def test_emulator_command_refuses_a_size_of_nothing():
    done = subprocess.run([sys.executable, "manage.py", "emulator", "netsuite", "--port", "0", "--clients", "0"],
                          cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode != 0
    assert "--clients must be at least 1" in done.stderr
