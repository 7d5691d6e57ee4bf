"""Who may do what in the console: the role permissions (stewardship.permissions grants them to the groups)."""

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest

WORK = "stewardship.work_task"  # claim, decide, merge, override, propose, replay, undo a bulk action
ASSIGN = "stewardship.assign_task"  # give tasks to others (steward leads)
APPROVE = "stewardship.approve_proposal"  # approve a second steward's sensitive edit


def can(request: HttpRequest, permission: str) -> bool:
    return request.user.is_active and request.user.has_perm(permission)


def require(request: HttpRequest, permission: str) -> None:
    """403 unless the signed-in user holds ``permission``."""
    if not can(request, permission):
        raise PermissionDenied
