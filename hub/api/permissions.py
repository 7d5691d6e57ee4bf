"""Scope-based permissions. A view names the scope it needs; a signed-in person holds their roles' scopes."""

from rest_framework import permissions
from rest_framework.request import Request

from hub.models import ApiClient
from hub.roles import user_scopes


def caller_has_scope(request: Request, scope: str) -> bool:
    if isinstance(request.auth, ApiClient):
        return request.auth.has_scope(scope)
    user = request.user
    if not (user and user.is_authenticated):
        return False
    cached = getattr(request, "_concord_scopes", None)
    if cached is None:
        cached = request._concord_scopes = user_scopes(user)
    return scope in cached


def caller_scopes_filter(request: Request, scopes_by_key: dict[str, str]) -> list[str]:
    """The keys (e.g. entity types) whose scope the caller holds."""
    return [key for key, scope in scopes_by_key.items() if caller_has_scope(request, scope)]


class HasScope(permissions.BasePermission):
    """Grant access when the caller holds ``view.required_scope``. Unauthenticated callers get 401.

    A view without ``required_scope`` is closed to everyone: forgetting to declare a scope fails safe.
    """

    message = "Your API client lacks the scope this endpoint requires."

    def has_permission(self, request: Request, view) -> bool:
        if request.user is None or not request.user.is_authenticated:
            return False
        scope = getattr(view, "required_scope", None)
        if scope is None:
            return False
        self.message = f"This endpoint requires the '{scope}' scope."
        return caller_has_scope(request, scope)


class IsAuthenticatedCaller(permissions.BasePermission):
    """Any authenticated API client or staff user; the view then checks scopes per record it returns."""

    def has_permission(self, request: Request, view) -> bool:
        if isinstance(request.auth, ApiClient):
            return True
        user = request.user
        return bool(user and user.is_authenticated and user.is_active and user.is_staff)


def actor_name(request: Request) -> str:
    """Who is acting, for history and decision rows: a staff user's username or an API client's name."""
    if isinstance(request.auth, ApiClient):
        return f"api:{request.auth.name}"
    return getattr(request.user, "username", "") or "anonymous"
