"""ASGI entry point: Django for HTTP, Channels routes for streaming and WebSocket."""
import gc
import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
django_asgi_app = get_asgi_application()  # before importing anything that touches models

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.urls import re_path  # noqa: E402

from apps.core.auth import PrincipalMiddleware  # noqa: E402
from apps.core.body_deadline import BodyDeadlineMiddleware  # noqa: E402
from apps.streaming.security import allowed_hosts_origin_validator  # noqa: E402
from config.routing import http_routes, websocket_routes  # noqa: E402

# The REST routes get a request-body deadline (streaming endpoints enforce their own).
_django_fallback = re_path(r"", BodyDeadlineMiddleware(django_asgi_app))  # type: ignore[arg-type]

application = ProtocolTypeRouter(
    {
        # Streaming endpoints are Channels consumers; everything else falls through to Django.
        "http": PrincipalMiddleware(URLRouter([*http_routes, _django_fallback])),
        "websocket": allowed_hosts_origin_validator(PrincipalMiddleware(URLRouter(websocket_routes))),
    }
)

# What the first run would import lazily (the engine's runner, the provider SDKs and their
# models) is imported now; then everything imported so far, which lives as long as the
# process, is moved out of the garbage collector's generations, so the full collections
# that streaming traffic triggers do not walk it again and again.
import apps.engine.runner  # noqa: E402
import apps.providers.anthropic_provider  # noqa: E402
import apps.providers.openai_provider  # noqa: E402,F401

gc.collect()
gc.freeze()
