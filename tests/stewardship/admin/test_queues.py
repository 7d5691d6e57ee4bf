"""The queues: one tab per kind, active and ready by default, filters a steward works by, and the columns."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from stewardship.models import TaskKind
from stewardship.services.tasks import steward_task_assign, steward_task_defer, steward_task_dismiss
from tests.stewardship.admin.scenarios import aged, overdue, potential_match_task, task

QUEUE = reverse("admin:stewardship_stewardtask_changelist")


def listed(response) -> list[str]:
    return [t.title for t in response.context["cl"].result_list]


@pytest.fixture
def queues(db, steward):
    """One task of each kind, and a dismissed one, a deferred one and one the steward holds."""
    tasks = {
        "dq": task(TaskKind.DATA_QUALITY, "dq:1", "Country missing on CL-000001", domain="client"),
        "bex": task(TaskKind.BUSINESS_EXCEPTION, "bex:1", "Milestone completed, not invoiced", domain="milestone",
                    amount=Decimal("12500.00"), currency="EUR"),
        "bex_small": task(TaskKind.BUSINESS_EXCEPTION, "bex:2", "Expense approved, not billed", domain="engagement",
                          amount=Decimal("180.00"), currency="GBP"),
        "sync": task(TaskKind.SYNC_FAILURE, "stream:1", "Pull failing: netsuite customer"),
        "gone": task(TaskKind.DATA_QUALITY, "dq:2", "Dismissed one"),
        "later": task(TaskKind.DATA_QUALITY, "dq:3", "Deferred one"),
        "mine": task(TaskKind.DATA_QUALITY, "dq:4", "Held by sam"),
    }
    steward_task_dismiss(task=tasks["gone"], reason="known gap", user=steward.user)
    steward_task_defer(task=tasks["later"], until=timezone.now() + timedelta(days=2), user=steward.user)
    steward_task_assign(task=tasks["mine"], assignee=steward.user, by=steward.user)
    return tasks


def test_the_default_queue_shows_active_ready_tasks_of_every_kind_with_a_tab_per_kind(steward, queues):
    response = steward.get(QUEUE)

    assert response.status_code == 200
    assert sorted(listed(response)) == sorted(["Country missing on CL-000001", "Milestone completed, not invoiced",
                                               "Expense approved, not billed", "Pull failing: netsuite customer",
                                               "Held by sam"])
    tabs = {tab["kind"]: tab["count"] for tab in response.context["tabs"]}
    assert tabs == {"": 5, "potential_match": 0, "data_quality": 2, "business_exception": 2, "sync_failure": 1}


@pytest.mark.parametrize(("query", "expected"), [
    ({"kind": "business_exception"}, {"Milestone completed, not invoiced", "Expense approved, not billed"}),
    ({"kind": "data_quality", "status": "active"}, {"Country missing on CL-000001", "Deferred one", "Held by sam"}),
    ({"status": "deferred"}, {"Deferred one"}),
    ({"status": "dismissed"}, {"Dismissed one"}),
    ({"assignee": "me"}, {"Held by sam"}),
    ({"kind": "data_quality", "assignee": "unassigned"}, {"Country missing on CL-000001"}),
    ({"domain": "milestone"}, {"Milestone completed, not invoiced"}),
    ({"priority__exact": "3"}, {"Country missing on CL-000001", "Held by sam"}),
    ({"q": "netsuite"}, {"Pull failing: netsuite customer"}),
])
def test_filters_narrow_the_queue(steward, queues, query, expected):
    assert set(listed(steward.get(QUEUE, query))) == expected


def test_overdue_and_age_filters_and_the_overdue_due_date_in_red(steward, queues):
    overdue(queues["sync"], hours=5)
    aged(queues["dq"], days=10)

    late = steward.get(QUEUE, {"overdue": "yes"})
    old = steward.get(QUEUE, {"age": "month"})
    fresh = steward.get(QUEUE, {"age": "day"})

    assert listed(late) == ["Pull failing: netsuite customer"]
    assert '<span class="sc-overdue" title="due' in late.content.decode()
    assert "5 h overdue" in late.content.decode()
    assert listed(old) == ["Country missing on CL-000001"]
    assert "Country missing on CL-000001" not in listed(fresh) and len(listed(fresh)) == 4


def test_money_at_stake_is_shown_with_its_currency_and_sorts(steward, queues):
    columns = steward.get(QUEUE, {"kind": "business_exception"}).context["cl"].list_display
    money = columns.index("money_at_stake")

    ascending = steward.get(QUEUE, {"kind": "business_exception", "o": str(money)})
    descending = steward.get(QUEUE, {"kind": "business_exception", "o": f"-{money}"})

    assert listed(ascending) == ["Expense approved, not billed", "Milestone completed, not invoiced"]
    assert listed(descending) == ["Milestone completed, not invoiced", "Expense approved, not billed"]
    assert "12,500.00 <small>EUR</small>" in ascending.content.decode()


def test_records_link_to_their_golden_record_pages_and_pairs_to_their_comparison(steward):
    pair = potential_match_task()

    page = steward.get(QUEUE, {"kind": "potential_match"}).content.decode()

    for pk, golden_id in zip(pair.record_ids, pair.golden_ids, strict=True):
        assert f'<a href="{reverse("admin:canonical_client_change", args=[pk])}">{golden_id}</a>' in page
    assert reverse("admin:stewardship_stewardtask_compare", args=[pair.pk]) in page


def test_a_golden_id_finds_its_tasks(steward):
    pair = potential_match_task()
    task(TaskKind.DATA_QUALITY, "dq:x", "Unrelated")

    assert listed(steward.get(QUEUE, {"q": pair.golden_ids[0].lower(), "kind": "potential_match"})) == [pair.title]


def test_steward_home_and_the_admin_index_count_open_overdue_and_own_tasks_per_queue(steward, queues):
    overdue(queues["sync"])

    home = steward.get(reverse("admin:stewardship_stewardtask_home"))
    index = steward.get(reverse("admin:index"))

    by_kind = {q["kind"]: q for q in home.context["queues"]}
    assert (by_kind["data_quality"]["active"], by_kind["data_quality"]["ready"], by_kind["data_quality"]["mine"]) == (
        3, 2, 1)
    assert (by_kind["sync_failure"]["overdue"], by_kind["business_exception"]["unassigned"]) == (1, 2)
    assert home.context["totals"] == {"active": 6, "overdue": 1, "mine": 1}
    panel = index.content.decode()
    assert 'id="steward-queues"' in panel
    assert f'href="{QUEUE}?kind=sync_failure&amp;overdue=yes&amp;status=active">1</a>' in panel


def test_the_queue_pages_render_for_every_role(viewer, steward, lead, queues):
    for client in (viewer, steward, lead):
        for url in (QUEUE, reverse("admin:stewardship_stewardtask_home"), reverse("admin:index"),
                    reverse("admin:stewardship_bulkaction_changelist"),
                    reverse("admin:stewardship_editproposal_changelist"),
                    reverse("admin:stewardship_stewardtask_history", args=[queues["dq"].pk])):
            assert client.get(url).status_code == 200, (client.user, url)


def test_staff_without_a_role_cannot_open_the_queues(db, client, django_user_model):
    client.force_login(django_user_model.objects.create_user("nobody", password="pw", is_staff=True))

    assert client.get(QUEUE).status_code == 403
    assert client.get(reverse("admin:stewardship_stewardtask_home")).status_code == 403
