"""The side-by-side page of a potential match: both records, their sources, the score; merge with a chosen
survivor and kept values, not a match, defer. Viewers read it and cannot decide."""

import pytest
from django.urls import reverse

from canonical.models import Client, NotAMatch, PotentialMatch
from stewardship.models import Resolution, StewardTask, TaskStatus
from tests.stewardship.admin.scenarios import potential_match_task


@pytest.fixture
def pair(db):
    """The task, and its two records: the ERP's (with GmbH and a postcode) and the CRM's."""
    task = potential_match_task()
    match = task.potential_match
    a, b = Client.objects.get(pk=match.record_a), Client.objects.get(pk=match.record_b)
    erp, crm = (a, b) if a.legal_name.endswith("GmbH") else (b, a)
    return task, {"erp": ("a" if erp is a else "b", erp), "crm": ("a" if crm is a else "b", crm)}


def compare(task) -> str:
    return reverse("admin:stewardship_stewardtask_compare", args=[task.pk])


def test_the_pair_side_by_side_with_sources_score_evidence_and_differences(steward, pair):
    task, sides = pair

    response = steward.get(compare(task))

    content = response.content.decode()
    rows = {row["attribute"]: row for row in response.context["rows"]}
    assert response.status_code == 200
    assert sides["erp"][1].golden_id in content and sides["crm"][1].golden_id in content
    assert rows["legal_name"]["conflict"] and rows["billing_postcode"]["differs"]
    assert not rows["billing_postcode"]["conflict"] and not rows["country"]["differs"]
    assert {side["systems"][0] for side in rows["legal_name"]["sides"]} == {"netsuite", "salesforce"}
    assert rows["legal_name"]["rules_value"] == "Lucerne Publishing GmbH" and rows["legal_name"]["rules_system"] == (
        "netsuite")
    assert "tax id" in response.context["empty_on_both"]
    assert response.context["score_pct"] == round(task.potential_match.score * 100)
    assert {e["field"] for e in response.context["evidence"]} >= {"country", "name", "billing postcode"}
    assert "pm-1" in content and "pm-2" in content
    assert 'name="keep_legal_name"' in content and 'id="merge-button"' in content


def test_merge_into_the_chosen_survivor_keeping_the_other_records_value(steward, pair):
    task, sides = pair
    erp_side, erp = sides["erp"]
    crm_side, crm = sides["crm"]

    response = steward.post(compare(task), {"decision": "merge", "survivor": erp_side, "keep_legal_name": crm_side,
                                            "reason": "one VAT registration"})

    survivor = Client.objects.get(pk=erp.pk)
    task.refresh_from_db()
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:canonical_client_change", args=[erp.pk])
    assert Client.objects.get(pk=crm.pk).merged_into_id == erp.pk
    assert survivor.legal_name == "Lucerne Publishing" and survivor.billing_postcode == "10115"
    assert survivor.overrides["legal_name"]["reason"] == f"kept from {crm.golden_id} at merge: one VAT registration"
    assert (task.status, task.resolution, task.resolved_by_name) == (TaskStatus.RESOLVED, Resolution.MERGED, "sam")
    landing = steward.get(response["Location"]).content.decode()
    assert "Merged into" in landing and "Unmerge this source" in landing


def test_merge_keeping_the_survivors_own_value_against_the_rules(steward, pair):
    """The rules would give the ERP's name; the steward keeps the CRM record's own name on it."""
    task, sides = pair
    crm_side, crm = sides["crm"]

    steward.post(compare(task), {"decision": "merge", "survivor": crm_side, "keep_legal_name": crm_side,
                                 "reason": "trading name"})

    survivor = Client.objects.get(pk=crm.pk)
    assert survivor.legal_name == "Lucerne Publishing"
    assert survivor.lineage["legal_name"]["rule"] == "steward_override"


def test_merge_leaving_the_conflict_to_the_rules_pins_nothing(steward, pair):
    task, sides = pair
    crm_side, crm = sides["crm"]

    steward.post(compare(task), {"decision": "merge", "survivor": crm_side, "keep_legal_name": "rules",
                                 "reason": "same"})

    survivor = Client.objects.get(pk=crm.pk)
    assert survivor.legal_name == "Lucerne Publishing GmbH" and survivor.overrides == {}


def test_merge_without_a_survivor_is_refused_and_nothing_changes(steward, pair):
    task, _ = pair

    response = steward.post(compare(task), {"decision": "merge", "reason": "same"})

    assert response.status_code == 200
    assert "Pick the record that survives: a or b (or its golden id)." in response.content.decode()
    assert Client.objects.filter(merged_into__isnull=False).count() == 0
    assert StewardTask.objects.get().status == TaskStatus.OPEN


def test_not_a_match_needs_a_reason_and_is_remembered(steward, pair):
    task, _ = pair

    without = steward.post(compare(task), {"decision": "not_a_match", "reason": ""})
    remembered_without = NotAMatch.objects.count()
    steward.post(compare(task), {"decision": "not_a_match", "reason": "a publisher and its printer"})

    task.refresh_from_db()
    assert without.status_code == 200 and remembered_without == 0
    assert (task.status, task.resolution) == (TaskStatus.RESOLVED, Resolution.NOT_A_MATCH)
    assert NotAMatch.objects.get().reason == "a publisher and its printer"


def test_defer_keeps_the_pair_open_and_out_of_the_ready_queue(steward, pair):
    task, _ = pair

    steward.post(compare(task), {"decision": "defer", "reason": "asking the account lead"})

    task.refresh_from_db()
    assert task.status == TaskStatus.OPEN and task.deferred_until is not None
    assert PotentialMatch.objects.get().status == "deferred"
    queue = steward.get(reverse("admin:stewardship_stewardtask_changelist"), {"kind": "potential_match"})
    deferred = steward.get(reverse("admin:stewardship_stewardtask_changelist"),
                           {"kind": "potential_match", "status": "deferred"})
    assert list(queue.context["cl"].result_list) == [] and list(deferred.context["cl"].result_list) == [task]


def test_a_viewer_reads_the_comparison_but_cannot_merge(viewer, pair):
    task, sides = pair
    erp_side, _ = sides["erp"]

    page = viewer.get(compare(task)).content.decode()
    refused = viewer.post(compare(task), {"decision": "merge", "survivor": erp_side, "reason": "x"})

    assert "Lucerne Publishing GmbH" in page
    assert 'id="merge-button"' not in page and 'name="survivor"' not in page
    assert refused.status_code == 403
    assert Client.objects.filter(merged_into__isnull=False).count() == 0
    assert StewardTask.objects.get().status == TaskStatus.OPEN
    assert PotentialMatch.objects.get().status == "open"
