"""The cyclic garbage collector tuned for processes that hold and make records by the thousand.

CPython's collector runs a young collection every 700 net allocations of container objects, a middle one every 10 of
those and a full one, walking every object the process holds, every 10 middle ones (when the objects grown old since
the last are a quarter of the old ones). A worker placing a 20,000-record chunk holds a few million objects (the chunk,
the live match views it compares with, the golden records it builds) and makes hundreds of thousands more, so with
the defaults it walks the same objects that are not garbage again and again: a third of its CPU went to the collector
(6.3 of 16.6 CPU-s placing 20,000 records among 20,000). Nearly all of what these processes free is freed by
reference counting the moment it is dropped; the collector is there for cycles, which are rare and small here.

So long-lived processes (the Celery workers, the platform emulators) freeze what they imported (never garbage,
never walked again) and collect less often: ``CONCORD_GC_THRESHOLDS``, three positive integers as for
``gc.set_threshold``, default ``100000,20,10`` (a young collection every 100,000 allocations, not 700; a full one
after 200 of those: none while placing 20,000 records, 0.5 CPU-s left to the collector). Settings read it too, so
a bad value stops any process at start with a clear error.
"""

import gc
import os

from django.core.exceptions import ImproperlyConfigured

DEFAULT_THRESHOLDS = (100_000, 20, 10)
ENV = "CONCORD_GC_THRESHOLDS"


def collector_thresholds() -> tuple[int, int, int]:
    """The thresholds ``CONCORD_GC_THRESHOLDS`` asks for (``young,middle,old``), or the default."""
    value = os.environ.get(ENV, "").strip()
    if not value:
        return DEFAULT_THRESHOLDS
    parts = [p.strip() for p in value.split(",")]
    try:
        numbers = tuple(int(p) for p in parts)
    except ValueError:
        numbers = ()
    if len(numbers) != 3 or min(numbers) < 1:
        raise ImproperlyConfigured(f"{ENV} must be three positive integers, young,middle,old (e.g. "
                                   f"{','.join(map(str, DEFAULT_THRESHOLDS))}), got {value!r}")
    return numbers  # type: ignore[return-value]


def collector_tune() -> tuple[int, int, int]:
    """Freeze what the process holds now and set the collector's thresholds; returns them. Call it once the
    process has imported what it runs (a worker child at start, a server before it serves)."""
    thresholds = collector_thresholds()
    gc.freeze()
    gc.set_threshold(*thresholds)
    return thresholds
