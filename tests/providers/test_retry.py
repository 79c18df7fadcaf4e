"""stream_with_retries over real HTTP: retries before the first token only, with measured delays."""
from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from apps.providers.base import (
    Finish,
    ProviderError,
    ProviderEvent,
    ProviderRequest,
    StreamMeta,
    TextDelta,
)
from apps.providers.retry import backoff_delay, stream_with_retries
from tests.fakes.script import Script
from tests.providers.conftest import collect, collect_until_error, user_request


class RecordingSleep:
    """Stands in for asyncio.sleep: records each requested delay and returns at once."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)


@pytest.fixture
def sleep() -> RecordingSleep:
    return RecordingSleep()


def retrying(provider, sleep, **kwargs):
    options = {"max_attempts": 4, "base_delay": 0.5, "max_delay": 8.0, "max_retry_after": 30.0,
               "sleep": sleep, "jitter": lambda: 1.0}
    options.update(kwargs)
    return stream_with_retries(provider, user_request(), **options)


async def test_succeeds_after_failures_before_the_first_token(openai_provider, fake_openai, sleep):
    fake_openai.enqueue(Script.error(500), times=2)
    fake_openai.enqueue(Script.error(503))
    fake_openai.set_script(Script.from_text("Finally an answer."))

    events = await collect(retrying(openai_provider, sleep))

    assert "".join(e.text for e in events if isinstance(e, TextDelta)) == "Finally an answer."
    assert len(fake_openai.requests) == 4
    assert sleep.delays == [0.5, 1.0, 2.0]  # exponential; the jitter source is pinned to 1


async def test_backoff_is_jittered_and_capped():
    assert backoff_delay(1, base_delay=0.5, max_delay=8, jitter=lambda: 0.5) == 0.25
    assert backoff_delay(10, base_delay=0.5, max_delay=8, jitter=lambda: 0.999) == pytest.approx(7.992)


async def test_honours_retry_after(anthropic_provider, fake_anthropic, sleep):
    fake_anthropic.enqueue(Script.error(429, retry_after="2"))
    fake_anthropic.enqueue(Script.error(529))

    events = await collect(retrying(anthropic_provider, sleep))

    assert isinstance(events[-1], Finish)
    assert len(fake_anthropic.requests) == 3
    assert sleep.delays == [2.0, 1.0]  # Retry-After, then backoff for the second retry


async def test_retry_after_is_capped(openai_provider, fake_openai, sleep):
    fake_openai.enqueue(Script.error(429, retry_after="3600"))

    await collect(retrying(openai_provider, sleep, max_retry_after=10.0))

    assert sleep.delays == [10.0]


async def test_gives_up_after_max_attempts_with_the_last_error(openai_provider, fake_openai, sleep):
    fake_openai.set_script(Script.error(500))

    events, error = await collect_until_error(retrying(openai_provider, sleep, max_attempts=3))

    assert events == []
    assert (error.code, error.retryable) == ("upstream_unavailable", True)
    assert len(fake_openai.requests) == 3
    assert len(sleep.delays) == 2


async def test_a_non_retryable_error_is_not_retried(openai_provider, fake_openai, sleep):
    fake_openai.set_script(Script.error(401))

    _, error = await collect_until_error(retrying(openai_provider, sleep))

    assert error.code == "authentication_failed"
    assert len(fake_openai.requests) == 1 and sleep.delays == []


@pytest.mark.parametrize("fault", [{"error_after": 2}, {"drop_after": 2}])
async def test_no_retry_after_the_first_token(openai_provider, fake_openai, sleep, fault):
    fake_openai.set_script(Script(text=["one ", "two ", "three"], **fault))

    events, error = await collect_until_error(retrying(openai_provider, sleep))

    assert [e.text for e in events if isinstance(e, TextDelta)] == ["one ", "two "]
    assert error.retryable  # transient: the engine reports it with retry: true
    assert len(fake_openai.requests) == 1 and sleep.delays == []


async def test_an_error_event_right_after_message_start_is_still_retried(anthropic_provider, fake_anthropic,
                                                                         sleep):
    # message_start carries the request id but no output yet: the attempt can be retried.
    fake_anthropic.enqueue(Script(text=["lost"], error_after=0, error_type="overloaded_error",
                                  request_id="req_failed"))
    fake_anthropic.set_script(Script(text=["kept"], request_id="req_good"))

    events = await collect(retrying(anthropic_provider, sleep))

    assert [e for e in events if isinstance(e, StreamMeta)] == [StreamMeta("req_good")]
    assert [e.text for e in events if isinstance(e, TextDelta)] == ["kept"]
    assert len(fake_anthropic.requests) == 2 and len(sleep.delays) == 1


async def test_closing_the_retrying_stream_disconnects_the_upstream(openai_provider, fake_openai, sleep):
    fake_openai.set_script(Script(text=["one ", "two "], stall_after=1, stall_seconds=30))
    stream = retrying(openai_provider, sleep)
    async for event in stream:
        if isinstance(event, TextDelta):
            break
    await stream.aclose()

    assert await fake_openai.await_disconnect(timeout=5)


class ScriptedProvider:
    """A provider stub: each attempt yields the given events, then raises the given error."""

    name = "stub"

    def __init__(self, attempts: list[tuple[list[ProviderEvent], ProviderError | None]]) -> None:
        self.attempts = attempts
        self.calls = 0

    async def stream(self, request: ProviderRequest) -> AsyncIterator[ProviderEvent]:
        events, error = self.attempts[self.calls]
        self.calls += 1
        for event in events:
            yield event
        if error is not None:
            raise error


async def test_meta_alone_is_delivered_when_a_stream_has_no_output(sleep):
    provider = ScriptedProvider([([StreamMeta("req_1")], None)])

    events = await collect(retrying(provider, sleep))

    assert events == [StreamMeta("req_1")]


async def test_an_error_after_output_propagates_unchanged(sleep):
    error = ProviderError("broke", code="upstream_unavailable", retryable=True)
    provider = ScriptedProvider([([StreamMeta("req_1"), TextDelta("partial")], error)])

    events, raised = await collect_until_error(retrying(provider, sleep))

    assert raised is error
    assert events == [StreamMeta("req_1"), TextDelta("partial")]
    assert provider.calls == 1


async def test_defaults_come_from_settings(settings, sleep):
    settings.PROVIDER_MAX_RETRIES = 1
    settings.PROVIDER_RETRY_BASE_DELAY_S = 0.25
    error = ProviderError("busy", code="upstream_unavailable", retryable=True)
    provider = ScriptedProvider([([], error), ([], error), ([TextDelta("never")], None)])

    _, raised = await collect_until_error(stream_with_retries(provider, user_request(), sleep=sleep,
                                                              jitter=lambda: 1.0))

    assert raised is error
    assert provider.calls == 2  # one retry
    assert sleep.delays == [0.25]
