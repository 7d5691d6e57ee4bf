"""The shipped business-exception rules (editable in the admin), and the hourly beat schedule that runs them."""

from django.db import migrations

from hub.schedules import interval_task

# (code, kind, grace days, params, priority, name, description)
BUSINESS_EXCEPTION_RULES = [
    ("closed-won-without-psa-project", "closed_won_without_psa_project", 7, {}, 2,
     "Closed-won opportunity with no project in the PSA",
     "Won (a booking revenue event, or a CRM copy of the engagement saying closed-won) and, after the grace "
     "period, no PSA holds a project for it: nobody can staff or record time on the work. The hub does not hold "
     "the CRM's close date, so without a booking the grace period runs from the CRM copy's last change. Money at "
     "stake: the booking (or the engagement budget)."),
    ("project-awaiting-erp-activation", "project_awaiting_erp_activation", 5,
     {"statuses": ["active", "on_hold", "completed"]}, 2, "Project awaiting ERP activation",
     "The PSA runs the project and work has started, but the ERP has no project for it, so its time and "
     "milestones cannot be billed. The grace period runs from the engagement's start date. Money at stake: the "
     "engagement budget."),
    ("milestone-completed-not-invoiced", "milestone_completed_not_invoiced", 14, {}, 2,
     "Completed milestone not invoiced",
     "A milestone with an amount was completed and, after the grace period, no invoice names it and the PSA has "
     "not marked it invoiced. Money at stake: the milestone amount."),
    ("approved-time-not-billed", "approved_time_not_billed", 14,
     {"engagement_types": ["time_and_materials"], "tolerance": "1.00"}, 2, "Approved time not billed",
     "Time and materials bill approved time monthly in arrears: approved time older than the grace period that the "
     "engagement's invoices do not cover (invoices are matched to approvals oldest first). Money at stake: the "
     "unbilled amount."),
    ("forecast-not-delivered-to-fpa", "forecast_not_delivered_to_fpa", 2, {"lookback_days": 120}, 3,
     "Forecast revision not delivered to FP&A",
     "The latest forecast revision of an engagement (of the last 120 days) that no FP&A system holds: it did not "
     "come from one and no delivery to an FP&A system succeeded. Money at stake: the forecast amount."),
    ("client-attributes-disagree", "client_attributes_disagree", 3,
     {"attributes": ["legal_name", "tax_id", "country", "billing_postcode", "website_domain"],
      "name_similarity": 0.9}, 3, "Client key attributes disagree across platforms",
     "Two platforms hold a key attribute of a client differently, compared normalised (legal forms, spacing, case "
     "and country names do not count); names may differ up to the Jaro-Winkler similarity in name_similarity, "
     "codes and identifiers must be equal. The grace period lets a change reach every platform. Money at stake: "
     "the budgets of the client's active and on-hold engagements, in the client's currency."),
]


def seed(apps, schema_editor):
    BusinessExceptionRule = apps.get_model("stewardship", "BusinessExceptionRule")
    for code, kind, grace_days, params, priority, name, description in BUSINESS_EXCEPTION_RULES:
        BusinessExceptionRule.objects.get_or_create(code=code, defaults={
            "kind": kind, "grace_days": grace_days, "params": params, "priority": priority, "name": name,
            "description": description,
        })


def unseed(apps, schema_editor):
    apps.get_model("stewardship", "BusinessExceptionRule").objects.filter(
        code__in=[rule[0] for rule in BUSINESS_EXCEPTION_RULES]).delete()


class Migration(migrations.Migration):
    dependencies = [("stewardship", "0003_seed_quality_rules"), ("django_celery_beat", "0019_alter_periodictasks_options")]
    operations = [
        migrations.RunPython(seed, unseed),
        interval_task("Check business exceptions", "stewardship.tasks.business_exceptions_check_task", 3600),
    ]
