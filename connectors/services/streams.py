"""Streams of a connected system: make sure each object the connector reads has its inbound stream."""

from __future__ import annotations

from canonical.models import ConnectedSystem
from connectors.models import Direction, Stream
from connectors.registry import connector_class


def streams_ensure(*, system: ConnectedSystem) -> list[Stream]:
    """One inbound stream per object the system's connector reads (created when missing)."""
    objects = connector_class(system.kind).objects
    streams = []
    for object_type in objects:
        stream, _ = Stream.objects.get_or_create(system=system, object_type=object_type, direction=Direction.INBOUND)
        streams.append(stream)
    return streams
