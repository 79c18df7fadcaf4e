"""Authentication for every transport: API keys and Django sessions.

``resolve_api_key`` is the single mechanism. DRF views reach it through
``ApiKeyAuthentication``; Channels consumers (HTTP and WebSocket) through
``ApiKeyAuthMiddleware``, which puts the resulting ``Principal`` into the ASGI
scope as ``scope["principal"]``.
"""
from __future__ import annotations

import hashlib
import logging
import secrets
import time
from datetime import timedelta
from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.db import InterfaceError, OperationalError, close_old_connections
from django.utils import timezone
from rest_framework import authentication
from rest_framework.request import Request

from apps.core.errors import AuthenticationFailed, ServiceUnavailable
from apps.core.models import ApiKey, Membership
from apps.core.principal import Principal

logger = logging.getLogger(__name__)

KEY_PREFIX = "bp_"
DISPLAY_PREFIX_LENGTH = 11
_LAST_USED_RESOLUTION = timedelta(minutes=1)


def generate_api_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


def hash_api_key(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def extract_api_key(headers: dict[str, str]) -> str | None:
    """Return the raw key from ``X-API-Key`` or ``Authorization: Bearer``, if any.

    ``headers`` has lower-case names.
    """
    key = headers.get("x-api-key", "").strip()
    if key:
        return key
    auth = headers.get("authorization", "")
    scheme, _, value = auth.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return None


# Recently resolved keys, per process: a key lookup costs a query on every streamed answer's
# first token. A revocation is seen at once in the revoking process and within
# API_KEY_CACHE_SECONDS elsewhere.
_key_cache: dict[str, tuple[float, Principal]] = {}
_KEY_CACHE_MAX = 10_000


def forget_api_key(key_hash: str) -> None:
    _key_cache.pop(key_hash, None)


def cached_api_key(raw: str) -> Principal | None:
    """The principal of a key resolved in the last ``API_KEY_CACHE_SECONDS``, without the database."""
    cached = _key_cache.get(hash_api_key(raw))
    if cached is not None and time.monotonic() - cached[0] < float(getattr(settings, "API_KEY_CACHE_SECONDS", 5.0)):
        return cached[1]
    return None


def resolve_api_key(raw: str) -> Principal:
    """Look a raw key up.

    Raises:
        AuthenticationFailed: unknown or revoked key.
    """
    cached = cached_api_key(raw)
    if cached is not None:
        return cached
    digest = hash_api_key(raw)
    ttl = float(getattr(settings, "API_KEY_CACHE_SECONDS", 5.0))
    principal = _lookup_api_key(digest)
    if ttl > 0:
        if len(_key_cache) >= _KEY_CACHE_MAX:
            _key_cache.clear()
        _key_cache[digest] = (time.monotonic(), principal)
    return principal


def _lookup_api_key(digest: str) -> Principal:
    try:
        key = ApiKey.objects.select_related("workspace", "user").get(key_hash=digest)
    except ApiKey.DoesNotExist:
        raise AuthenticationFailed("Invalid API key.", code="invalid_api_key") from None
    if key.revoked_at is not None:
        raise AuthenticationFailed("This API key has been revoked.", code="revoked_api_key")
    now = timezone.now()
    if key.last_used_at is None or now - key.last_used_at > _LAST_USED_RESOLUTION:
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
    return Principal(workspace=key.workspace, user=key.user, api_key=key)


def principal_for_user(user: Any) -> Principal | None:
    """The session user's principal: their oldest workspace membership."""
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    membership = (
        Membership.objects.select_related("workspace").filter(user=user).order_by("created_at").first()
    )
    if membership is None:
        return None
    return Principal(workspace=membership.workspace, user=user, via_session=True)


class ApiKeyAuthentication(authentication.BaseAuthentication):
    """DRF: authenticate by API key; ``request.auth`` becomes the ``Principal``."""

    def authenticate(self, request: Request) -> tuple[Any, Principal] | None:
        scope = getattr(request._request, "scope", None)
        scoped = scope.get("principal") if scope is not None else None
        # Only a key-authenticated principal is reused here; a session principal must go
        # through DRF's SessionAuthentication, which enforces CSRF.
        if scoped is not None and scoped.api_key is not None:
            principal: Principal = scoped
            return principal.user or _KeyUser(principal), principal
        headers = {k.lower(): v for k, v in request.headers.items()}
        raw = extract_api_key(headers)
        if raw is None:
            return None
        try:
            principal = resolve_api_key(raw)
        except AuthenticationFailed as exc:
            from rest_framework.exceptions import AuthenticationFailed as DrfAuthFailed

            raise DrfAuthFailed(exc.message) from exc
        return principal.user or _KeyUser(principal), principal

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="api"'


class _KeyUser(AnonymousUser):
    """Stands in for a key with no user, so DRF's IsAuthenticated passes."""

    def __init__(self, principal: Principal) -> None:
        super().__init__()
        self.principal = principal

    @property
    def is_authenticated(self) -> bool:  # type: ignore[override]
        return True


def request_principal(request: Request) -> Principal:
    """The caller of a DRF request (API key or session)."""
    if isinstance(request.auth, Principal):
        return request.auth
    principal = principal_for_user(request.user)
    if principal is None:
        raise AuthenticationFailed("Authentication credentials were not provided.")
    return principal


def scope_api_key(scope: dict[str, Any]) -> str | None:
    """The raw key of an ASGI request. Keys only travel in headers: a query string ends up in access logs."""
    return extract_api_key({k.decode("latin1").lower(): v.decode("latin1") for k, v in scope.get("headers", [])})


def _resolve_api_key_pooled(raw: str) -> Principal:
    """``resolve_api_key`` on a sound connection, handed back to the pool afterwards.

    Channels routes get no request_started/finished signals, so nothing else would notice
    a connection broken by a database restart: it would fail every later lookup.
    """
    close_old_connections()
    try:
        return resolve_api_key(raw)
    finally:
        close_old_connections()


class PrincipalMiddleware:
    """ASGI middleware for Channels routes: sets ``scope["principal"]`` (or None).

    A request carrying an API key is resolved from the key alone (a key seen in the last
    few seconds without touching the database) and skips the session middleware, which
    would look a session up and wrap every ``send`` of the stream. Any other request goes
    through Channels' ``AuthMiddlewareStack`` and becomes its session user's principal.
    A bad key sets ``scope["auth_error"]`` so the consumer can answer 401 / close.
    """

    def __init__(self, inner: Any) -> None:
        from channels.auth import AuthMiddlewareStack

        self.inner = inner
        self.with_session = AuthMiddlewareStack(self._session_principal)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> Any:
        raw = scope_api_key(scope)
        if raw is None:
            return await self.with_session(scope, receive, send)
        scope = {**scope, "principal": None, "auth_error": None}
        try:
            scope["principal"] = cached_api_key(raw) or await sync_to_async(_resolve_api_key_pooled)(raw)
        except AuthenticationFailed as exc:
            scope["auth_error"] = exc
        except (OperationalError, InterfaceError):
            logger.warning("API key lookup failed: the database is unreachable", exc_info=True)
            scope["auth_error"] = ServiceUnavailable()
        return await self.inner(scope, receive, send)

    async def _session_principal(self, scope: dict[str, Any], receive: Any, send: Any) -> Any:
        user = scope.get("user")
        principal = await sync_to_async(principal_for_user)(user) if user is not None else None
        return await self.inner({**scope, "principal": principal, "auth_error": None}, receive, send)
