"""The emulators' server speaks HTTP/1.1 with persistent connections: a client's requests share one TCP
connection, and every response is delimited (Content-Length) or ends its connection."""

from collections.abc import Callable

import httpx
import pytest

from connectors.netsuite.client import NetSuiteClient
from connectors.netsuite.emulator import make_app
from tests.connectors.netsuite.conftest import CONFIG


def _answer(body: bytes, status: str = "200 OK") -> Callable:
    def app(environ, start_response):
        start_response(status, [("Content-Type", "text/plain")])
        return [body]
    return app


def test_a_clients_requests_share_one_connection(serve_counting, monkeypatch) -> None:
    monkeypatch.setenv("NS_TEST_CLIENT_ID", "concord-demo")
    monkeypatch.setenv("NS_TEST_CERT_ID", "concord-cert")
    emulator = make_app(seed=42, clients=3)
    server, url = serve_counting(emulator)
    client = NetSuiteClient(base_url=url, config=CONFIG)
    customer_id = min(emulator.store["customer"], key=int)

    for _ in range(3):
        assert client.get("customer", customer_id)["id"] == customer_id
    page = client.suiteql("SELECT id FROM customer")
    missing = client.http.get("/services/rest/record/v1/customer/999999", headers=client.headers())

    assert page["totalResults"] == len(emulator.store["customer"]) and missing.status_code == 404
    assert emulator.count("POST", "/services/rest/auth") == 1 and len(emulator.requests) == 6
    assert server.accepted == 1


def test_a_streamed_body_arrives_whole_and_ends_its_connection(serve_counting) -> None:
    def streamed(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/plain")])
        yield b"first, "
        yield b"second"

    server, url = serve_counting(streamed)
    with httpx.Client(base_url=url) as client:
        first = client.get("/")
        second = client.get("/")

    assert first.content == second.content == b"first, second"
    assert first.headers["Connection"] == "close" and "Content-Length" not in first.headers
    assert server.accepted == 2


def test_an_app_failing_before_answering_is_a_500_that_ends_its_connection(serve_counting) -> None:
    calls = []

    def failing_once(environ, start_response):
        calls.append(environ["PATH_INFO"])
        if len(calls) == 1:
            raise RuntimeError("the app broke")
        return _answer(b"fine")(environ, start_response)

    server, url = serve_counting(failing_once)
    with httpx.Client(base_url=url) as client:
        failed = client.get("/one")
        fine = client.get("/two")

    assert (failed.status_code, failed.headers["Connection"]) == (500, "close")
    assert int(failed.headers["Content-Length"]) == len(failed.content) > 0
    assert fine.content == b"fine" and server.accepted == 2


def test_a_body_cut_short_is_an_error_not_a_wait(serve_counting) -> None:
    def cut_short(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "10")])
        yield b"12345"
        raise RuntimeError("the app broke half-way")

    _, url = serve_counting(cut_short)
    with httpx.Client(base_url=url, timeout=5) as client, pytest.raises(httpx.RemoteProtocolError):
        client.get("/")


def test_a_body_the_app_leaves_unread_does_not_spoil_the_next_request(serve_counting) -> None:
    server, url = serve_counting(_answer(b"ok"))  # never reads the request body
    with httpx.Client(base_url=url) as client:
        answers = [client.post("/", content=b"x" * 100_000).content for _ in range(3)]

    assert answers == [b"ok"] * 3 and server.accepted == 1


def test_closing_the_server_closes_the_connections_it_kept_alive(serve_counting) -> None:
    server, url = serve_counting(_answer(b"ok"))
    with httpx.Client(base_url=url) as client:
        assert client.get("/").content == b"ok"
        server.shutdown()
        server.server_close()
        with pytest.raises(httpx.TransportError):
            client.get("/")
