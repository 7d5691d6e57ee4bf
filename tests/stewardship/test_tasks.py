"""Steward tasks: one per cause, self-resolving, reopening, worked through the services the admin and API use."""

import pytest
from django.contrib.auth.models import Group

from canonical.models import Client, NotAMatch, PotentialMatch
from hub import roles
from stewardship.models import BulkAction, Resolution, StewardTask, TaskKind, TaskStatus
from stewardship.services.bulk import (
    bulk_action_undo,
    steward_tasks_bulk_assign,
    steward_tasks_bulk_dismiss,
    steward_tasks_bulk_merge,
)
from stewardship.services.decisions import steward_task_decide
from stewardship.services.sweeps import potential_match_tasks_sync
from stewardship.services.tasks import (
    TaskStateError,
    steward_task_cause_gone,
    steward_task_claim,
    steward_task_raise,
)
from tests.factories.canonical import potential_match_pair


@pytest.fixture
def steward(django_user_model):
    user = django_user_model.objects.create_user("sam", password="pw", is_staff=True)
    user.groups.add(Group.objects.get(name=roles.STEWARD))
    return user


def test_a_cause_opens_one_task_which_resolves_when_the_cause_goes_and_reopens_when_it_returns(db):
    first, opened = steward_task_raise(kind=TaskKind.DATA_QUALITY, cause_key="dq:rule:1", title="Country missing")
    again, opened_again = steward_task_raise(kind=TaskKind.DATA_QUALITY, cause_key="dq:rule:1",
                                             title="Country missing")
    gone = steward_task_cause_gone(kind=TaskKind.DATA_QUALITY, cause_key="dq:rule:1", note="fixed in the ERP")
    back, reopened = steward_task_raise(kind=TaskKind.DATA_QUALITY, cause_key="dq:rule:1", title="Country missing")

    assert (opened, opened_again, reopened) == (True, False, True)
    assert first.pk == again.pk == back.pk and StewardTask.objects.count() == 1
    assert gone.resolution == Resolution.CAUSE_GONE and gone.resolved_by_name == "hub"
    assert back.status == TaskStatus.OPEN and back.resolution == ""
    reasons = [h.history_change_reason for h in back.history.order_by("history_date")]
    assert reasons == ["opened", "fixed in the ERP", "cause came back"]
    # due date comes from the kind's SLA (data quality: 120 h by default)
    assert round((first.due_at - first.created_at).total_seconds() / 3600) == 120


def test_sweep_mirrors_potential_matches_and_a_merge_resolves_the_task(db, steward):
    erp, crm = potential_match_pair()
    first = potential_match_tasks_sync()
    second = potential_match_tasks_sync()
    task = StewardTask.objects.get(kind=TaskKind.POTENTIAL_MATCH)
    # The ERP record survives; the steward keeps the CRM's name, which survivorship alone would not pick.
    a, b = Client.objects.get(pk=erp.golden_record_id), Client.objects.get(pk=crm.golden_record_id)

    steward_task_claim(task=task, user=steward)
    decided = steward_task_decide(task=task, decision="merge", survivor=a.golden_id, keep={"legal_name": b.golden_id},
                                  reason="same publisher", user=steward)
    after = potential_match_tasks_sync()

    assert first == {"opened": 1, "resolved": 0} and second == {"opened": 0, "resolved": 0}
    assert decided.status == TaskStatus.RESOLVED and decided.resolution == Resolution.MERGED
    assert decided.resolved_by == steward
    assert after == {"opened": 0, "resolved": 0}
    survivor = Client.objects.get(pk=a.pk)
    assert Client.objects.get(pk=b.pk).merged_into_id == a.pk
    assert survivor.legal_name == b.legal_name
    assert survivor.lineage["legal_name"]["rule"] == "steward_override"
    assert survivor.overrides["legal_name"]["reason"] == f"kept from {b.golden_id} at merge: same publisher"
    assert PotentialMatch.objects.get().status == "merged"


def test_not_a_match_decided_elsewhere_resolves_the_task_on_the_next_sweep(db):
    potential_match_pair()
    potential_match_tasks_sync()
    task = StewardTask.objects.get()
    match = PotentialMatch.objects.get()
    from canonical.services.merge import not_a_match_record

    not_a_match_record(entity_type="client", a=match.record_a, b=match.record_b, actor="api:crm", reason="no")
    result = potential_match_tasks_sync()

    task.refresh_from_db()
    assert result == {"opened": 0, "resolved": 1}
    assert task.resolution == Resolution.NOT_A_MATCH and "api:crm" in task.resolution_note
    assert NotAMatch.objects.count() == 1


def test_claiming_a_task_someone_else_holds_is_refused(db, steward, django_user_model):
    other = django_user_model.objects.create_user("kim", is_staff=True)
    task, _ = steward_task_raise(kind=TaskKind.BUSINESS_EXCEPTION, cause_key="bex:x", title="Unbilled milestone")
    steward_task_claim(task=task, user=other)

    with pytest.raises(TaskStateError, match="assigned to kim"):
        steward_task_claim(task=task, user=steward)


def test_bulk_dismiss_and_assign_undo_as_one_unit(db, steward):
    tasks = [steward_task_raise(kind=TaskKind.DATA_QUALITY, cause_key=f"dq:{i}", title=f"t{i}")[0] for i in range(3)]
    assigned = steward_tasks_bulk_assign(tasks=tasks[:2], assignee=steward, user=steward)
    dismissed = steward_tasks_bulk_dismiss(tasks=tasks, reason="known gap in the source", user=steward)

    assert dismissed.item_count == 3
    assert set(StewardTask.objects.values_list("status", flat=True)) == {TaskStatus.DISMISSED}
    bulk_action_undo(bulk=dismissed, user=steward)
    states = dict(StewardTask.objects.values_list("cause_key", "status"))
    assert states == {"dq:0": "in_progress", "dq:1": "in_progress", "dq:2": "open"}
    bulk_action_undo(bulk=assigned, user=steward)
    assert set(StewardTask.objects.values_list("status", flat=True)) == {TaskStatus.OPEN}
    assert StewardTask.objects.filter(assignee__isnull=False).count() == 0
    with pytest.raises(TaskStateError):
        bulk_action_undo(bulk=assigned, user=steward)
    assert BulkAction.objects.get(pk=dismissed.pk).history.count() == 2  # done, then undone


def test_bulk_merge_undo_brings_both_records_and_the_task_back(db, steward):
    potential_match_pair("A")
    potential_match_pair("B")
    potential_match_tasks_sync()
    tasks = list(StewardTask.objects.all())

    bulk = steward_tasks_bulk_merge(tasks=tasks, reason="obvious duplicates", user=steward)
    merged_count = Client.objects.filter(merged_into__isnull=False).count()
    bulk_action_undo(bulk=bulk, user=steward)

    assert bulk.item_count == 2 and merged_count == 2
    assert Client.objects.filter(merged_into__isnull=False).count() == 0
    assert set(PotentialMatch.objects.values_list("status", flat=True)) == {"open"}
    assert set(StewardTask.objects.values_list("status", flat=True)) == {TaskStatus.OPEN}
