"""Pytest fixtures for the fake upstreams.

Use them from any test package by importing them into its conftest::

    from tests.fakes.fixtures import fake_anthropic, fake_openai  # noqa: F401

The fakes run in a background thread with their own event loop, so they serve sync tests,
async tests, and Django servers started in other processes alike. The ``*_settings``
fixtures also point Django's settings at the fake (pytest-django's ``settings`` fixture
restores them afterwards); a server in another process needs the same values as
environment variables (``OPENAI_BASE_URL=fake.base_url`` …).
"""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.fakes.anthropic_server import FakeAnthropic
from tests.fakes.openai_server import FakeOpenAI

FAKE_OPENAI_KEY = "sk-fake-openai"
FAKE_ANTHROPIC_KEY = "sk-ant-fake"


@pytest.fixture
def fake_openai() -> Iterator[FakeOpenAI]:
    fake = FakeOpenAI(api_key=FAKE_OPENAI_KEY)
    fake.start_in_thread()
    try:
        yield fake
    finally:
        fake.stop_thread()


@pytest.fixture
def fake_anthropic() -> Iterator[FakeAnthropic]:
    fake = FakeAnthropic(api_key=FAKE_ANTHROPIC_KEY)
    fake.start_in_thread()
    try:
        yield fake
    finally:
        fake.stop_thread()


@pytest.fixture
def fake_openai_settings(settings: Any, fake_openai: FakeOpenAI) -> FakeOpenAI:
    """Route the ``openai`` provider (gpt-* models and OPENAI_MODELS) to the fake."""
    settings.OPENAI_API_KEY = FAKE_OPENAI_KEY
    settings.OPENAI_BASE_URL = fake_openai.base_url
    return fake_openai


@pytest.fixture
def fake_anthropic_settings(settings: Any, fake_anthropic: FakeAnthropic) -> FakeAnthropic:
    """Route the ``anthropic`` provider (claude-* models) to the fake."""
    settings.ANTHROPIC_API_KEY = FAKE_ANTHROPIC_KEY
    settings.ANTHROPIC_BASE_URL = fake_anthropic.base_url
    return fake_anthropic
