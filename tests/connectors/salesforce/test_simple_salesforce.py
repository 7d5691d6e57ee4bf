"""A stock Salesforce client, simple-salesforce, works against the emulator unchanged.

simple-salesforce always speaks https to the instance (it keeps only the host and port of ``instance_url``),
as every Salesforce org is served over TLS. So the emulator is served here over TLS too, with a certificate
made for 127.0.0.1, and the client is given a ``requests`` session that trusts it: the client's own
supported way to choose its HTTP session. The session id comes from the emulator's OAuth token endpoint,
asked over HTTP as any integration would.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import ssl
import threading
from collections.abc import Iterator
from pathlib import Path
from wsgiref.simple_server import make_server

import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from simple_salesforce import Salesforce, SalesforceMalformedRequest, SalesforceResourceNotFound

from connectors.emulators import QuietHandler, ThreadingServer
from connectors.salesforce.emulator import Emulator, make_app

from .conftest import FakeClock

API = "/services/data/v62.0"


def _certificate(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate (and its key) for 127.0.0.1, as PEM files."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                       critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = folder / "emulator.pem", folder / "emulator.key"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_file, key_file


@pytest.fixture
def org(tmp_path: Path, clock: FakeClock) -> Iterator[tuple[Emulator, str, Path]]:
    """An org of 60 demo clients (207 contracts) on the test's clock, served over TLS: (emulator, URL, cert)."""
    emulator = make_app(seed=42, clients=60, clock=clock)
    cert_file, key_file = _certificate(tmp_path)
    server = make_server("127.0.0.1", 0, emulator, server_class=ThreadingServer, handler_class=QuietHandler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    server.base_environ["HTTPS"] = "on"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield emulator, f"https://127.0.0.1:{server.server_port}", cert_file
    server.shutdown()
    server.server_close()


@pytest.fixture
def sf(org: tuple[Emulator, str, Path]) -> Iterator[Salesforce]:
    _, url, cert_file = org
    session = requests.Session()
    session.trust_env = False  # a CA bundle named in the environment would override the session's own
    session.verify = str(cert_file)
    token = session.post(f"{url}/services/oauth2/token", data={
        "grant_type": "client_credentials", "client_id": "concord-demo", "client_secret": "concord-demo-secret"},
        timeout=10)
    assert token.status_code == 200
    body = token.json()
    assert body["instance_url"] == url
    yield Salesforce(instance_url=body["instance_url"], session_id=body["access_token"], version="62.0",
                     session=session)
    session.close()


def test_query_and_query_all_follow_next_records_url(sf: Salesforce, org) -> None:
    emulator, _, _ = org
    contracts = sorted(emulator.store["Contract"])
    assert len(contracts) > 200

    first = sf.query("SELECT Id, Name FROM Account ORDER BY Id LIMIT 3")
    everything = sf.query_all("SELECT Id, SystemModstamp FROM Contract ORDER BY Id",
                              headers={"Sforce-Query-Options": "batchSize=200"})

    assert (first["totalSize"], first["done"]) == (3, True)
    assert [r["Id"] for r in first["records"]] == sorted(emulator.store["Account"])[:3]
    assert first["records"][0]["attributes"] == {"type": "Account",
                                                 "url": f"{API}/sobjects/Account/{first['records'][0]['Id']}"}
    assert (everything["totalSize"], everything["done"]) == (len(contracts), True)
    assert [r["Id"] for r in everything["records"]] == contracts
    paths = [r.path for r in emulator.requests_to("GET", f"{API}/query/")]
    assert paths[:2] == [f"{API}/query/"] * 2
    assert len(paths) == 3 and paths[2].endswith("-200")  # the second page, by its nextRecordsUrl


def test_upsert_by_external_id_get_update_and_errors(sf: Salesforce, org) -> None:
    emulator, _, _ = org
    accounts = len(emulator.store["Account"])

    created = sf.Account.upsert("Hub_Id__c/CL-000123", {"Name": "Acme", "Industry": "Consulting"})
    updated = sf.Account.upsert("Hub_Id__c/CL-000123", {"Industry": "Advisory"})
    (record_id,) = [i for i, r in emulator.store["Account"].items() if r["Hub_Id__c"] == "CL-000123"]
    fetched = sf.Account.get(record_id)
    renamed = sf.Account.update(record_id, {"Name": "Acme Group"})

    # Since API v46 an upsert that updates answers 200 with a body (201 when it creates).
    assert (created, updated, renamed) == (201, 200, 204)
    assert (fetched["Name"], fetched["Industry"], fetched["Hub_Id__c"]) == ("Acme", "Advisory", "CL-000123")
    assert fetched["attributes"]["type"] == "Account"
    assert emulator.store["Account"][record_id]["Name"] == "Acme Group"
    assert len(emulator.store["Account"]) == accounts + 1
    with pytest.raises(SalesforceResourceNotFound) as missing:
        sf.Account.get("001000000000000AAA")
    assert missing.value.content == [{"message": "The requested resource does not exist", "errorCode": "NOT_FOUND"}]
    batch = sf.restful("composite/sobjects/Account/Hub_Id__c", method="PATCH", data=json.dumps({
        "allOrNone": False, "records": [{"attributes": {"type": "Account"}, "Hub_Id__c": "CL-000124",
                                         "Name": "Beta"}]}))
    assert [(r["success"], r["created"]) for r in batch] == [(True, True)]


def test_deleted_records_limits_and_usage(sf: Salesforce, org, clock: FakeClock) -> None:
    emulator, _, _ = org
    gone = sorted(emulator.store["Account"])[3]
    start = clock()
    emulator.delete("Account", gone)
    clock.advance(60)

    deleted = sf.Account.deleted(start - dt.timedelta(days=1), clock() + dt.timedelta(minutes=5))
    with_deleted = sf.query_all("SELECT Id FROM Account WHERE IsDeleted = true", include_deleted=True)
    limits = sf.limits()

    assert deleted["deletedRecords"] == [{"id": gone, "deletedDate": "2026-11-20T09:00:00.000+0000"}]
    assert deleted["latestDateCovered"] == "2026-11-20T09:01:00.000+0000"
    assert [r["Id"] for r in with_deleted["records"]] == [gone]
    assert limits["DailyApiRequests"]["Max"] == 100000
    usage = sf.api_usage["api-usage"]
    assert (usage.used, usage.total) == (emulator.api_usage, 100000)


def test_count_queries_answer_the_number_of_rows_only(sf: Salesforce, org) -> None:
    emulator, _, _ = org
    accounts = emulator.store["Account"].values()
    gb = sum(1 for r in accounts if r.get("BillingCountry") == "United Kingdom" and not r["IsDeleted"])
    assert 0 < gb < len(emulator.store["Account"])

    every = sf.query("SELECT COUNT() FROM Account")
    some = sf.query("SELECT count() FROM Account WHERE BillingCountry = 'United Kingdom'")
    capped = sf.query("SELECT COUNT() FROM Account LIMIT 5")

    assert every == {"totalSize": len(emulator.store["Account"]), "done": True, "records": []}
    assert (some["totalSize"], some["records"]) == (gb, [])
    assert capped["totalSize"] == 5
    with pytest.raises(SalesforceMalformedRequest) as ordered:
        sf.query("SELECT COUNT() FROM Account ORDER BY Id")
    assert ordered.value.content[0]["errorCode"] == "MALFORMED_QUERY"
