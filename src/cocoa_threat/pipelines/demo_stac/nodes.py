"""Nodes of the demo_stac pipeline: the raw tiles of each year as STAC items
(the library: :mod:`cocoa_threat.demo.stac`)."""

from __future__ import annotations

import logging

from cocoa_threat.demo.stac import TileCatalog, tile_catalog
from cocoa_threat.params.imagery import ImageryParams
from cocoa_threat.params.ingestion import IngestionParams
from cocoa_threat.raw import RawFolder, require

logger = logging.getLogger(__name__)


def demo_stac_catalog(
    raw_tiles: RawFolder,
    imagery: ImageryParams,
    ingestion: IngestionParams,
) -> TileCatalog:
    """The raw tiles of every year of ``imagery.years`` as one item each, dated mid-season.

    Args:
        raw_tiles: The raw tiles (``<year>/IMAGE/IMG_GH_<tile>_<year>``, and masks).
        imagery: The ``imagery`` parameters: asset keys, collections, season, years.
        ingestion: The ``ingestion`` parameters: the tiles' bands, nodata and names.

    Returns:
        ``demo_stac``: the catalog, written by the catalog's StacCatalogDataset
        (then ``imagery.catalog_url`` may point at its ``stac/catalog.json``).

    Raises:
        ValueError: If a year of ``imagery.years`` has no raw tiles.
    """
    tiles: RawFolder = require(raw_tiles, "raw_tiles (the demo region's tiles)")
    catalog = tile_catalog(tiles.partitions, imagery, ingestion)
    logger.info("Demo STAC: %d items over %d years", len(catalog.tiles), len(imagery.years))
    return catalog
