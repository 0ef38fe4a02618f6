"""Nodes of the imagery pipeline: scenes from a STAC catalog, yearly composites, a summary.

The science is in :mod:`cocoa_threat.imagery` (search, cache, masking,
harmonisation, compositing); these nodes only take it through the catalog.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import pandas as pd
import pystac

from cocoa_threat.geo.cog import RasterProducer
from cocoa_threat.geo.grid import GridSpec, RasterSource
from cocoa_threat.imagery import workflow
from cocoa_threat.params.imagery import ImageryParams
from cocoa_threat.params.ingestion import IngestionParams

logger = logging.getLogger(__name__)


def partition(year: int) -> str:
    """The partition (file name without suffix) of a year's composite."""
    return workflow.composite_partition(year)


def search_imagery(
    imagery: ImageryParams,
    ingestion: IngestionParams,
    districts_raw: Any,
) -> tuple[dict[str, Any], pd.DataFrame]:
    """Find every year's scenes and the DEM tiles over the area; read each scene's offset.

    Args:
        imagery: The ``imagery`` parameters.
        ingestion: The ``ingestion`` parameters: the model's bands (``bands``) and
            their Sentinel-2 names (``raster.band_aliases``).
        districts_raw: District boundaries (for ``imagery.area.source: districts``).

    Returns:
        ``imagery_items`` (the grid, the bands and every item found, as STAC JSON)
        and ``imagery_scenes`` (one row per scene: date, baseline, the offset added
        and the metadata field it came from).
    """
    p, bands = imagery, list(ingestion.bands)
    assets = workflow.model_assets(p, bands, ingestion.raster.band_aliases)
    grid = workflow.output_grid(p, districts_raw)
    logger.info("Composite grid: %s, %d x %d px", grid.crs, grid.width, grid.height)
    years, tables = {}, []
    for year in p.years:
        items = workflow.search_year(p, grid, year)
        tables.append(workflow.scene_table(p, year, items, assets))
        years[str(year)] = [i.to_dict(transform_hrefs=False) for i in items]
    dem = workflow.search_dem(p, grid)
    found = {
        "grid": _grid_dict(grid),
        "bands": list(bands),
        "assets": assets,
        "years": years,
        "dem": [i.to_dict(transform_hrefs=False) for i in dem],
    }
    scenes = pd.concat(tables, ignore_index=True) if tables else pd.DataFrame()
    return found, scenes


def _grid_dict(grid: Any) -> dict[str, Any]:
    """The composite grid as JSON: CRS, affine transform, width and height."""
    return {
        "crs": grid.crs,
        "transform": list(grid.transform),
        "width": grid.width,
        "height": grid.height,
    }


def _items(dicts: list[dict[str, Any]]) -> list[pystac.Item]:
    return [pystac.Item.from_dict(d) for d in dicts]


def build_composites(
    imagery_items: dict[str, Any], imagery_scenes: pd.DataFrame, imagery: ImageryParams
) -> dict[str, Callable[[], RasterProducer]]:
    """One lazy composite per year, written by the catalog as a COG (one partition a year).

    Each year's assets are fetched into the cache when its composite is written.

    Returns:
        ``imagery_composites``: ``composite_<year>`` -> a function returning the
        composite (float32, reflectance x 10000, the model's bands by name, the
        DEM and the count of clear observations).
    """
    p = imagery
    g = imagery_items["grid"]
    grid = GridSpec(g["crs"], tuple(g["transform"]), g["width"], g["height"])
    dem = _items(imagery_items["dem"])
    assets, bands = list(imagery_items["assets"]), list(imagery_items["bands"])

    def composite(year: int) -> Callable[[], RasterProducer]:
        items = _items(imagery_items["years"][str(year)])
        own = (
            imagery_scenes[imagery_scenes["year"] == year]
            if len(imagery_scenes)
            else imagery_scenes
        )

        def make() -> RasterProducer:
            producer = workflow.year_composite(p, grid, items, own, dem, assets, bands)
            producer.tags.update({"year": str(year)})
            return producer

        return make

    return {partition(y): composite(y) for y in p.years}


def summarise_imagery(
    imagery_composites: dict[str, Callable[[], RasterSource]],
    imagery_scenes: pd.DataFrame,
    imagery: ImageryParams,
) -> pd.DataFrame:
    """Per year: scenes found and used, clear-observation percentiles, pixels with none.

    Returns:
        ``imagery_summary``, one row per year of ``imagery.years``.
    """
    p = imagery
    rows = []
    for year in p.years:
        source = imagery_composites[partition(year)]()
        row = workflow.summary_row(p, year, source, imagery_scenes)
        logger.info(
            "%d: %d of %d scenes used, median %.0f clear observations, %.1f%% of pixels with none",
            year,
            row["scenes_used"],
            row["scenes_found"],
            row["clear_p50"],
            100 * row["share_no_clear"],
        )
        rows.append(row)
    return pd.DataFrame(rows)
