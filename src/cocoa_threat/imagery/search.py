"""Finding scenes: a STAC API (``pystac-client``) or a static catalog (``pystac``).

:func:`search_items` asks the catalog for the items of one collection over a
box and a window of days, retrying with exponential backoff when the catalog
fails or times out, and keeps the answer in the cache (a re-run asks nothing).
A static catalog (a ``catalog.json``, local or on a web server) is walked and
filtered the same way as an API searches, so both give the same items.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pystac

from cocoa_threat.errors import SourceUnavailableError

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SearchRequest:
    """One search: a collection of a catalog over a lon/lat box and a window of days.

    Attributes:
        catalog_url: A STAC API's root URL, or a static catalog's ``catalog.json``.
        collection: The collection id.
        bbox: (west, south, east, north) in degrees.
        start: First day (included).
        end: Last day (included).
        max_cloud_cover: Scenes whose ``eo:cloud_cover`` is above it are left out.
    """

    catalog_url: str
    collection: str
    bbox: tuple[float, float, float, float]
    start: date
    end: date
    max_cloud_cover: float | None = None

    def describe(self) -> str:
        """The search in words, for messages."""
        box = ", ".join(f"{v:.4f}" for v in self.bbox)
        cloud = (
            "" if self.max_cloud_cover is None else f", eo:cloud_cover <= {self.max_cloud_cover}"
        )
        return f"collection {self.collection}, bbox [{box}], {self.start} to {self.end}{cloud}"

    def key(self) -> str:
        """A name for the cached answer."""
        text = json.dumps(asdict(self), default=str, sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently the catalog is asked."""

    retries: int = 4
    backoff_s: float = 2.0
    timeout_s: float = 30.0
    page_size: int = 100


def is_static(url: str) -> bool:
    """Whether ``url`` names a static catalog (a JSON file) rather than an API."""
    return url.split("?", maxsplit=1)[0].endswith(".json") or not url.startswith(
        ("http://", "https://")
    )


def _retryable(exc: BaseException) -> bool:
    """Network failures, timeouts and server errors (5xx, 429) are worth another try."""
    if isinstance(exc, OSError):  # requests' and urllib's errors, timeouts included
        return True
    if type(exc).__name__ == "APIError":  # pystac-client: the status, when it has one
        status = getattr(exc, "status_code", None)
        return status is None or status == 429 or status >= 500
    return False


def with_retries(call: Callable[[], Any], what: str, policy: RetryPolicy, remote: bool) -> Any:
    """Run ``call``; retry failures of a remote catalog with exponential backoff.

    Raises:
        SourceUnavailableError: After the last attempt, naming ``what``.
    """
    attempts = policy.retries + 1 if remote else 1
    began = time.monotonic()
    for attempt in range(1, attempts + 1):
        try:
            return call()
        except Exception as exc:
            if not _retryable(exc):
                raise
            if attempt == attempts:
                raise SourceUnavailableError(
                    f"{what} failed {attempts} time(s) over {time.monotonic() - began:.1f} s "
                    f"(last error: {type(exc).__name__}: {exc}). Check the network and "
                    f"imagery.catalog_url, or raise imagery.search.retries / timeout_s"
                ) from exc
            wait = policy.backoff_s * 2 ** (attempt - 1)
            logger.warning("%s failed (%s); retry %d in %.1f s", what, exc, attempt, wait)
            time.sleep(wait)
    raise AssertionError("unreachable")


def _item_day(item: pystac.Item) -> date:
    when = item.datetime or item.common_metadata.start_datetime
    if when is None:
        raise ValueError(f"STAC item {item.id} has no datetime")
    return when.astimezone(UTC).date()


def _keep(item: pystac.Item, request: SearchRequest) -> bool:
    w, s, e, n = request.bbox
    if item.bbox is not None:
        iw, is_, ie, in_ = item.bbox[:4]
        if iw > e or ie < w or is_ > n or in_ < s:
            return False
    if not request.start <= _item_day(item) <= request.end:
        return False
    cloud = item.properties.get("eo:cloud_cover")
    return request.max_cloud_cover is None or cloud is None or cloud <= request.max_cloud_cover


def _static_collection(url: str, collection: str) -> tuple[pystac.Collection | None, list[Any]]:
    catalog = pystac.Catalog.from_file(url)
    for child in catalog.get_all_collections():
        if child.id == collection:
            return child, list(child.get_items(recursive=True))
    items = [i for i in catalog.get_items(recursive=True) if i.collection_id == collection]
    if not items:
        known = sorted({c.id for c in catalog.get_all_collections()})
        raise LookupError(
            f"The static catalog {url} has no collection '{collection}' (it has {known}); "
            f"set imagery.collection"
        )
    return None, items


def _api_search(request: SearchRequest, policy: RetryPolicy) -> tuple[Any, list[Any]]:
    from pystac_client import Client
    from pystac_client.stac_api_io import StacApiIO

    client = Client.open(
        request.catalog_url, stac_io=StacApiIO(timeout=policy.timeout_s, max_retries=0)
    )
    collection = client.get_collection(request.collection)
    search = client.search(
        collections=[request.collection],
        bbox=list(request.bbox),
        datetime=f"{request.start}T00:00:00Z/{request.end}T23:59:59Z",
        limit=policy.page_size,
    )
    return collection, list(search.items())


def check_collection_start(collection: Any, request: SearchRequest) -> None:
    """Fail if the collection's temporal extent starts after the window ends.

    Raises:
        ValueError: Naming the first date the catalog records for the collection.
    """
    try:
        first = collection.extent.temporal.intervals[0][0]
    except (AttributeError, IndexError, TypeError):
        return
    if first is not None and first.date() > request.end:
        raise ValueError(
            f"{request.catalog_url} records collection {request.collection} from "
            f"{first.date()} (its temporal extent), after the window {request.start} to "
            f"{request.end}; choose a later year in imagery.years or another catalog"
        )


def _search_once(request: SearchRequest, policy: RetryPolicy) -> list[pystac.Item]:
    if is_static(request.catalog_url):
        collection, items = _static_collection(request.catalog_url, request.collection)
        for item in items:  # the cached answer must not depend on where the catalog lies
            for asset in item.assets.values():
                asset.href = asset.get_absolute_href() or asset.href
    else:
        collection, items = _api_search(request, policy)
    check_collection_start(collection, request)
    kept = [i for i in items if _keep(i, request)]
    return sorted(kept, key=lambda i: (i.datetime or datetime.min, i.id))


def search_items(
    request: SearchRequest, policy: RetryPolicy, cache_dir: Path, refresh: bool = False
) -> list[pystac.Item]:
    """The items of a search, from the cache when it was asked before.

    Args:
        request: The search.
        policy: Retries, backoff and timeout.
        cache_dir: Where answers are kept (``<cache_dir>/search/<key>.json``).
        refresh: Ask the catalog again even if the answer is cached.

    Returns:
        The items, ordered by time and id.

    Raises:
        SourceUnavailableError: If the catalog fails after every retry.
    """
    path = cache_dir / "search" / f"{request.key()}.json"
    if path.is_file() and not refresh:
        items = list(pystac.ItemCollection.from_file(str(path)))
        logger.info("Search %s: %d items from the cache %s", request.describe(), len(items), path)
        return items
    what = f"The STAC search of {request.catalog_url} ({request.describe()})"
    remote = request.catalog_url.startswith(("http://", "https://"))
    items = with_retries(lambda: _search_once(request, policy), what, policy, remote)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.partial")
    payload = pystac.ItemCollection(items).to_dict(transform_hrefs=False)
    tmp.write_text(json.dumps(payload))
    os.replace(tmp, path)
    logger.info("Search %s: %d items", request.describe(), len(items))
    return items
