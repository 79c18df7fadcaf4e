"""One SDK client per running event loop.

An SDK's async HTTP client binds its connection pool (aiohttp session, anyio primitives) to
the loop that first uses it. A provider is cached per process, but a process may run more
than one loop over its life (the test runner makes one per test, ``async_to_sync`` makes its
own), so the client is looked up by the running loop. Entries go away with their loop.
"""
from __future__ import annotations

import asyncio
import weakref
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class LoopLocal(Generic[T]):
    def __init__(self, factory: Callable[[], T]) -> None:
        self._factory = factory
        self._items: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, T] = weakref.WeakKeyDictionary()

    def get(self) -> T:
        loop = asyncio.get_running_loop()
        item = self._items.get(loop)
        if item is None:
            item = self._factory()
            self._items[loop] = item
        return item

    def pop(self) -> T | None:
        """Forget (and return) the current loop's object, if any, so the caller can close it."""
        return self._items.pop(asyncio.get_running_loop(), None)
