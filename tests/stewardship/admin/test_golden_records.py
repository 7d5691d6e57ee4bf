"""Golden records as stewards change them: proposals (sensitive ones approved by a second steward), bulk
overrides, unmerging a source; never by editing the record itself."""

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from canonical.models import Client, NotAMatch, SourceRecord
from connectors.models import Subscription
from stewardship.models import BulkAction, EditProposal, ProposalStatus
from tests.factories.canonical import ConnectedSystemFactory, client_arrives
from tests.stewardship.admin.scenarios import changelist_action

CLIENTS = reverse("admin:canonical_client_changelist")


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


@pytest.fixture
def fabrikam(db) -> Client:
    """A client from the ERP that the CRM subscribes to (names and country only)."""
    crm = ConnectedSystemFactory(key="salesforce", kind="salesforce")
    Subscription.objects.create(system=crm, entity_type="client", object_type="Account",
                                fields=["legal_name", "display_name", "country"])
    source = client_arrives("netsuite", "CUST-1", legal_name="Fabrikam GmbH", display_name="Fabrikam",
                            country="DE", billing_city="Berlin", billing_postcode="10117", industry="Manufacturing")
    return Client.objects.get(pk=source.golden_record_id)


def propose_url(record) -> str:
    return reverse("admin:canonical_client_propose", args=[record.pk])


def form_of(record, **changes) -> dict:
    """The propose form as the page fills it (today's values), with ``changes`` typed in."""
    values = {a: getattr(record, a) or "" for a in record.SURVIVED_ATTRIBUTES}
    values["parent"] = record.parent.golden_id if record.parent else ""
    return {**values, **changes}


def test_the_record_page_shows_sources_lineage_and_steward_buttons_but_no_save(steward, viewer, fabrikam):
    client_arrives("salesforce", "001-FAB", legal_name="Fabrikam GmbH", display_name="Fabrikam Group", country="DE",
                   billing_postcode="10117")
    fabrikam.refresh_from_db()
    url = reverse("admin:canonical_client_change", args=[fabrikam.pk])

    page, read_only = steward.get(url).content.decode(), viewer.get(url).content.decode()

    assert "CUST-1" in page and "001-FAB" in page and page.count('class="sc-tag sc-active"') == 2
    assert "legal_name (source_priority)" in page and 'data-attribute="billing_city"' in page
    assert page.count("Unmerge this source…") == 2 and "Propose an edit" in page
    assert 'name="_save"' not in page and 'name="_continue"' not in page
    assert "Unmerge this source" not in read_only and "Propose an edit" not in read_only
    assert "CUST-1" in read_only


def test_a_golden_record_cannot_be_edited_or_reverted_in_the_admin(steward, fabrikam):
    url = reverse("admin:canonical_client_change", args=[fabrikam.pk])
    version = fabrikam.history.first()

    steward.post(url, {"legal_name": "Hacked Ltd", "country": "FR"})
    revert = steward.post(reverse("admin:canonical_client_simple_history", args=[fabrikam.pk, version.history_id]),
                          {})

    fabrikam.refresh_from_db()
    assert revert.status_code == 403
    assert (fabrikam.legal_name, fabrikam.country, fabrikam.version) == ("Fabrikam GmbH", "DE", 1)


def test_a_plain_edit_shows_its_diff_and_targets_then_applies_at_once(steward, fabrikam):
    data = form_of(fabrikam, display_name="Fabrikam Europe", reason="name used on invoices since March")

    preview = steward.post(propose_url(fabrikam), {**data, "preview": "1"})
    unchanged = Client.objects.get(pk=fabrikam.pk).display_name
    applied = steward.post(propose_url(fabrikam), {**data, "confirm": "1"})

    fabrikam.refresh_from_db()
    assert [(r["attribute"], r["before"], r["after"]) for r in preview.context["rows"]] == [
        ("display_name", "Fabrikam", "Fabrikam Europe")]
    assert preview.context["targets"] == ["salesforce"] and unchanged == "Fabrikam"
    assert "the change is sent to <strong>salesforce</strong>" in preview.content.decode()
    assert "No sensitive attribute changes: the edit applies at once." in preview.content.decode()
    assert applied.status_code == 302
    assert fabrikam.display_name == "Fabrikam Europe"
    assert fabrikam.lineage["display_name"]["rule"] == "steward_override"
    assert EditProposal.objects.get().status == ProposalStatus.APPLIED


def test_a_sensitive_edit_waits_and_only_a_second_steward_approves_it(steward, second_steward, fabrikam):
    data = form_of(fabrikam, legal_name="Fabrikam Holding GmbH", reason="renamed in the commercial register")

    preview = steward.post(propose_url(fabrikam), {**data, "preview": "1"})
    steward.post(propose_url(fabrikam), {**data, "confirm": "1"})
    proposal = EditProposal.objects.get()
    detail = reverse("admin:stewardship_editproposal_change", args=[proposal.pk])
    decide = reverse("admin:stewardship_editproposal_decide", args=[proposal.pk])
    own_page = steward.get(detail).content.decode()
    own = steward.post(decide, {"decision": "approve"}, follow=True)
    name_after_own = Client.objects.get(pk=fabrikam.pk).legal_name
    queue = second_steward.get(reverse("admin:stewardship_editproposal_changelist"))
    second_steward.post(decide, {"decision": "approve", "note": "checked the register"})

    proposal.refresh_from_db()
    fabrikam.refresh_from_db()
    assert "sensitive: needs a second steward" in preview.content.decode()
    assert 'id="approve-button"' not in own_page and "a second steward must approve it" in own_page
    assert "A sensitive edit needs a second steward: you cannot approve your own." in messages_of(own)
    assert name_after_own == "Fabrikam GmbH"
    assert list(queue.context["cl"].result_list) == [proposal]
    assert (proposal.status, proposal.decided_by_name, proposal.decision_note) == (
        ProposalStatus.APPLIED, "kim", "checked the register")
    assert fabrikam.legal_name == "Fabrikam Holding GmbH"


def test_a_sensitive_edit_can_be_rejected_with_a_reason_and_a_viewer_cannot_decide(viewer, steward, second_steward,
                                                                                   fabrikam):
    steward.post(propose_url(fabrikam), {**form_of(fabrikam, tax_id="DE123456789", reason="from the invoice"),
                                         "confirm": "1"})
    proposal = EditProposal.objects.get()
    decide = reverse("admin:stewardship_editproposal_decide", args=[proposal.pk])

    by_viewer = viewer.post(decide, {"decision": "approve"})
    no_reason = second_steward.post(decide, {"decision": "reject", "note": ""}, follow=True)
    second_steward.post(decide, {"decision": "reject", "note": "the invoice shows the parent's number"})

    proposal.refresh_from_db()
    assert by_viewer.status_code == 403
    assert "Say why the edit is rejected: the proposer reads it." in messages_of(no_reason)
    assert (proposal.status, proposal.decision_note) == (ProposalStatus.REJECTED,
                                                         "the invoice shows the parent's number")
    assert Client.objects.get(pk=fabrikam.pk).tax_id == ""


def test_proposing_nothing_new_or_without_a_reason_is_refused(steward, viewer, fabrikam):
    nothing = steward.post(propose_url(fabrikam), {**form_of(fabrikam, reason="tidy"), "preview": "1"})
    no_reason = steward.post(propose_url(fabrikam), {**form_of(fabrikam, industry="Retail"), "confirm": "1"})

    assert "nothing to change" in nothing.content.decode()
    assert no_reason.status_code == 200 and "This field is required." in no_reason.content.decode()
    assert viewer.get(propose_url(fabrikam)).status_code == 403
    assert EditProposal.objects.count() == 0


def test_bulk_override_pins_a_value_on_many_records_and_undoes_as_one(steward, fabrikam):
    other = Client.objects.get(pk=client_arrives("netsuite", "CUST-2", legal_name="Contoso AG", country="CH",
                                                 industry="Retail").golden_record_id)

    asked = steward.post(CLIENTS, changelist_action("bulk_override", fabrikam, other))
    steward.post(CLIENTS, changelist_action("bulk_override", fabrikam, other, apply="1", attribute="industry",
                                            value="Professional Services", reason="sector review 2026"))
    pinned = set(Client.objects.values_list("industry", flat=True))
    bulk = BulkAction.objects.get()
    steward.post(reverse("admin:stewardship_bulkaction_undo", args=[bulk.pk]))

    assert asked.status_code == 200 and "Override an attribute on 2 clients" in asked.content.decode()
    assert pinned == {"Professional Services"}
    assert dict(Client.objects.values_list("legal_name", "industry")) == {"Fabrikam GmbH": "Manufacturing",
                                                                          "Contoso AG": "Retail"}


def test_bulk_override_of_a_sensitive_attribute_is_refused_and_viewers_have_no_actions(steward, viewer, fabrikam):
    response = steward.post(CLIENTS, changelist_action("bulk_override", fabrikam, apply="1", attribute="tax_id",
                                                       value="DE1", reason="x"), follow=True)

    assert any("a sensitive attribute: propose the edit" in m for m in messages_of(response))
    assert Client.objects.get(pk=fabrikam.pk).tax_id == "" and BulkAction.objects.count() == 0
    assert viewer.get(CLIENTS).context["action_form"] is None


def test_unmerge_a_source_into_a_record_of_its_own(steward, viewer, fabrikam):
    stray = client_arrives("salesforce", "001-FAB", legal_name="Fabrikam GmbH", country="DE", billing_postcode="10117")
    assert stray.golden_record_id == fabrikam.pk
    url = reverse("admin:canonical_client_unmerge", args=[fabrikam.pk, stray.pk])

    confirm = steward.get(url)
    by_viewer = viewer.post(url, {"reason": "x"})
    no_reason = steward.post(url, {"reason": ""})
    done = steward.post(url, {"reason": "the CRM account is the Austrian subsidiary"})

    stray.refresh_from_db()
    assert confirm.status_code == 200 and "becomes a golden record of its own" in confirm.content.decode()
    assert by_viewer.status_code == 403 and "Say why" in no_reason.content.decode()
    assert stray.golden_record_id != fabrikam.pk
    assert done["Location"] == reverse("admin:canonical_client_change", args=[stray.golden_record_id])
    assert NotAMatch.objects.count() == 1
    assert SourceRecord.objects.filter(golden_record_id=fabrikam.pk).count() == 1
