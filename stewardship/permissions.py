"""The roles' admin permissions, kept in step with the code after every migrate.

Each role is a Django group (names in hub.roles). What a role may do is listed here, explicitly, per
model; ``roles_sync`` makes the groups hold exactly that (run after migrate, idempotent).
"""

from django.apps import apps as global_apps
from django.contrib.auth.models import Group, Permission
from django.db.models import Q

from hub import roles

# Every model of these apps is readable by every role.
READ_APPS = ("canonical", "connectors", "stewardship", "hub", "django_celery_beat")

STEWARD_PERMISSIONS = {
    "stewardship": ["change_stewardtask", "work_task", "add_taskcomment", "add_editproposal",
                    "change_editproposal", "approve_proposal", "add_bulkaction", "change_bulkaction"],
    "canonical": ["change_potentialmatch", "change_client", "change_engagement", "change_contract",
                  "change_milestone", "add_notamatch", "delete_notamatch"],
    "connectors": ["change_delivery", "change_webhookevent"],
}
LEAD_PERMISSIONS = {
    "stewardship": ["assign_task", "add_dataqualityrule", "change_dataqualityrule", "delete_dataqualityrule",
                    "add_businessexceptionrule", "change_businessexceptionrule", "change_tasksla"],
    "canonical": ["change_matchconfiguration", "add_matchconfiguration"],
    "connectors": ["change_subscription", "change_stream"],
    "django_celery_beat": ["change_periodictask", "change_intervalschedule", "change_crontabschedule"],
}


def _permissions(by_app: dict[str, list[str]]) -> Q:
    query = Q(pk__in=[])
    for app, codenames in by_app.items():
        query |= Q(content_type__app_label=app, codename__in=codenames)
    return query


def role_permissions() -> dict[str, Q]:
    read = Q(content_type__app_label__in=READ_APPS, codename__startswith="view_")
    steward = read | _permissions(STEWARD_PERMISSIONS)
    return {roles.VIEWER: read, roles.STEWARD: steward, roles.STEWARD_LEAD: steward | _permissions(LEAD_PERMISSIONS)}


def roles_sync(**kwargs) -> None:
    """post_migrate receiver: create the role groups and give each exactly its permissions."""
    if not global_apps.is_installed("stewardship"):
        return
    for name, query in role_permissions().items():
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.set(Permission.objects.filter(query))
