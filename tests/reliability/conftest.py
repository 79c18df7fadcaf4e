"""Fixtures of the fault tests: the engine's fast settings, tenants and fake upstreams."""
from tests.engine.conftest import fake_openai, fast_engine, runtime_cleanup, tenant_async  # noqa: F401
from tests.engine.test_tools_and_providers import fake_anthropic  # noqa: F401
from tests.workers import fake_upstream  # noqa: F401
