"""The people roles of the hub, as Django groups, and the API scopes a signed-in member of each holds.

Steward: works the queues (merge, not a match, overrides, replay). Steward lead: also rules, thresholds,
SLAs and assignment. Viewer: reads everything, changes nothing (finance and delivery staff).
The groups' admin permissions are kept in step by ``stewardship.permissions``.
"""

from hub.api import scopes

VIEWER = "Viewer"
STEWARD = "Steward"
STEWARD_LEAD = "Steward lead"
ROLES = (VIEWER, STEWARD, STEWARD_LEAD)

READ_SCOPES = frozenset(
    {scopes.READ_CLIENTS, scopes.READ_ENGAGEMENTS, scopes.READ_CONTRACTS, scopes.READ_REVENUE_EVENTS,
     scopes.READ_GLOSSARY, scopes.READ_SYSTEMS, scopes.STEWARD_READ}
)
ROLE_SCOPES = {
    VIEWER: READ_SCOPES,
    STEWARD: READ_SCOPES | {scopes.STEWARD_WRITE},
    STEWARD_LEAD: READ_SCOPES | {scopes.STEWARD_WRITE, scopes.MATCH_RULES_WRITE},
}


def user_scopes(user) -> frozenset[str]:
    """A signed-in person's scopes: superusers hold all, staff hold their roles' (read-only without one)."""
    if not (user and user.is_authenticated and user.is_active and user.is_staff):
        return frozenset()
    if user.is_superuser:
        return frozenset(scopes.ALL)
    granted = set(READ_SCOPES)
    for name in user.groups.values_list("name", flat=True):
        granted |= ROLE_SCOPES.get(name, frozenset())
    return frozenset(granted)
