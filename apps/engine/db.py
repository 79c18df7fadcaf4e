"""Database access for the engine's async code.

Engine calls run on small dedicated thread pools, each thread with its own Django
connection kept open between calls (opening a connection per flush would cost more than
the flush). A connection that broke (server restart) is closed and the call retried once.

Two lanes, so background writes never delay a user waiting for an answer:

* ``run_db`` — what a run or a request waits for: opening a run, its tools, a subscriber's
  refill (``ENGINE_DB_THREADS`` threads);
* ``write_db`` — what nobody waits for: event batches, heartbeats, the end of a run, the
  reaper (``ENGINE_DB_WRITE_THREADS`` threads).

Few threads on purpose: each one competes with the event loop for the GIL, and under load
a third or fourth thread made inter-token gaps worse, not better (docs/bench-stream.md).
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

_LANES = {"run": "ENGINE_DB_THREADS", "write": "ENGINE_DB_WRITE_THREADS"}
_executors: dict[str, ThreadPoolExecutor] = {}
_lock = threading.Lock()


def _get_executor(lane: str) -> ThreadPoolExecutor:
    with _lock:
        executor = _executors.get(lane)
        if executor is None:
            threads = max(1, int(getattr(settings, _LANES[lane])))
            executor = _executors[lane] = ThreadPoolExecutor(max_workers=threads,
                                                             thread_name_prefix=f"engine-db-{lane}")
        return executor


def _call(fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    try:
        return fn(*args, **kwargs)
    except (InterfaceError, OperationalError):
        if connection.in_atomic_block:
            raise
        connection.close()
        return fn(*args, **kwargs)


async def _run(lane: str, fn: Callable[..., T], args: tuple[object, ...], kwargs: dict[str, object]) -> T:
    # Straight through the executor, not asgiref's ``sync_to_async``: that one copies the
    # caller's context and wraps the call in several layers, a cost paid on every event
    # batch of every run. The function runs in its thread's own context, so the thread's
    # Django connection stays the same from call to call.
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(_get_executor(lane), functools.partial(_call, fn, *args, **kwargs))


async def run_db(fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """Run a sync ORM function that a run or a request is waiting for."""
    return await _run("run", fn, args, kwargs)


async def write_db(fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """Run a sync ORM function nobody is waiting for (event batches, heartbeats, the end of a run)."""
    return await _run("write", fn, args, kwargs)


def _close_connection() -> None:
    connection.close()  # resolved in the worker thread: its own connection


def shutdown() -> None:
    """Close the engine threads' connections and stop the pools (tests, shutdown)."""
    with _lock:
        executors = list(_executors.values())
        _executors.clear()
    for executor in executors:
        workers = getattr(executor, "_max_workers", 1)
        futures = [executor.submit(_close_connection) for _ in range(workers * 2)]
        for future in futures:
            future.result()
        executor.shutdown(wait=True)
