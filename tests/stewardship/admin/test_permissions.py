"""Roles in the admin: a viewer reads, a steward works the queues but not the rules, a lead also edits the rules,
SLAs and assigns; every console POST checks the permission, whatever the page showed."""

import pytest
from django.urls import reverse

from canonical.models import GlossaryTerm, MatchConfiguration
from canonical.services.matching import match_configuration_get
from stewardship.models import DataQualityRule, TaskKind, TaskSLA, TaskStatus
from tests.stewardship.admin.scenarios import potential_match_task


@pytest.fixture
def rule(db) -> DataQualityRule:
    return DataQualityRule.objects.create(code="console-test-rule", name="A client has a country", entity_type="client",
                                          kind="required", attribute="country")


def rule_form(**changes) -> dict:
    return {"code": "console-test-rule", "name": "A client has a country", "entity_type": "client", "kind": "required",
            "attribute": "country", "params": "{}", "priority": "3", "description": "", "enabled": "on", **changes}


def test_a_steward_cannot_change_a_data_quality_rule_and_a_lead_can(steward, lead, rule):
    url = reverse("admin:stewardship_dataqualityrule_change", args=[rule.pk])

    page = steward.get(url)
    refused = steward.post(url, rule_form(priority="1"))
    unchanged = DataQualityRule.objects.get(pk=rule.pk).priority
    accepted = lead.post(url, rule_form(priority="1"))

    assert page.status_code == 200 and 'name="_save"' not in page.content.decode()
    assert refused.status_code == 403 and unchanged == 3
    assert accepted.status_code == 302 and DataQualityRule.objects.get(pk=rule.pk).priority == 1


def test_a_steward_cannot_add_rules_nor_change_slas_and_a_lead_can(steward, lead):
    sla = TaskSLA.objects.get(kind=TaskKind.SYNC_FAILURE)
    url = reverse("admin:stewardship_tasksla_change", args=[sla.pk])

    seeded = DataQualityRule.objects.count()
    add = steward.post(reverse("admin:stewardship_dataqualityrule_add"), rule_form())
    refused = steward.post(url, {"hours": "2", "default_priority": "1"})
    hours_after_refusal = TaskSLA.objects.get(kind=TaskKind.SYNC_FAILURE).hours
    accepted = lead.post(url, {"hours": "4", "default_priority": "1"})

    assert add.status_code == 403 and DataQualityRule.objects.count() == seeded
    assert refused.status_code == 403 and hours_after_refusal == sla.hours
    assert accepted.status_code == 302 and TaskSLA.objects.get(kind=TaskKind.SYNC_FAILURE).hours == 4


def test_a_steward_cannot_change_a_match_configuration(steward, lead, db):
    config = match_configuration_get("client")
    url = reverse("admin:canonical_matchconfiguration_change", args=[config.pk])

    refused = steward.post(url, {"spec": "{}", "parameters": "{}"})

    assert refused.status_code == 403
    assert MatchConfiguration.objects.get(pk=config.pk).spec == config.spec
    # a lead reads the rules here and changes them through a dry run (API or manage.py rematch)
    assert lead.get(url).status_code == 200


def test_a_viewer_cannot_revert_reference_data_through_its_history(viewer, db):
    term = GlossaryTerm.objects.create(name="Backlog", slug="backlog", definition="Contracted, not yet recognised.",
                                       domain="finance", owner="Financial Controller", status="approved")
    first = term.history.first()
    term.definition = "Changed by finance"
    term.save()

    refused = viewer.post(reverse("admin:canonical_glossaryterm_simple_history", args=[term.pk, first.history_id]),
                          {"name": "Backlog", "slug": "backlog", "definition": "Contracted, not yet recognised.",
                           "domain": "finance", "owner": "Financial Controller", "status": "approved"})

    assert refused.status_code == 403
    assert GlossaryTerm.objects.get().definition == "Changed by finance"


@pytest.mark.parametrize(("view", "decision"), [("decide", "dismiss"), ("decide", "claim"), ("comment", ""),
                                               ("compare", "not_a_match"), ("compare", "defer")])
def test_every_console_post_refuses_a_viewer(viewer, db, view, decision):
    target = potential_match_task()

    response = viewer.post(reverse(f"admin:stewardship_stewardtask_{view}", args=[target.pk]),
                           {"decision": decision, "reason": "x", "body": "x"})

    target.refresh_from_db()
    assert response.status_code == 403
    assert (target.status, target.assignee, target.deferred_until) == (TaskStatus.OPEN, None, None)
    assert target.comments.count() == 0


def test_a_viewer_cannot_run_the_sweeps_and_a_steward_can(viewer, steward, db):
    assert viewer.post(reverse("admin:stewardship_stewardtask_sweep")).status_code == 403
    assert steward.post(reverse("admin:stewardship_stewardtask_sweep")).status_code == 302
    assert steward.get(reverse("admin:stewardship_stewardtask_sweep")).status_code == 405
