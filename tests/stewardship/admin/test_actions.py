"""Queue actions: claim, assign (leads only), dismiss with a reason, merge, replay, and undoing a bulk action."""

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from canonical.models import Client, PotentialMatch
from connectors.models import Delivery, DeliveryStatus
from stewardship.models import BulkAction, Resolution, StewardTask, TaskKind, TaskStatus
from stewardship.services.tasks import steward_task_claim
from tests.stewardship.admin.scenarios import (
    changelist_action,
    dead_letter,
    deliver_due,
    hub_accounts,
    potential_match_task,
    task,
)

QUEUE = reverse("admin:stewardship_stewardtask_changelist")


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def actions_offered(client, **query) -> set[str]:
    form = client.get(QUEUE, query).context["action_form"]
    return {name for name, _ in form.fields["action"].choices if name} if form else set()


@pytest.fixture
def three(db):
    return [task(TaskKind.DATA_QUALITY, f"dq:{i}", f"Rule {i} broken") for i in range(3)]


def test_what_each_role_may_do_to_a_queue(viewer, steward, lead, three):
    assert actions_offered(viewer) == set()
    assert actions_offered(steward) == {"assign_to_me", "bulk_dismiss", "bulk_merge", "replay"}
    assert actions_offered(lead) == {"assign_to_me", "bulk_assign", "bulk_dismiss", "bulk_merge", "replay"}
    assert actions_offered(lead, kind="data_quality") == {"assign_to_me", "bulk_assign", "bulk_dismiss"}
    assert "bulk_merge" in actions_offered(steward, kind="potential_match")
    assert "replay" in actions_offered(steward, kind="sync_failure")


def test_assign_to_me_claims_free_tasks_and_leaves_others_tasks_alone(steward, second_steward, three):
    steward_task_claim(task=three[2], user=second_steward.user)

    response = steward.post(QUEUE, changelist_action("assign_to_me", *three), follow=True)

    holders = dict(StewardTask.objects.values_list("title", "assignee__username"))
    assert holders == {"Rule 0 broken": "sam", "Rule 1 broken": "sam", "Rule 2 broken": "kim"}
    assert "2 task(s) assigned to you." in messages_of(response)
    assert "Rule 2 broken: This task is assigned to kim." in messages_of(response)


def test_a_lead_bulk_assigns_to_a_steward_through_an_intermediate_page(lead, steward, three):
    asked = lead.post(QUEUE, changelist_action("bulk_assign", *three[:2]))
    applied = lead.post(QUEUE, changelist_action("bulk_assign", *three[:2], apply="1", assignee=steward.user.pk))

    assert asked.status_code == 200 and "Assign tasks" in asked.content.decode()
    assert applied.status_code == 302
    assert sorted(StewardTask.objects.filter(assignee=steward.user).values_list("title", flat=True)) == [
        "Rule 0 broken", "Rule 1 broken"]
    bulk = BulkAction.objects.get()
    assert (bulk.action, bulk.item_count, bulk.actor_name) == ("assign", 2, "lee")


def test_a_steward_cannot_bulk_assign_to_others(steward, second_steward, three):
    response = steward.post(QUEUE, changelist_action("bulk_assign", *three, apply="1",
                                                     assignee=second_steward.user.pk), follow=True)

    assert StewardTask.objects.filter(assignee__isnull=False).count() == 0
    assert BulkAction.objects.count() == 0
    assert "No action selected." in messages_of(response)


def test_bulk_dismiss_needs_a_reason_and_undo_brings_every_task_back(steward, three):
    steward_task_claim(task=three[0], user=steward.user)

    no_reason = steward.post(QUEUE, changelist_action("bulk_dismiss", *three, apply="1", reason=""))
    dismissed = steward.post(QUEUE, changelist_action("bulk_dismiss", *three, apply="1", reason="rule retired"),
                             follow=True)
    bulk = BulkAction.objects.get()
    undo_url = reverse("admin:stewardship_bulkaction_undo", args=[bulk.pk])
    states_after_dismiss = set(StewardTask.objects.values_list("status", "resolution_note"))
    confirm = steward.get(undo_url)
    undone = steward.post(undo_url, follow=True)

    assert no_reason.status_code == 200 and "This field is required." in no_reason.content.decode()
    assert states_after_dismiss == {(TaskStatus.DISMISSED, "rule retired")}
    assert any(undo_url in m for m in messages_of(dismissed))
    assert confirm.status_code == 200 and "Yes, undo it" in confirm.content.decode()
    assert dict(StewardTask.objects.values_list("title", "status")) == {
        "Rule 0 broken": TaskStatus.IN_PROGRESS, "Rule 1 broken": TaskStatus.OPEN, "Rule 2 broken": TaskStatus.OPEN}
    assert "Undone: bulk dismiss of 3 item(s) is reversed." in messages_of(undone)
    assert BulkAction.objects.get().undone_by_name == "sam"
    assert "Undo…" not in steward.get(reverse("admin:stewardship_bulkaction_changelist")).content.decode()


def test_undoing_twice_is_refused_and_a_viewer_cannot_undo(steward, viewer, three):
    steward.post(QUEUE, changelist_action("bulk_dismiss", *three, apply="1", reason="rule retired"))
    bulk = BulkAction.objects.get()
    undo_url = reverse("admin:stewardship_bulkaction_undo", args=[bulk.pk])

    by_viewer = viewer.post(undo_url)
    still_dismissed = StewardTask.objects.filter(status=TaskStatus.DISMISSED).count()
    steward.post(undo_url)
    again = steward.post(undo_url, follow=True)

    assert by_viewer.status_code == 403 and still_dismissed == 3
    assert "This bulk action was already undone." in messages_of(again)


def test_bulk_merge_merges_each_pair_into_its_older_record_and_undo_splits_them_again(steward):
    first, second = potential_match_task("A"), potential_match_task("B")

    asked = steward.post(QUEUE, changelist_action("bulk_merge", first, second))
    steward.post(QUEUE, changelist_action("bulk_merge", first, second, apply="1", reason="obvious duplicates"))
    merged = Client.objects.filter(merged_into__isnull=False).count()
    bulk = BulkAction.objects.get()
    steward.post(reverse("admin:stewardship_bulkaction_undo", args=[bulk.pk]))

    assert asked.status_code == 200 and "Merge potential matches" in asked.content.decode()
    assert merged == 2 and (bulk.action, bulk.item_count) == ("merge", 2)
    assert Client.objects.filter(merged_into__isnull=False).count() == 0
    assert set(PotentialMatch.objects.values_list("status", flat=True)) == {"open"}
    assert set(StewardTask.objects.values_list("status", flat=True)) == {TaskStatus.OPEN}


def test_replay_action_requeues_the_dead_letter_and_the_task_resolves_once_delivered(steward, serve_wsgi, monkeypatch):
    emulator, client, failure = dead_letter(serve_wsgi, monkeypatch)

    response = steward.post(QUEUE + "?kind=sync_failure", changelist_action("replay", failure), follow=True)
    pending = Delivery.objects.get().status
    deliver_due()
    steward.post(reverse("admin:stewardship_stewardtask_sweep"))

    failure.refresh_from_db()
    assert pending == DeliveryStatus.PENDING
    assert "1 delivery(ies) queued again; each task resolves itself once delivered." in messages_of(response)
    assert (failure.status, failure.resolution, failure.assignee.username) == (
        TaskStatus.RESOLVED, Resolution.REPLAYED, "sam")
    assert client.golden_id in hub_accounts(emulator)
