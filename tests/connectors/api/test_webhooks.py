"""Webhooks: HMAC-SHA256 over "t.body" with a 300 s tolerance either way, secret rotation, raw storage,
202 at once, and one effect however often an event is delivered."""

import json
import time

import pytest

from canonical.models import Client, SourceRecord
from connectors.models import WebhookEvent
from connectors.salesforce.emulator import make_app
from connectors.services.webhooks import TOLERANCE_S, WebhookRefused, signature_header, signature_verify
from connectors.tasks import inbound_webhook_process_task
from tests.factories.canonical import ConnectedSystemFactory

SECRET = "whsec-test-1"


@pytest.fixture
def system(db, monkeypatch):
    monkeypatch.setenv("SF_HOOK_SECRET", SECRET)
    return ConnectedSystemFactory(key="salesforce", kind="salesforce", base_url="http://127.0.0.1:9",
                                  config={"webhook_secret_env": "SF_HOOK_SECRET"})


@pytest.fixture
def account():
    record = next(iter(make_app(seed=42, clients=3).store["Account"].values()))
    return {"attributes": {"type": "Account"}, **record}


def body(account, event_id="evt-1"):
    return json.dumps({"id": event_id, "object_type": "Account", "records": [account]}).encode()


def post(client, payload, header):
    return client.post("/hooks/salesforce/", data=payload, content_type="application/json",
                       HTTP_X_CONCORD_SIGNATURE=header)


def test_a_signed_event_is_stored_answered_202_and_applied_once(client, system, account,
                                                                django_capture_on_commit_callbacks):
    payload = body(account)

    with django_capture_on_commit_callbacks() as callbacks:
        first = post(client, payload, signature_header(SECRET, payload))
    with django_capture_on_commit_callbacks() as again:
        second = post(client, payload, signature_header(SECRET, payload))
    # What the queued task does (a worker runs it; tests/hub/test_worker.py proves the worker path).
    inbound_webhook_process_task(first.json()["event"])
    inbound_webhook_process_task(first.json()["event"])

    assert first.status_code == 202 and first.json()["duplicate"] is False
    assert second.status_code == 202 and second.json()["duplicate"] is True
    assert (len(callbacks), len(again)) == (1, 0)
    assert WebhookEvent.objects.get().status == "processed"
    assert SourceRecord.objects.get().external_id == account["Id"]
    assert Client.objects.count() == 1


@pytest.mark.parametrize("tamper", ["body", "secret", "old", "future", "missing", "garbled"])
def test_bad_signatures_are_refused_and_nothing_is_stored(client, system, account, tamper):
    payload = body(account)
    now = int(time.time())
    header = {
        "body": signature_header(SECRET, body(account, "evt-other")),
        "secret": signature_header("not-the-secret", payload),
        # well outside the tolerance, so the seconds the request takes cannot bring it back inside
        "old": signature_header(SECRET, payload, timestamp=now - TOLERANCE_S - 60),
        "future": signature_header(SECRET, payload, timestamp=now + TOLERANCE_S + 60),
        "missing": None,
        "garbled": "t=soon,v1=zz",
    }[tamper]

    response = client.post("/hooks/salesforce/", data=payload, content_type="application/json",
                           **({"HTTP_X_CONCORD_SIGNATURE": header} if header else {}))

    assert response.status_code == 401
    assert response["Content-Type"] == "application/problem+json"
    assert not WebhookEvent.objects.exists() and not SourceRecord.objects.exists()


def test_during_secret_rotation_either_signature_is_accepted(client, system, account,
                                                             django_capture_on_commit_callbacks):
    payload = body(account)
    old = signature_header("whsec-old", payload)
    new = signature_header(SECRET, payload).split(",")[1]

    with django_capture_on_commit_callbacks():
        response = post(client, payload, f"{old},{new}")

    assert response.status_code == 202


def test_unknown_system_unconfigured_secret_and_bad_bodies(client, system, account, monkeypatch,
                                                           django_capture_on_commit_callbacks):
    payload = body(account)
    not_json = b"{nope"

    with django_capture_on_commit_callbacks():
        assert post(client, payload, signature_header(SECRET, payload)).status_code == 202
    assert client.post("/hooks/sap/", data=payload, content_type="application/json").status_code == 404
    assert post(client, not_json, signature_header(SECRET, not_json)).status_code == 400
    wrong_shape = json.dumps({"id": "x"}).encode()
    assert post(client, wrong_shape, signature_header(SECRET, wrong_shape)).status_code == 400
    assert client.get("/hooks/salesforce/").status_code == 405
    monkeypatch.delenv("SF_HOOK_SECRET")
    assert post(client, payload, signature_header(SECRET, payload)).status_code == 404


@pytest.mark.parametrize("offset, accepted", [(-TOLERANCE_S, True), (TOLERANCE_S, True),
                                              (-TOLERANCE_S - 1, False), (TOLERANCE_S + 1, False)])
def test_the_tolerance_is_exactly_its_width_either_way(offset, accepted):
    payload = b'{"id": "evt-edge"}'
    now = 1_800_000_000
    header = signature_header(SECRET, payload, timestamp=now + offset)
    if accepted:
        assert signature_verify(secret=SECRET, header=header, body=payload, now=now) == now + offset
    else:
        with pytest.raises(WebhookRefused, match="outside the tolerance"):
            signature_verify(secret=SECRET, header=header, body=payload, now=now)
