"""The steps of the imagery pipeline, from parameters to composites and their summary.

The nodes (``pipelines/imagery/nodes.py``) only call these: which assets make the
model's bands, the searches of each year, the scenes table (with each scene's
offset and where it was read), the composites and the per-year summary.
"""

from __future__ import annotations

import json
import logging
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pystac

from cocoa_threat.geo.grid import GridSpec, RasterSource, iter_windows
from cocoa_threat.imagery.area import area_bounds, lonlat_box, snapped_grid
from cocoa_threat.imagery.cache import localise_items, make_signer
from cocoa_threat.imagery.composite import CompositeSettings, composite_producer, solar_days
from cocoa_threat.imagery.harmonise import decide_offset
from cocoa_threat.imagery.search import RetryPolicy, SearchRequest, search_items
from cocoa_threat.params.imagery import ImageryParams

logger = logging.getLogger(__name__)

PERCENTILES = (10, 25, 50, 75, 90)


def composite_partition(year: int) -> str:
    """The partition (file name without suffix) of a year's composite: ``composite_<year>``."""
    return f"composite_{year}"


def model_assets(p: ImageryParams, bands: list[str], aliases: dict[str, str]) -> list[str]:
    """The catalog's asset key of each model band (``ingestion.bands``), in order.

    Raises:
        ValueError: Naming the band and the key to set.
    """
    keys = []
    for band in bands:
        name = aliases.get(band, band)
        if name not in p.assets:
            raise ValueError(
                f"ingestion.bands has {band} ({name} by ingestion.raster.band_aliases), but "
                f"imagery.assets has no asset for {name} (it maps {sorted(p.assets)}); add "
                f"'{name}: <asset key>' to imagery.assets"
            )
        keys.append(p.assets[name])
    return keys


def output_grid(p: ImageryParams, districts: Any) -> GridSpec:
    """The composites' grid: the area, snapped to ``imagery.grid``."""
    return snapped_grid(area_bounds(p.area, p.grid.crs, districts), p.grid)


def _policy(p: ImageryParams) -> RetryPolicy:
    s = p.search
    return RetryPolicy(s.retries, s.backoff_s, s.timeout_s, s.page_size)


def search_year(p: ImageryParams, grid: GridSpec, year: int) -> list[pystac.Item]:
    """The scenes of one year's season over the grid."""
    start, end = p.season.window(year)
    request = SearchRequest(
        p.catalog_url, p.collection, lonlat_box(grid), start, end, p.max_cloud_cover
    )
    items = search_items(request, _policy(p), Path(p.cache.dir), p.cache.refresh_search)
    if not items:
        logger.warning(
            "No scene of %s in %s for %s (%s to %s, eo:cloud_cover <= %s): the %s composite "
            "will have no data; the collection may not cover that period (see docs/imagery.md)",
            p.collection,
            p.catalog_url,
            year,
            start,
            end,
            p.max_cloud_cover,
            year,
        )
    return items


def search_dem(p: ImageryParams, grid: GridSpec) -> list[pystac.Item]:
    """The DEM tiles over the grid (none when ``imagery.dem.collection`` is null)."""
    if p.dem.collection is None:
        return []
    request = SearchRequest(
        p.dem.catalog_url or p.catalog_url, p.dem.collection, lonlat_box(grid), date.min, date.max
    )
    items = search_items(request, _policy(p), Path(p.cache.dir), p.cache.refresh_search)
    if not items:
        raise ValueError(
            f"No tile of {p.dem.collection} covers the area in {request.catalog_url}; set "
            f"imagery.dem (or collection: null to leave the DEM band out)"
        )
    return items


def scene_table(
    p: ImageryParams, year: int, items: list[pystac.Item], assets: list[str]
) -> pd.DataFrame:
    """One row per scene: when, where from, its offset and the field that gave it."""
    columns = ["year", "id", "datetime", "solar_day", "platform", "cloud_cover"]
    columns += ["processing_baseline", "offset_from", "offset_conflicts"]
    columns += [f"dn_offset_{a}" for a in assets]
    rows = []
    for item, day in zip(items, solar_days(items), strict=True):
        decision = decide_offset(item, assets, p.harmonise)
        rows.append(
            {
                "year": year,
                "id": item.id,
                "datetime": item.datetime.isoformat() if item.datetime else "",
                "solar_day": day,
                "platform": item.properties.get("platform", ""),
                "cloud_cover": item.properties.get("eo:cloud_cover", np.nan),
                "processing_baseline": decision.baseline or "",
                "offset_from": decision.source,
                "offset_conflicts": "; ".join(decision.conflicts),
                **{f"dn_offset_{a}": decision.offsets[a] for a in assets},
            }
        )
    return pd.DataFrame(rows, columns=columns)


def composite_settings(p: ImageryParams, assets: list[str], bands: list[str]) -> CompositeSettings:
    """Compositing settings from the parameters."""
    return CompositeSettings(
        assets=assets,
        band_names=list(bands),
        scl_asset=p.scl_asset,
        masked_classes=list(p.masking.masked_classes),
        nodata_dn=p.data.nodata,
        saturated_dn=p.data.saturated,
        dtype=p.data.dtype,
        clip_negative=p.harmonise.clip_negative,
        out_nodata=p.output.nodata,
        count_band=p.output.count_band,
        dem_band=p.dem.band_name if p.dem.collection else None,
        resampling=p.resampling.reflectance,
        dem_resampling=p.resampling.dem,
        window_size=p.output.window_size,
        threads=p.output.threads,
        progress=p.progress,
    )


def year_composite(
    p: ImageryParams,
    grid: GridSpec,
    items: list[pystac.Item],
    offsets: pd.DataFrame,
    dem_items: list[pystac.Item],
    assets: list[str],
    bands: list[str],
) -> Any:
    """Fetch one year's assets into the cache and return its lazy composite.

    Args:
        p: ``imagery``.
        grid: The output grid.
        items: The year's scenes.
        offsets: The scenes table (``id`` and ``dn_offset_<asset>`` columns).
        dem_items: DEM tiles (empty: no DEM band).
        assets: Reflectance asset keys, in the model's band order.
        bands: The model's band names (the composite's band descriptions).
    """
    signer = make_signer(p.signing)
    needed = assets + ([p.scl_asset] if p.scl_asset else [])
    local = localise_items(
        items, needed, grid, Path(p.cache.dir), p.cache.local_assets, signer, p.progress
    )
    table = offsets.drop_duplicates("id").set_index("id")
    values = [[float(table.loc[i.id, f"dn_offset_{a}"]) for a in assets] for i in local]
    dem_signer = make_signer(p.dem.signing or p.signing)
    dem_local = localise_items(
        dem_items,
        [p.dem.asset],
        grid,
        Path(p.cache.dir),
        p.cache.local_assets,
        dem_signer,
        p.progress,
    )
    tags = {
        "catalog": p.catalog_url,
        "collection": p.collection,
        "scenes": json.dumps([i.id for i in local]),
        "scale": "reflectance x 10000",
    }
    settings = composite_settings(p, assets, bands)
    matrix = np.array(values, dtype=np.float64).reshape(len(local), len(assets))
    return composite_producer(local, matrix, grid, settings, dem_local, p.dem.asset, tags)


def count_histogram(source: RasterSource, band: int, window: int = 1024) -> np.ndarray:
    """How many pixels have 0, 1, 2 ... clear observations (read window by window)."""
    hist = np.zeros(1, dtype=np.int64)
    for w in iter_windows(source.grid.width, source.grid.height, window):
        counts = source.read(w, bands=[band])[0].astype(np.int64).ravel()
        counts = counts[counts >= 0]
        h = np.bincount(counts)
        if len(h) > len(hist):
            hist = np.pad(hist, (0, len(h) - len(hist)))
        hist[: len(h)] += h
    return hist


def _percentile(hist: np.ndarray, q: float) -> float:
    """The q-th percentile (lower) of values 0..n given their histogram."""
    cum = np.cumsum(hist)
    return float(np.searchsorted(cum, q / 100.0 * cum[-1], side="left"))


def summary_row(
    p: ImageryParams, year: int, source: RasterSource, scenes: pd.DataFrame
) -> dict[str, Any]:
    """The summary of one year's composite: scenes used, clear observations, pixels with none."""
    band = list(source.band_names).index(p.output.count_band) + 1
    hist = count_histogram(source, band)
    used = json.loads(source.tags.get("clear_pixels_by_scene", "{}"))
    own = scenes[scenes["year"] == year] if len(scenes) else scenes
    offset_cols = [c for c in own.columns if c.startswith("dn_offset_")]
    clear_px = sum(used.values())
    start, end = p.season.window(year)
    row: dict[str, Any] = {
        "year": year,
        "window_start": str(start),
        "window_end": str(end),
        "scenes_found": len(own),
        "scenes_used": sum(1 for n in used.values() if n > 0),
        "scenes_with_offset": int((own[offset_cols] != 0).any(axis=1).sum()) if len(own) else 0,
        "scenes_with_conflicts": int((own["offset_conflicts"].fillna("") != "").sum())
        if len(own)
        else 0,
        "pixels": int(hist.sum()),
        "pixels_no_clear": int(hist[0]),
        "share_no_clear": float(hist[0] / hist.sum()) if hist.sum() else float("nan"),
        "clear_mean": float((np.arange(len(hist)) * hist).sum() / hist.sum()),
    }
    row.update({f"clear_p{q}": _percentile(hist, q) for q in PERCENTILES})
    clipped = int(source.tags.get("clipped_negative", 0))
    bands = max(len(offset_cols), 1)
    row["share_clipped_negative"] = clipped / (clear_px * bands) if clear_px else 0.0
    return row
