"""Steward tasks through REST: listing with filters, claims, decisions, comments; roles and scopes enforced."""

import pytest
from django.contrib.auth.models import Group
from rest_framework.test import APIClient

from canonical.models import Client, PotentialMatch
from canonical.services.matching import seed_rules
from hub import roles
from hub.api import scopes
from stewardship.models import TaskKind
from stewardship.services.sweeps import potential_match_tasks_sync
from stewardship.services.tasks import steward_task_raise
from tests.factories.canonical import potential_match_pair


def person(django_user_model, username, role=None):
    user = django_user_model.objects.create_user(username, password="pw", is_staff=True)
    if role:
        user.groups.add(Group.objects.get(name=role))
    client = APIClient()
    client.force_login(user)
    client.user = user
    return client


@pytest.fixture
def match_task(db):
    potential_match_pair()
    potential_match_tasks_sync()
    return potential_match_pair, PotentialMatch.objects.get().steward_tasks.get()


@pytest.fixture
def reader(make_api_client):
    return make_api_client(scopes.STEWARD_READ)


def test_tasks_need_a_caller_with_the_scope(db, anonymous, make_api_client):
    assert anonymous.get("/api/v1/tasks/").status_code == 401
    response = make_api_client(scopes.READ_CLIENTS).get("/api/v1/tasks/")
    assert response.status_code == 403
    assert response.json()["detail"] == "This endpoint requires the 'steward:read' scope."


def test_list_filters_by_kind_status_assignee_overdue_and_record(reader, match_task, django_user_model):
    _, task = match_task
    late, _ = steward_task_raise(kind=TaskKind.DATA_QUALITY, cause_key="dq:x:1", title="Missing country")
    late.due_at = late.created_at.replace(year=2020)
    late.save()
    steward_task_raise(kind=TaskKind.SYNC_FAILURE, cause_key="delivery:1", title="Not delivered")

    def ids(**params):
        response = reader.get("/api/v1/tasks/", params)
        assert response.status_code == 200, response.json()
        return [row["id"] for row in response.json()["results"]]

    assert len(ids()) == 3
    assert ids(kind="potential_match") == [str(task.pk)]
    assert ids(overdue="true") == [str(late.pk)]
    assert ids(record=task.golden_ids[0]) == [str(task.pk)]
    assert ids(record=str(task.record_ids[1])) == [str(task.pk)]
    assert len(ids(status="active", assignee="none")) == 3
    assert ids(status="resolved") == []
    detail = reader.get(f"/api/v1/tasks/{task.pk}/").json()
    assert detail["kind"] == "potential_match" and detail["details"]["score"] > 0 and detail["comments"] == []
    bad = reader.get("/api/v1/tasks/", {"priority": "high"})
    assert bad.status_code == 400 and bad["Content-Type"] == "application/problem+json"


def test_a_steward_claims_and_merges_through_the_api(match_task, django_user_model):
    _, task = match_task
    steward = person(django_user_model, "sam", roles.STEWARD)
    a, b = Client.objects.filter(pk__in=task.record_ids).order_by("golden_id")

    claimed = steward.post(f"/api/v1/tasks/{task.pk}/claim/")
    commented = steward.post(f"/api/v1/tasks/{task.pk}/comments/", {"body": "checked the VAT register"})
    merged = steward.post(f"/api/v1/tasks/{task.pk}/resolve/",
                          {"decision": "merge", "survivor": a.golden_id, "keep": {"legal_name": b.golden_id},
                           "reason": "same publisher"})
    again = steward.post(f"/api/v1/tasks/{task.pk}/resolve/", {"decision": "not_a_match", "reason": "x"})

    assert claimed.status_code == 200 and claimed.json()["assignee"] == "sam"
    assert claimed.json()["status"] == "in_progress"
    assert commented.status_code == 201 and commented.json()["author_name"] == "sam"
    assert merged.status_code == 200, merged.json()
    assert merged.json()["status"] == "resolved" and merged.json()["resolution"] == "merged"
    assert merged.json()["resolved_by_name"] == "sam"
    assert Client.objects.get(pk=b.pk).merged_into_id == a.pk
    assert Client.objects.get(pk=a.pk).legal_name == b.legal_name
    assert again.status_code == 409 and again.json()["detail"] == "This task is resolved."


def test_an_api_client_claims_for_a_named_steward_and_dismisses_with_a_reason(db, make_api_client,
                                                                              django_user_model):
    tool = make_api_client(scopes.STEWARD_READ, scopes.STEWARD_WRITE, name="service-desk")
    django_user_model.objects.create_user("kim", is_staff=True)
    task, _ = steward_task_raise(kind=TaskKind.BUSINESS_EXCEPTION, cause_key="bex:1", title="Milestone not invoiced")

    nobody = tool.post(f"/api/v1/tasks/{task.pk}/claim/")
    unknown = tool.post(f"/api/v1/tasks/{task.pk}/claim/", {"assignee": "ghost"})
    claimed = tool.post(f"/api/v1/tasks/{task.pk}/claim/", {"assignee": "kim"})
    no_reason = tool.post(f"/api/v1/tasks/{task.pk}/resolve/", {"decision": "dismiss"})
    dismissed = tool.post(f"/api/v1/tasks/{task.pk}/resolve/", {"decision": "dismiss", "reason": "invoiced by hand"})
    wrong = tool.post(f"/api/v1/tasks/{task.pk}/resolve/", {"decision": "shrug"})

    assert nobody.status_code == 400 and unknown.status_code == 400
    assert claimed.json()["assignee"] == "kim"
    assert no_reason.status_code == 400
    assert no_reason.json()["errors"]["reason"] == ["Dismissing a task needs a reason."]
    assert dismissed.json()["status"] == "dismissed"
    assert dismissed.json()["resolved_by_name"] == "api:service-desk"
    assert wrong.status_code == 400


def test_a_viewer_reads_tasks_but_cannot_merge(match_task, django_user_model):
    _, task = match_task
    viewer = person(django_user_model, "vic", roles.VIEWER)

    listed = viewer.get("/api/v1/tasks/")
    merge = viewer.post(f"/api/v1/tasks/{task.pk}/resolve/", {"decision": "merge", "survivor": "a", "reason": "x"})
    merge_pair = viewer.post(f"/api/v1/potential-matches/{task.potential_match_id}/merge/",
                             {"survivor": task.golden_ids[0], "reason": "x"})

    assert listed.status_code == 200 and len(listed.json()["results"]) == 1
    assert merge.status_code == 403 and merge_pair.status_code == 403
    assert Client.objects.filter(merged_into__isnull=False).count() == 0


def test_a_steward_cannot_change_match_rules_and_a_lead_can(db, django_user_model):
    steward = person(django_user_model, "sam", roles.STEWARD)
    lead = person(django_user_model, "lee", roles.STEWARD_LEAD)
    spec = {"spec": seed_rules()["client"]}

    refused = steward.post("/api/v1/match-rules/client/dry-run/", spec)
    allowed = lead.post("/api/v1/match-rules/client/dry-run/", spec)

    assert refused.status_code == 403
    assert allowed.status_code == 200, allowed.json()


def test_staff_without_a_role_only_read(db, django_user_model, match_task):
    _, task = match_task
    staff = person(django_user_model, "pat")

    assert staff.get("/api/v1/tasks/").status_code == 200
    assert staff.post(f"/api/v1/tasks/{task.pk}/claim/").status_code == 403
