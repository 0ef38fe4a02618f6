"""Nodes of the download pipeline: SmallMinesDS from the Hub, only the years asked, pinned.

The Hub client and the layout are in :mod:`cocoa_threat.smallminesds.hub`; the
catalog's ``raw_tiles`` places the files these nodes return (``UNCHANGED``:
the tiles on disk came from the same repository, revision and years).
"""

from __future__ import annotations

import logging
from typing import Any

from cocoa_threat.params.ingestion import IngestionParams
from cocoa_threat.raw import UNCHANGED, RawProduct, fingerprint_of
from cocoa_threat.smallminesds.hub import fetch_tiles, resolve_commit

logger = logging.getLogger(__name__)


def plan_tiles_download(
    ingestion: IngestionParams, raw_tiles_stamp: dict[str, Any] | None
) -> dict[str, Any]:
    """Whether the tiles must be downloaded: missing, or of another repository, revision or years.

    Returns:
        ``download_plan``: the fingerprint of what is asked and whether to fetch it.
    """
    hf = ingestion.huggingface
    wanted = "|".join([hf.repo_id, hf.revision, *map(str, sorted(ingestion.years))])
    fetch = fingerprint_of(raw_tiles_stamp) != wanted
    logger.info("SmallMinesDS tiles: %s", "to download" if fetch else "up to date")
    return {"fingerprint": wanted, "fetch": fetch}


def download_tiles(
    download_plan: dict[str, Any], ingestion: IngestionParams
) -> RawProduct | object:
    """The tiles of ``ingestion.years`` from the Hub (``raw_tiles``), or ``UNCHANGED``.

    Raises:
        SourceUnavailableError: If the Hub can't be reached, saying how to download by hand.
    """
    if not download_plan["fetch"]:
        return UNCHANGED
    hf = ingestion.huggingface
    commit, files = resolve_commit(hf)
    placed = fetch_tiles(hf, commit, files, list(ingestion.years), ingestion.files)
    stamp = {
        "fingerprint": download_plan["fingerprint"],
        "repo_id": hf.repo_id,
        "revision": hf.revision,
        "commit": commit,
        "years": list(ingestion.years),
        "files": len(placed),
    }
    return RawProduct(stamp, files=placed)
