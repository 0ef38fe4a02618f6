"""Searching: static catalogs, a failing or slow API (on the loopback only), the cache."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import date
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from cocoa_threat.errors import SourceUnavailableError
from cocoa_threat.imagery.search import RetryPolicy, SearchRequest, search_items
from tests.imagery.conftest import SyntheticYear

BOX = (-1.96, 6.43, -1.94, 6.45)


class Server:
    """A web server on 127.0.0.1 that fails, hangs, or serves a folder; counts requests."""

    def __init__(self, mode: str, folder: Path | None = None, delay: float = 1.0) -> None:
        self.hits = 0
        server = self

        class Handler(SimpleHTTPRequestHandler):
            def do_GET(self) -> None:
                server.hits += 1
                if mode == "fail":
                    self.send_error(503, "Service Unavailable")
                elif mode == "hang":
                    time.sleep(delay)
                    self.send_error(504)
                else:
                    super().do_GET()

            do_POST = do_GET

            def log_message(self, *args: object) -> None:
                pass

        handler = partial(Handler, directory=str(folder or "."))
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server_factory() -> Iterator:
    servers: list[Server] = []

    def make(*args: object, **kwargs: object) -> Server:
        servers.append(Server(*args, **kwargs))  # type: ignore[arg-type]
        return servers[-1]

    yield make
    for s in servers:
        s.close()


def _request(url: str, **kw: object) -> SearchRequest:
    base = {
        "catalog_url": url,
        "collection": "sentinel-2-l2a",
        "bbox": BOX,
        "start": date(2022, 1, 1),
        "end": date(2022, 1, 31),
        "max_cloud_cover": 80.0,
    }
    return SearchRequest(**{**base, **kw})  # type: ignore[arg-type]


def test_a_failing_api_is_retried_then_named(server_factory, tmp_path: Path) -> None:
    server = server_factory("fail")
    policy = RetryPolicy(retries=2, backoff_s=0.01, timeout_s=2.0)
    with pytest.raises(SourceUnavailableError) as err:
        search_items(_request(server.url), policy, tmp_path)
    message = str(err.value)
    assert server.url in message and "collection sentinel-2-l2a" in message
    assert "2022-01-01 to 2022-01-31" in message and "3 time(s)" in message
    assert server.hits == 3  # one try and two retries, no more
    assert not (tmp_path / "search").exists() or not any((tmp_path / "search").iterdir())


def test_a_slow_api_times_out(server_factory, tmp_path: Path) -> None:
    server = server_factory("hang", delay=1.0)
    policy = RetryPolicy(retries=1, backoff_s=0.01, timeout_s=0.2)
    began = time.monotonic()
    with pytest.raises(SourceUnavailableError, match="timed out|Timeout|timeout"):
        search_items(_request(server.url), policy, tmp_path)
    assert time.monotonic() - began < 5
    assert server.hits == 2


def test_backoff_grows(server_factory, tmp_path: Path) -> None:
    server = server_factory("fail")
    began = time.monotonic()
    with pytest.raises(SourceUnavailableError):
        search_items(_request(server.url), RetryPolicy(2, 0.2, 2.0), tmp_path)
    assert time.monotonic() - began >= 0.6  # waits 0.2 then 0.4 s


def test_a_static_catalog_over_http_is_cached(
    synthetic_year: SyntheticYear, server_factory, tmp_path: Path
) -> None:
    server = server_factory("serve", folder=synthetic_year.catalog.parent)
    request = _request(f"{server.url}/catalog.json")
    items = search_items(request, RetryPolicy(0, 0, 5.0), tmp_path)
    assert len(items) == 6 and server.hits > 0
    # The cached answer keeps absolute asset hrefs (it does not depend on where it lies).
    assert all(i.assets["blue"].href.startswith(server.url) for i in items)
    hits = server.hits
    server.close()
    again = search_items(request, RetryPolicy(0, 0, 5.0), tmp_path)
    assert [i.id for i in again] == [i.id for i in items] and server.hits == hits


def test_a_window_before_the_collection_starts_names_its_first_date(
    synthetic_year: SyntheticYear, tmp_path: Path
) -> None:
    request = _request(str(synthetic_year.catalog), start=date(2014, 1, 1), end=date(2014, 1, 31))
    with pytest.raises(ValueError, match="from 2015-06-27 \\(its temporal extent\\)"):
        search_items(request, RetryPolicy(), tmp_path)


def test_an_unknown_collection_lists_the_catalogs(
    synthetic_year: SyntheticYear, tmp_path: Path
) -> None:
    request = _request(str(synthetic_year.catalog), collection="sentinel-2-l1c")
    with pytest.raises(LookupError, match="cop-dem-glo-30.*imagery.collection"):
        search_items(request, RetryPolicy(), tmp_path)
