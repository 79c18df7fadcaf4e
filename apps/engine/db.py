"""Database access for the engine's async code.

Engine writes run on a small dedicated thread pool, each thread with its own
Django connection kept open between calls (opening a connection per flush would
cost more than the flush). A connection that broke (server restart) is closed
and the call retried once.
"""

from __future__ import annotations

import asyncio
import functools
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import ParamSpec, TypeVar

from django.conf import settings
from django.db import InterfaceError, OperationalError, connection

P = ParamSpec("P")
T = TypeVar("T")

_executor: ThreadPoolExecutor | None = None
_lock = threading.Lock()


def _get_executor() -> ThreadPoolExecutor:
    global _executor
    with _lock:
        if _executor is None:
            _executor = ThreadPoolExecutor(max_workers=settings.ENGINE_DB_THREADS, thread_name_prefix="engine-db")
        return _executor


def _call(fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    try:
        return fn(*args, **kwargs)
    except (InterfaceError, OperationalError):
        if connection.in_atomic_block:
            raise
        connection.close()
        return fn(*args, **kwargs)


async def run_db(fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """Run a sync ORM function on the engine's DB threads.

    Straight through the executor, not asgiref's ``sync_to_async``: that one copies the
    caller's context and wraps the call in several layers, a cost paid on every event
    batch of every run. The function runs in its thread's own context, so the thread's
    Django connection stays the same from call to call.
    """
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(_get_executor(), functools.partial(_call, fn, *args, **kwargs))


def _close_connection() -> None:
    connection.close()  # resolved in the worker thread: its own connection


def shutdown() -> None:
    """Close the engine threads' connections and stop the pool (tests, shutdown)."""
    global _executor
    with _lock:
        executor, _executor = _executor, None
    if executor is None:
        return
    workers = getattr(executor, "_max_workers", 1)
    futures = [executor.submit(_close_connection) for _ in range(workers * 2)]
    for future in futures:
        future.result()
    executor.shutdown(wait=True)
