"""Running bulk actions inside a signed-in request.

A BulkAction has a field named ``actor`` (the user who acted), and every historical row has one too (the
actor's name, hub.models.CorrelatedHistory); in HistoricalBulkAction the model's field wins, so when
hub.models.set_history_context writes the signed-in user's name into ``actor`` the save fails. Until history
leaves alone an ``actor`` that is not its own, the console runs the bulk services outside the request's
history context. Who acted is still recorded: BulkAction.actor, resolved_by, and the change reasons
("assigned to kim by lee", "merged CL-1 into CL-2 by sam: ...")."""

from collections.abc import Iterator
from contextlib import contextmanager

from simple_history.models import HistoricalRecords


@contextmanager
def bulk_history() -> Iterator[None]:
    context = HistoricalRecords.context
    request = getattr(context, "request", None)
    if request is not None:
        del context.request
    try:
        yield
    finally:
        if request is not None:
            context.request = request
