"""Nothing goes unchecked: every (verb, route) the resolvers serve has a row in routes.ROUTES."""
from __future__ import annotations

from typing import Any

from django.urls import URLPattern, URLResolver, get_resolver

from tests.security.routes import BROWSER_PAGES, EXCLUDED_PREFIXES, PUBLIC, ROUTES

VERBS = ("get", "post", "put", "patch", "delete")


def _django_routes(patterns: list[Any], prefix: str = "/") -> set[tuple[str, str]]:
    served: set[tuple[str, str]] = set()
    for entry in patterns:
        if isinstance(entry, URLResolver):
            served |= _django_routes(entry.url_patterns, prefix + str(entry.pattern))
            continue
        assert isinstance(entry, URLPattern)
        view = getattr(entry.callback, "view_class", None) or getattr(entry.callback, "cls", None)
        route = prefix + str(entry.pattern)
        if view is None:  # a function view: it answers whatever verb it is sent
            served.update((verb.upper(), route) for verb in VERBS)
            continue
        served.update((verb.upper(), route) for verb in VERBS if hasattr(view, verb))
    return served


def _channels_routes() -> set[tuple[str, str]]:
    from config.routing import http_routes, websocket_routes

    served: set[tuple[str, str]] = set()
    for entry in http_routes:
        methods = getattr(entry.callback, "methods", VERBS)
        served.update((method.upper(), "/" + str(entry.pattern)) for method in methods)
    served.update(("WS", "/" + str(entry.pattern)) for entry in websocket_routes)
    return served


def served_routes() -> set[tuple[str, str]]:
    every = _django_routes(get_resolver().url_patterns) | _channels_routes()
    return {(verb, route) for verb, route in every
            if not route.startswith(EXCLUDED_PREFIXES) and route not in BROWSER_PAGES}


def test_every_served_route_and_verb_has_a_row_or_is_public() -> None:
    rows = {(spec.method, spec.pattern) for spec in ROUTES}
    missing = sorted(served_routes() - rows - PUBLIC)
    assert not missing, "routes without a row in tests/security/routes.py: " + ", ".join(
        f"{verb} {route}" for verb, route in missing)


def test_every_row_names_a_served_route() -> None:
    stale = sorted({(spec.method, spec.pattern) for spec in ROUTES} - served_routes())
    assert not stale, f"rows for routes nobody serves: {stale}"


def test_the_enumeration_sees_both_resolvers() -> None:
    served = served_routes()
    assert ("GET", "/api/projects") in served  # Django
    assert ("POST", "/api/chat/<str:project_id>/messages") in served  # Channels HTTP
    assert ("WS", "/api/chat/ws") in served  # Channels WebSocket
