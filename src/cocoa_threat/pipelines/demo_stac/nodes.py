"""Nodes of the demo_stac pipeline: the raw tiles of each year as STAC items
(the library: :mod:`cocoa_threat.demo.stac`)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, time
from typing import Any

from cocoa_threat.demo.stac import TileCatalog, tile_year
from cocoa_threat.params.imagery import ImageryParams
from cocoa_threat.params.ingestion import IngestionParams
from cocoa_threat.raw import RawFolder, require

logger = logging.getLogger(__name__)

ACQUISITION_TIME = time(10, 30)  # Sentinel-2's overpass over Ghana, local solar morning


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
    files, raster = ingestion.files, ingestion.raster
    found: dict[tuple[str, int], Callable[[], Any]] = {}
    for partition, load in tiles.partitions.items():
        key = tile_year(partition, files.image_dir, files.image_pattern)
        if key is not None and key[1] in imagery.years:
            found[key] = load
    missing = sorted(set(imagery.years) - {year for _, year in found})
    if missing:
        raise ValueError(
            f"The raw tiles have no images of {missing} (imagery.years {imagery.years}); "
            f"the demo writes demo.years: list the same years in both"
        )
    dates = {}
    for year in imagery.years:
        first, last = imagery.season.window(year)
        dates[year] = datetime.combine(first + (last - first) / 2, ACQUISITION_TIME)
    logger.info("Demo STAC: %d items over %d years", len(found), len(imagery.years))
    return TileCatalog(
        tiles=found,
        band_names=list(raster.band_names),
        assets=dict(imagery.assets),
        scl_asset=imagery.scl_asset,
        collection=imagery.collection,
        dem_band=raster.dem_band,
        dem_collection=imagery.dem.collection,
        dem_asset=imagery.dem.asset,
        dates=dates,
        image_nodata=raster.image_nodata,
        saturated=int(imagery.data.saturated or 65535),
    )
