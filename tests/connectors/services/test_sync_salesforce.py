"""`manage.py sync salesforce` end to end over HTTP: accounts, opportunities and contracts become golden
records, in whatever order the platform sends them, and a second run finds nothing new."""

from io import StringIO

import pytest
from django.core.management import call_command

from canonical.models import Client, Contract, Engagement, SourceRecord
from connectors.models import SyncRun
from connectors.salesforce.emulator import make_app
from tests.factories.canonical import ConnectedSystemFactory

CONFIG = {"client_id_env": "SF_TEST_CLIENT_ID", "client_secret_env": "SF_TEST_CLIENT_SECRET"}


@pytest.fixture
def salesforce(db, serve_wsgi, monkeypatch):
    monkeypatch.setenv("SF_TEST_CLIENT_ID", "concord-demo")
    monkeypatch.setenv("SF_TEST_CLIENT_SECRET", "concord-demo-secret")
    emulator = make_app(seed=42, clients=10)
    ConnectedSystemFactory(key="salesforce", kind="salesforce", base_url=serve_wsgi(emulator), config=CONFIG)
    return emulator


def test_every_object_lands_once(salesforce):
    out = StringIO()
    call_command("sync", "salesforce", stdout=out)
    again = StringIO()
    call_command("sync", "salesforce", stdout=again)

    store = salesforce.store
    assert Client.objects.count() == len(store["Account"])
    assert Engagement.objects.count() == len(store["Opportunity"])
    assert Contract.objects.count() == len(store["Contract"])
    assert not SourceRecord.objects.filter(golden_record_id__isnull=True).exists()
    assert all(" 0 created, 0 updated" in line for line in again.getvalue().splitlines())
    assert SyncRun.objects.filter(errors__gt=0).count() == 0
