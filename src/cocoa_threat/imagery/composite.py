"""Per-pixel median composites of clear observations, window by window.

The scenes of one year are loaded lazily with odc-stac onto the output grid
(one time slice per scene, Dask chunks of one window), and each window is
composited in numpy:

1. clear observations: the scene classification and the special digital
   numbers (:func:`~cocoa_threat.imagery.masking.clear_mask`);
2. harmonisation: each scene's offset (processing baseline 04.00) added once;
3. one observation per solar day: scenes of one day (neighbouring tiles of one
   pass) are fused, first clear scene first, so overlaps do not count twice;
4. the median of the clear days per band, and their number (a quality band).

The composite is a :class:`~cocoa_threat.geo.cog.RasterProducer` (float32,
reflectance x 10000, the model's bands by name, then the DEM and the count),
written by the catalog as a COG; memory holds one window of every scene.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import numpy as np
import pystac
from rasterio.windows import Window
from tqdm.auto import tqdm

from cocoa_threat.geo.cog import RasterProducer
from cocoa_threat.geo.grid import GridSpec, iter_windows
from cocoa_threat.imagery.masking import clear_mask


@dataclass(frozen=True)
class CompositeSettings:
    """How scenes become a composite.

    Attributes:
        assets: Reflectance asset keys, in output order.
        band_names: Output band descriptions (the model's band names), same order.
        scl_asset: The scene-classification asset (None: no classification).
        masked_classes: SCL classes that are not clear.
        nodata_dn: Digital number of no data.
        saturated_dn: Digital number of saturated pixels (None: none).
        dtype: Data type of the reflectance assets.
        clip_negative: Harmonised values below 0 become 0.
        out_nodata: Nodata of the composite.
        count_band: Description of the clear-observation count band.
        dem_band: Description of the DEM band (None: no DEM).
        resampling: Resampling of reflectance onto the grid.
        dem_resampling: Resampling of the DEM.
        window_size: Window (and Dask chunk) size in pixels.
        threads: Threads that read a window's chunks.
        progress: Show a progress bar.
    """

    assets: list[str]
    band_names: list[str]
    scl_asset: str | None
    masked_classes: list[int]
    nodata_dn: float = 0
    saturated_dn: float | None = 65535
    dtype: str = "uint16"
    clip_negative: bool = True
    out_nodata: float = -9999.0
    count_band: str = "CLEAR_COUNT"
    dem_band: str | None = "DEM"
    resampling: str = "nearest"
    dem_resampling: str = "bilinear"
    window_size: int = 512
    threads: int = 2
    progress: bool = True


@dataclass
class PassStats:
    """What the pass saw, written as tags of the composite when it ends."""

    clear_pixels: dict[str, int] = field(default_factory=dict)
    clear_observations: int = 0
    clipped_negative: int = 0

    def tags(self) -> dict[str, str]:
        """The statistics as GeoTIFF tags."""
        return {
            "clear_pixels_by_scene": json.dumps(self.clear_pixels),
            "clear_observations": str(self.clear_observations),
            "clipped_negative": str(self.clipped_negative),
        }


def solar_days(items: list[pystac.Item]) -> list[int]:
    """The solar day of each scene, as an index (scenes of one day share it)."""
    keys: dict[date, int] = {}
    out = []
    for item in items:
        west, _, east, _ = item.bbox or (0.0, 0.0, 0.0, 0.0)
        assert item.datetime is not None
        day = (item.datetime + timedelta(hours=(west + east) / 2 / 15)).date()
        out.append(keys.setdefault(day, len(keys)))
    return out


def harmonised(dn: np.ndarray, offsets: np.ndarray, clip_negative: bool) -> np.ndarray:
    """Reflectance x 10000 from digital numbers: DN + the scene's offset, once.

    Args:
        dn: (time, band, rows, cols) as stored.
        offsets: (time, band) digital numbers to add.
        clip_negative: Values below 0 become 0 (the scale before baseline 04.00).
    """
    out = dn.astype(np.float32) + offsets[:, :, None, None].astype(np.float32)
    return np.maximum(out, 0.0) if clip_negative else out


def fuse_days(values: np.ndarray, days: list[int]) -> np.ndarray:
    """One observation per solar day: the first clear scene of the day, per pixel.

    Args:
        values: (time, band, rows, cols), NaN where not clear.
        days: The solar day of each scene (:func:`solar_days`).

    Returns:
        (day, band, rows, cols), NaN where no scene of the day is clear.
    """
    n_days = max(days) + 1 if days else 0
    out = np.full((n_days, *values.shape[1:]), np.nan, dtype=np.float32)
    for t, d in enumerate(days):
        empty = np.isnan(out[d, 0]) & ~np.isnan(values[t, 0])
        out[d][:, empty] = values[t][:, empty]
    return out


def composite_window(
    dn: np.ndarray,
    scl: np.ndarray | None,
    offsets: np.ndarray,
    days: list[int],
    s: CompositeSettings,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """The median of the clear days and their count, for one window.

    Returns:
        Median (band, rows, cols) float32 (NaN where no clear day), count
        (rows, cols) int, clear pixels per scene (time,), values clipped at 0.
    """
    clear = clear_mask(dn, scl, s.masked_classes, s.nodata_dn, s.saturated_dn)
    raw = dn.astype(np.float32) + offsets[:, :, None, None].astype(np.float32)
    clipped = int(np.sum((raw < 0) & clear[:, None]))
    values = harmonised(dn, offsets, s.clip_negative)
    values[~np.broadcast_to(clear[:, None], values.shape)] = np.nan
    fused = fuse_days(values, days)
    count = np.sum(~np.isnan(fused[:, 0]), axis=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN pixels: no clear day
        median = np.nanmedian(fused, axis=0) if len(fused) else np.full(dn.shape[1:], np.nan)
    return median.astype(np.float32), count, clear.sum(axis=(1, 2)), clipped


def _geobox(grid: GridSpec) -> Any:
    from odc.geo.geobox import GeoBox

    return GeoBox((grid.height, grid.width), grid.affine, grid.crs)


def _by_position(item: Any, parsed: Any, index: int) -> int:
    """odc-stac groupby: every scene its own time slice, in the order given."""
    return index


def load_scenes(items: list[pystac.Item], grid: GridSpec, s: CompositeSettings) -> Any:
    """The scenes as a lazy (Dask) xarray Dataset on the grid, one slice per item."""
    import odc.stac

    cfg = {a: {"data_type": s.dtype, "nodata": s.nodata_dn} for a in s.assets}
    bands = list(s.assets)
    resampling = dict.fromkeys(s.assets, s.resampling)
    if s.scl_asset:
        cfg[s.scl_asset] = {"data_type": "uint8", "nodata": 0}
        bands.append(s.scl_asset)
        resampling[s.scl_asset] = "nearest"  # classes are never interpolated
    return odc.stac.load(
        items,
        bands=bands,
        geobox=_geobox(grid),
        chunks={"x": s.window_size, "y": s.window_size},
        groupby=_by_position,
        resampling=resampling,
        stac_cfg={"*": {"assets": cfg}},
        fail_on_error=True,
    )


def load_dem(items: list[pystac.Item], asset: str, grid: GridSpec, s: CompositeSettings) -> Any:
    """The DEM tiles mosaicked onto the grid (lazy), float32 with NaN where none reaches."""
    import odc.stac

    data = odc.stac.load(
        items,
        bands=[asset],
        geobox=_geobox(grid),
        chunks={"x": s.window_size, "y": s.window_size},
        groupby=lambda *_: 0,
        resampling=s.dem_resampling,
        stac_cfg={"*": {"assets": {asset: {"data_type": "float32", "nodata": float("nan")}}}},
        fail_on_error=True,
    )
    return data[asset].isel(time=0)


def _read(scenes: Any, dem: Any, window: Window, s: CompositeSettings) -> tuple[Any, Any, Any]:
    import dask

    rows = slice(int(window.row_off), int(window.row_off + window.height))
    cols = slice(int(window.col_off), int(window.col_off + window.width))
    sub = scenes.isel(y=rows, x=cols)
    parts = [sub[a].data for a in s.assets]
    parts += [sub[s.scl_asset].data] if s.scl_asset else []
    parts += [dem.isel(y=rows, x=cols).data] if dem is not None else []
    with warnings.catch_warnings():  # odc-loader's in-memory warps have no georeference
        warnings.filterwarnings("ignore", message="Dataset has no geotransform")
        got = dask.compute(*parts, scheduler="threads", num_workers=s.threads)
    dn = np.stack(got[: len(s.assets)], axis=1)
    scl = got[len(s.assets)] if s.scl_asset else None
    return dn, scl, (got[-1] if dem is not None else None)


def composite_producer(
    items: list[pystac.Item],
    offsets: np.ndarray,
    grid: GridSpec,
    s: CompositeSettings,
    dem_items: list[pystac.Item] | None = None,
    dem_asset: str = "data",
    tags: dict[str, str] | None = None,
) -> RasterProducer:
    """A lazy composite of ``items`` on ``grid``, written by the catalog as a COG.

    Args:
        items: Local scenes ordered by time and id.
        offsets: (scene, band) digital numbers to add (the harmonisation).
        grid: The output grid.
        s: Settings.
        dem_items: DEM tiles (None or empty: no DEM band).
        dem_asset: The DEM's asset key.
        tags: Metadata tags (the pass adds its statistics when it ends).
    """
    days = solar_days(items)
    stats = PassStats(clear_pixels=dict.fromkeys((i.id for i in items), 0))
    out_tags = dict(tags or {})
    with_dem = bool(dem_items) and s.dem_band is not None
    names = [*s.band_names, *([s.dem_band] if with_dem else []), s.count_band]

    def blocks() -> Iterator[tuple[Window, np.ndarray]]:
        scenes = load_scenes(items, grid, s) if items else None
        dem = load_dem(dem_items or [], dem_asset, grid, s) if with_dem else None
        windows = list(iter_windows(grid.width, grid.height, s.window_size))
        for window in tqdm(windows, desc="composite", unit="win", disable=not s.progress):
            yield window, _window_block(scenes, dem, window, offsets, days, s, stats)
        out_tags.update(stats.tags())  # read by write_cog once every window is written

    return RasterProducer(
        grid=grid,
        count=len(names),
        dtype="float32",
        nodata=s.out_nodata,
        blocks=blocks,
        band_names=names,
        tags=out_tags,
    )


def _window_block(
    scenes: Any,
    dem: Any,
    window: Window,
    offsets: np.ndarray,
    days: list[int],
    s: CompositeSettings,
    stats: PassStats,
) -> np.ndarray:
    shape = (int(window.height), int(window.width))
    if scenes is None:
        median, count = np.full((len(s.assets), *shape), np.nan, np.float32), np.zeros(shape)
        dem_values = None if dem is None else _read_dem(dem, window, s)
    else:
        dn, scl, dem_values = _read(scenes, dem, window, s)
        median, count, per_scene, clipped = composite_window(dn, scl, offsets, days, s)
        for item_id, n in zip(stats.clear_pixels, per_scene, strict=True):
            stats.clear_pixels[item_id] += int(n)
        stats.clear_observations += int(count.sum())
        stats.clipped_negative += clipped
    layers = [np.where(count > 0, median, s.out_nodata)]
    if dem is not None:
        layers.append(np.where(np.isfinite(dem_values), dem_values, s.out_nodata)[None])
    layers.append(count[None].astype(np.float32))
    return np.concatenate(layers, axis=0).astype(np.float32)


def _read_dem(dem: Any, window: Window, s: CompositeSettings) -> np.ndarray:
    rows = slice(int(window.row_off), int(window.row_off + window.height))
    cols = slice(int(window.col_off), int(window.col_off + window.width))
    return np.asarray(dem.isel(y=rows, x=cols).values)
