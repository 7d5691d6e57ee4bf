"""A steward's edit is a proposal: a diff and the platforms it reaches; sensitive edits wait for a second
steward, the rest apply at once; applied edits are steward overrides with the reason given."""

import pytest
from django.core.exceptions import ValidationError

from canonical.models import Client
from connectors.models import Subscription
from stewardship.models import ProposalStatus
from stewardship.services.bulk import bulk_action_undo, golden_records_bulk_override
from stewardship.services.proposals import edit_approve, edit_preview, edit_propose, edit_reject
from stewardship.services.tasks import TaskStateError
from tests.factories.canonical import ConnectedSystemFactory, client_arrives


@pytest.fixture
def client(db):
    return Client.objects.get(pk=client_arrives("netsuite", "1", legal_name="Northwind Traders Limited",
                                                country="GB", industry="Retail").golden_record_id)


@pytest.fixture
def stewards(django_user_model):
    return (django_user_model.objects.create_user("sam", is_staff=True),
            django_user_model.objects.create_user("kim", is_staff=True))


def test_preview_shows_the_diff_and_the_platforms_that_receive_it(client):
    crm = ConnectedSystemFactory(key="salesforce")
    fpa = ConnectedSystemFactory(key="anaplan")
    Subscription.objects.create(system=crm, entity_type="client", object_type="Account", fields=["industry"])
    Subscription.objects.create(system=fpa, entity_type="client", object_type="Client", fields=["legal_name"])

    preview = edit_preview(record=client, changes={"industry": "Consumer goods", "country": "GB"})

    assert [(c.attribute, c.before, c.after, c.sensitive) for c in preview.changes] == [
        ("industry", "Retail", "Consumer goods", False)]
    assert preview.targets == ["salesforce"] and not preview.needs_approval
    with pytest.raises(ValidationError):
        edit_preview(record=client, changes={"golden_id": "CL-1"})


def test_a_plain_edit_applies_at_once_as_a_steward_override(client, stewards):
    sam, _ = stewards
    proposal = edit_propose(record=client, changes={"industry": "Consumer goods"}, reason="per the client's site",
                            user=sam)

    client.refresh_from_db()
    assert proposal.status == ProposalStatus.APPLIED
    assert client.industry == "Consumer goods"
    assert client.lineage["industry"]["rule"] == "steward_override"
    assert client.overrides["industry"]["reason"] == "per the client's site"


def test_a_sensitive_edit_waits_for_a_second_steward(client, stewards):
    sam, kim = stewards
    proposal = edit_propose(record=client, changes={"legal_name": "Northwind Traders plc"},
                            reason="re-registered as a plc", user=sam)
    client.refresh_from_db()
    unchanged = client.legal_name

    with pytest.raises(TaskStateError, match="second steward"):
        edit_approve(proposal=proposal, user=sam)
    edit_approve(proposal=proposal, user=kim, note="checked Companies House")
    client.refresh_from_db()

    assert unchanged == "Northwind Traders Limited"
    assert proposal.sensitive_attributes == ["legal_name"]
    assert client.legal_name == "Northwind Traders plc"
    proposal.refresh_from_db()
    assert (proposal.status, proposal.decided_by) == (ProposalStatus.APPLIED, kim)


def test_a_proposal_overtaken_by_new_data_is_refused_and_a_rejected_one_changes_nothing(client, stewards):
    sam, kim = stewards
    stale = edit_propose(record=client, changes={"legal_name": "Northwind plc"}, reason="x", user=sam)
    rejected = edit_propose(record=client, changes={"tax_id": "GB980780684"}, reason="from invoice", user=sam)
    client_arrives("netsuite", "1", legal_name="Northwind Traders Group Limited", country="GB", industry="Retail")

    with pytest.raises(TaskStateError, match="changed since"):
        edit_approve(proposal=stale, user=kim)
    edit_reject(proposal=rejected, user=kim, note="wrong entity's VAT number")

    client.refresh_from_db()
    rejected.refresh_from_db()
    assert client.legal_name == "Northwind Traders Group Limited" and not client.tax_id
    assert rejected.status == ProposalStatus.REJECTED


def test_bulk_override_refuses_sensitive_attributes_and_undoes_as_one(db, stewards):
    sam, _ = stewards
    records = [Client.objects.get(pk=client_arrives("netsuite", str(i), legal_name=f"Client {i} Ltd",
                                                    industry="Retail").golden_record_id) for i in range(3)]

    with pytest.raises(ValidationError):
        golden_records_bulk_override(records=records, attribute="tax_id", value="X", reason="x", user=sam)
    bulk = golden_records_bulk_override(records=records, attribute="industry", value="Media", reason="reclass",
                                        user=sam)
    pinned = set(Client.objects.values_list("industry", flat=True))
    bulk_action_undo(bulk=bulk, user=sam)

    assert pinned == {"Media"}
    assert set(Client.objects.values_list("industry", flat=True)) == {"Retail"}
    assert all(not c.overrides for c in Client.objects.all())
