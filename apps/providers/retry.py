"""The one retry loop: retries a provider stream only before its first token.

SDK retries are off, so this is the only place a request is repeated. A retryable
``ProviderError`` raised before any output event was yielded is retried with exponential
backoff and full jitter (or after the upstream's Retry-After, capped); once output has been
yielded, any error propagates unchanged — the consumer already has part of an answer, and a
retry would duplicate it.

``StreamMeta`` (the upstream request id) is not output: it is held back until the first
output event, so an attempt that fails right after sending its request id (an overloaded
error event just after Anthropic's ``message_start``, say) can still be retried.
"""
from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncGenerator, Awaitable, Callable

from django.conf import settings

from apps.providers.base import Provider, ProviderError, ProviderEvent, ProviderRequest, StreamMeta


def backoff_delay(attempt: int, *, base_delay: float, max_delay: float,
                  jitter: Callable[[], float] = random.random) -> float:
    """Full-jitter exponential backoff for the ``attempt``-th retry (1-based)."""
    ceiling = min(max_delay, base_delay * (2 ** (attempt - 1)))
    return ceiling * jitter()


def retry_delay(error: ProviderError, attempt: int, *, base_delay: float, max_delay: float,
                max_retry_after: float, jitter: Callable[[], float] = random.random) -> float:
    """Seconds to wait before the next attempt: Retry-After when given (capped), else backoff."""
    if error.retry_after is not None:
        return min(max(error.retry_after, 0.0), max_retry_after)
    return backoff_delay(attempt, base_delay=base_delay, max_delay=max_delay, jitter=jitter)


async def stream_with_retries(
    provider: Provider,
    request: ProviderRequest,
    *,
    max_attempts: int | None = None,
    base_delay: float | None = None,
    max_delay: float | None = None,
    max_retry_after: float | None = None,
    sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    jitter: Callable[[], float] = random.random,
) -> AsyncGenerator[ProviderEvent, None]:
    """Stream ``request`` from ``provider``, retrying transient faults before the first token.

    Args:
        max_attempts: total attempts, at least 1 (default: setting PROVIDER_MAX_RETRIES + 1).
        base_delay / max_delay: backoff bounds in seconds (PROVIDER_RETRY_BASE_DELAY_S,
            PROVIDER_RETRY_MAX_DELAY_S).
        max_retry_after: the longest Retry-After honoured, in seconds (PROVIDER_RETRY_AFTER_MAX_S).
        sleep: awaited with each delay (tests pass a recorder).
        jitter: a random source in [0, 1) for the backoff.
    Raises:
        ProviderError: the last attempt's error; or any error after output began, unchanged.
    """
    attempts = max(1, max_attempts if max_attempts is not None
                   else int(getattr(settings, "PROVIDER_MAX_RETRIES", 3)) + 1)
    base = base_delay if base_delay is not None else float(getattr(settings, "PROVIDER_RETRY_BASE_DELAY_S", 0.5))
    ceiling = max_delay if max_delay is not None else float(getattr(settings, "PROVIDER_RETRY_MAX_DELAY_S", 30.0))
    retry_after_cap = (max_retry_after if max_retry_after is not None
                       else float(getattr(settings, "PROVIDER_RETRY_AFTER_MAX_S", 60.0)))

    for attempt in range(1, attempts + 1):
        started = False
        held_meta: StreamMeta | None = None
        events = provider.stream(request)
        try:
            async for event in events:
                if not started and isinstance(event, StreamMeta):
                    held_meta = event
                    continue
                if not started:
                    started = True
                    if held_meta is not None:
                        yield held_meta
                yield event
            if not started and held_meta is not None:
                yield held_meta
            return
        except ProviderError as error:
            if started or not error.retryable or attempt >= attempts:
                raise
            delay = retry_delay(error, attempt, base_delay=base, max_delay=ceiling,
                                max_retry_after=retry_after_cap, jitter=jitter)
        finally:
            aclose = getattr(events, "aclose", None)
            if aclose is not None:
                await aclose()
        await sleep(delay)
