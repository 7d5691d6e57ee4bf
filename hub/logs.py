"""Structured logging: JSON lines (or a readable console form) with the correlation id on each."""

import logging

import structlog

from hub import correlation


def _add_correlation_id(logger: logging.Logger, method: str, event: dict) -> dict:
    cid = correlation.get()
    if cid and "correlation_id" not in event:
        event["correlation_id"] = cid
    return event


def formatter(fmt: str = "json") -> structlog.stdlib.ProcessorFormatter:
    renderer = structlog.dev.ConsoleRenderer(colors=False) if fmt == "console" else structlog.processors.JSONRenderer()
    return structlog.stdlib.ProcessorFormatter(
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
        foreign_pre_chain=[
            structlog.stdlib.add_log_level,
            structlog.stdlib.add_logger_name,
            structlog.stdlib.ExtraAdder(),
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            _add_correlation_id,
            structlog.processors.format_exc_info,
        ],
    )
