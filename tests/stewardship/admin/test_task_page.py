"""A task's page: its details, the decisions its kind allows, comments and history; read-only for viewers."""

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from canonical.models import NotAMatch, PotentialMatch
from stewardship.models import Resolution, StewardTask, TaskComment, TaskKind, TaskStatus
from stewardship.services.tasks import steward_task_claim
from tests.stewardship.admin.scenarios import CORRELATION_ID, dead_letter, potential_match_task, task


def page(t: StewardTask) -> str:
    return reverse("admin:stewardship_stewardtask_change", args=[t.pk])


def decide(t: StewardTask) -> str:
    return reverse("admin:stewardship_stewardtask_decide", args=[t.pk])


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


@pytest.fixture
def rule_task(db):
    return task(TaskKind.DATA_QUALITY, "dq:country", "Country missing on CL-000007", details={"rule": "country"})


def test_a_sync_failure_shows_the_platform_error_the_payload_and_the_correlation_id(steward, serve_wsgi,
                                                                                     monkeypatch):
    _, client, failure = dead_letter(serve_wsgi, monkeypatch)

    content = steward.get(page(failure)).content.decode()

    assert "HTTP 503 SERVER_UNAVAILABLE" in content
    assert f'<code class="sc-code" id="correlation-id">{CORRELATION_ID}</code>' in content
    assert "&quot;legal_name&quot;: &quot;Wingtip Toys Limited&quot;" in content
    assert 'id="replay-button"' in content and client.golden_id in content


def test_decision_buttons_follow_the_kind_and_the_role(viewer, steward, lead, rule_task):
    pair = potential_match_task()

    steward_rule, steward_pair = steward.get(page(rule_task)).content.decode(), steward.get(page(pair)).content.decode()
    lead_rule, viewer_pair = lead.get(page(rule_task)).content.decode(), viewer.get(page(pair)).content.decode()

    assert 'value="resolve"' in steward_rule and 'value="not_a_match"' not in steward_rule
    assert 'value="not_a_match"' in steward_pair and "Compare side by side" in steward_pair
    assert 'value="assign"' in lead_rule and 'value="assign"' not in steward_rule
    assert "<form" not in viewer_pair.split('id="decisions"')[1].split('id="history"')[0]
    assert "working it needs the Steward role" in viewer_pair


def test_a_viewer_cannot_post_a_decision_or_a_comment(viewer, rule_task):
    refused = viewer.post(decide(rule_task), {"decision": "dismiss", "reason": "no"})
    commented = viewer.post(reverse("admin:stewardship_stewardtask_comment", args=[rule_task.pk]), {"body": "hi"})

    rule_task.refresh_from_db()
    assert (refused.status_code, commented.status_code) == (403, 403)
    assert rule_task.status == TaskStatus.OPEN and TaskComment.objects.count() == 0


def test_claim_release_and_a_lead_assigning_to_a_steward(steward, lead, rule_task):
    steward.post(decide(rule_task), {"decision": "claim"})
    claimed = StewardTask.objects.get().assignee.username
    steward.post(decide(rule_task), {"decision": "release"})
    released = StewardTask.objects.get().assignee
    lead.post(decide(rule_task), {"decision": "assign", "assignee": steward.user.pk})
    refused = steward.post(decide(rule_task), {"decision": "assign", "assignee": lead.user.pk})

    assert (claimed, released) == ("sam", None)
    assert refused.status_code == 403
    assert StewardTask.objects.get().assignee == steward.user


def test_dismiss_needs_a_reason_and_keeps_it(steward, rule_task):
    without = steward.post(decide(rule_task), {"decision": "dismiss", "reason": " "}, follow=True)
    status_without = StewardTask.objects.get().status
    steward.post(decide(rule_task), {"decision": "dismiss", "reason": "the client has no country: a holding"})

    rule_task.refresh_from_db()
    assert status_without == TaskStatus.OPEN
    assert "Say why: the reason is kept with the decision." in messages_of(without)
    assert (rule_task.status, rule_task.resolution_note, rule_task.resolved_by_name) == (
        TaskStatus.DISMISSED, "the client has no country: a holding", "sam")


def test_defer_takes_the_task_out_of_the_ready_queue_for_the_chosen_days(steward, rule_task):
    steward.post(decide(rule_task), {"decision": "defer", "days": "7", "reason": "waiting for finance"})

    rule_task.refresh_from_db()
    ready = steward.get(reverse("admin:stewardship_stewardtask_changelist")).context["cl"].result_list
    assert rule_task.status == TaskStatus.OPEN
    assert 6.9 < (rule_task.deferred_until - timezone.now()).total_seconds() / 86400 <= 7
    assert list(ready) == []


def test_resolve_and_deciding_twice(steward, rule_task):
    steward.post(decide(rule_task), {"decision": "resolve", "reason": "country set in NetSuite"})
    again = steward.post(decide(rule_task), {"decision": "resolve"}, follow=True)

    rule_task.refresh_from_db()
    assert (rule_task.status, rule_task.resolution, rule_task.resolution_note) == (
        TaskStatus.RESOLVED, Resolution.FIXED, "country set in NetSuite")
    assert "This task is resolved." in messages_of(again)
    assert "nothing left to decide" in again.content.decode()


def test_not_a_match_from_the_task_page_remembers_the_pair(steward):
    pair = potential_match_task()

    steward.post(decide(pair), {"decision": "not_a_match", "reason": "two publishers, two cities"})

    pair.refresh_from_db()
    assert (pair.status, pair.resolution) == (TaskStatus.RESOLVED, Resolution.NOT_A_MATCH)
    assert NotAMatch.objects.get().reason == "two publishers, two cities"
    assert PotentialMatch.objects.get().status == "not_a_match"


def test_comments_are_added_and_listed_with_the_history(steward, second_steward, rule_task):
    steward_task_claim(task=rule_task, user=steward.user)
    comment_url = reverse("admin:stewardship_stewardtask_comment", args=[rule_task.pk])

    second_steward.post(comment_url, {"body": "Asked the account lead for the country."})
    empty = second_steward.post(comment_url, {"body": "  "}, follow=True)
    content = steward.get(page(rule_task)).content.decode()

    assert [(c.author_name, c.body) for c in TaskComment.objects.all()] == [
        ("kim", "Asked the account lead for the country.")]
    assert "A comment needs some text." in messages_of(empty)
    assert "Asked the account lead for the country." in content
    assert "assigned to sam by sam" in content and "opened" in content


def test_decisions_are_csrf_protected(steward, rule_task):
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(steward.user)

    response = strict.post(decide(rule_task), {"decision": "dismiss", "reason": "no"})

    assert response.status_code == 403
    assert StewardTask.objects.get().status == TaskStatus.OPEN


def test_a_task_is_never_edited_as_a_form_nor_reverted_from_its_history(steward, rule_task):
    steward.post(decide(rule_task), {"decision": "claim"})
    version = rule_task.history.order_by("history_date").first()

    edit = steward.post(page(rule_task), {"status": "dismissed", "title": "changed"})
    revert = steward.post(reverse("admin:stewardship_stewardtask_simple_history",
                                  args=[rule_task.pk, version.history_id]), {})

    rule_task.refresh_from_db()
    assert (edit.status_code, revert.status_code) == (405, 403)
    assert (rule_task.status, rule_task.title, rule_task.assignee) == (TaskStatus.IN_PROGRESS,
                                                                      "Country missing on CL-000007", steward.user)
