"""A delivery runs under the correlation id of the change that caused it: stored on the delivery, sent to
the platform as X-Correlation-ID, and on the log lines of its attempts."""

import io
import json
import logging

import pytest

from connectors.services.outbound import outbox_relay
from hub import correlation
from hub.logs import formatter
from tests.connectors.targets import deliver_all, golden_client

COMPOSITE = "/services/data/v62.0/composite"


def pushed_with(headers) -> list[str | None]:
    return [h.get("x-correlation-id") for method, path, h in headers.log
            if method == "PATCH" and path.startswith(COMPOSITE)]


@pytest.fixture
def outbound_log():
    """The outbound service's log lines as the hub writes them (JSON, correlation id included)."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter("json"))
    logger = logging.getLogger("connectors.services.outbound")
    logger.addHandler(handler)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    logger.removeHandler(handler)


def test_the_change_correlation_id_is_stored_and_reaches_the_platform(salesforce_target):
    _, _, headers = salesforce_target
    with correlation.bind("steward-merge-7f3a"):
        golden_client("Wingtip Toys Limited")
    with correlation.bind("relay-run-1"):
        outbox_relay()

    with correlation.bind("worker-task-9"):
        delivered = deliver_all()

    assert [d.correlation_id for d in delivered] == ["steward-merge-7f3a"]
    assert pushed_with(headers) == ["steward-merge-7f3a"]


def test_without_one_on_the_change_the_relay_id_is_used(salesforce_target):
    _, _, headers = salesforce_target
    golden_client("Wingtip Toys Limited")  # written outside any request or task
    with correlation.bind("relay-run-2"):
        outbox_relay()

    delivered = deliver_all()

    assert [d.correlation_id for d in delivered] == ["relay-run-2"]
    assert pushed_with(headers) == ["relay-run-2"]


def test_the_log_lines_of_an_attempt_carry_it(salesforce_target, outbound_log):
    emulator, _, headers = salesforce_target
    with correlation.bind("sync-run-42"):
        golden_client("Wingtip Toys Limited")
    outbox_relay()
    emulator.faults.inject("unavailable")

    with correlation.bind("worker-task-9"):
        deliver_all()
        after = correlation.get()

    failed = [line for line in outbound_log() if line["event"] == "delivery failed, will retry"]
    assert [line["correlation_id"] for line in failed] == ["sync-run-42"]
    assert pushed_with(headers) == ["sync-run-42"]
    assert after == "worker-task-9"  # the task's own id is back once the attempt is over
