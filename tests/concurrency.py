"""Running one database operation from several threads at the same moment."""
from __future__ import annotations

import threading
from collections.abc import Callable

from django.db import connection


def race(threads: int, attempt: Callable[[], object], refusal: type[Exception]) -> list[str]:
    """``attempt`` in ``threads`` threads released together; per thread ``"ok"`` or ``"refused"``
    (it raised ``refusal``), sorted. Each thread closes its own connection."""
    results: list[str] = []
    barrier = threading.Barrier(threads)

    def one() -> None:
        try:
            barrier.wait(timeout=10)
            attempt()
            results.append("ok")
        except refusal:
            results.append("refused")
        finally:
            connection.close()

    workers = [threading.Thread(target=one) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=30)
    return sorted(results)
