"""Fixtures of the engine and transport tests, for the attachment tests here."""
from __future__ import annotations

from tests.engine.conftest import fake_openai, fast_engine, runtime_cleanup, tenant_async  # noqa: F401
from tests.engine.test_tools_and_providers import fake_anthropic  # noqa: F401
from tests.streaming.conftest import asgi_server  # noqa: F401
