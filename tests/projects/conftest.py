"""The engine's fixtures (fast intervals, a fake OpenAI upstream, an async tenant) for the file tests
that run a model turn: build-mode ``write_file`` and direct-save into a live run."""
from tests.engine.conftest import (  # noqa: F401 - fixtures
    _close_engine_connections,
    fake_openai,
    fast_engine,
    runtime_cleanup,
    tenant_async,
)
