"""Run a call in several threads at once (each with its own database connection), as several workers would."""

import threading
from collections.abc import Callable
from typing import Any

from django.db import connection


def side_by_side(call: Callable[[], Any], times: int) -> list[Any]:
    """Start ``times`` threads that wait for one another, then each make ``call``; returns their results (in the
    order they finished). Each thread closes its own database connection when done."""
    start = threading.Barrier(times)
    results: list[Any] = []

    def run() -> None:
        try:
            start.wait()
            results.append(call())
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(times)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results
