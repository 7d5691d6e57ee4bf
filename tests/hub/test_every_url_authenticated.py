"""Walk the URL resolver: every route outside an explicit allow-list refuses an anonymous caller."""

import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

# Webhook receivers authenticate each request by its HMAC signature instead (tests/connectors/api).
PUBLIC = {"healthz", "api/schema/", "api/docs/", "admin/login/", "admin/logout/", "hooks/x/"}


def _routes(resolver: URLResolver, prefix: str = ""):
    for pattern in resolver.url_patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            yield from _routes(pattern, route)
        elif isinstance(pattern, URLPattern):
            yield route


def _concrete(route: str) -> str | None:
    if "(?P<format>" in route or "<drf_format_suffix:format>" in route:
        return None  # format-suffix twins of routes that are checked plainly
    route = route.replace("^", "").replace("$", "").replace("\\Z", "").replace("/?", "/")
    route = re.sub(r"\(\?P<[^>]+>[^)]*\)", "x", route)
    route = re.sub(r"<[^>]+>", "x", route)
    return "/" + route


@pytest.mark.django_db
def test_every_route_refuses_anonymous_callers(anonymous):
    routes = sorted({c for r in _routes(get_resolver()) if (c := _concrete(r))})
    checked = 0
    for route in routes:
        if route.lstrip("/") in PUBLIC:
            continue
        response = anonymous.get(route)
        if route.startswith("/admin/"):
            # The admin is for staff: anonymous callers are sent to its login page (or find nothing there).
            assert response.status_code in {302, 404}, route
            if response.status_code == 302:
                assert "/admin/login/" in response["Location"], route
        else:
            assert response.status_code == 401, (route, response.status_code)
        checked += 1
    assert checked > 20
