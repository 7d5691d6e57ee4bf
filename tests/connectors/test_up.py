"""``make run``'s preparation: the demo's platforms point at their emulators, are pulled, and receive clients."""

from io import StringIO

import pytest
from django.core.management import call_command

from connectors.emulators import EMULATORS
from connectors.models import Direction, Stream, Subscription


@pytest.mark.django_db
def test_the_demo_syncs_both_ways_with_its_emulated_platforms():
    out = StringIO()
    call_command("up", "--prepare-only", "--demo-clients", "3", stdout=out)
    call_command("up", "--prepare-only", "--demo-clients", "3", stdout=StringIO())  # again: nothing doubles

    subscriptions = {s.system.key: s for s in Subscription.objects.select_related("system")}
    assert set(subscriptions) == {"salesforce", "netsuite"}
    for key, subscription in subscriptions.items():
        object_type, fields = EMULATORS[key].clients
        assert (subscription.entity_type, subscription.object_type) == ("client", object_type)
        assert subscription.fields == list(fields) and subscription.enabled
        assert subscription.system.base_url == f"http://127.0.0.1:{EMULATORS[key].port}"
        assert Stream.objects.filter(system=subscription.system, object_type=object_type,
                                     direction=Direction.INBOUND).exists()
        assert f"{key}: receives golden clients as {object_type}" in out.getvalue()
