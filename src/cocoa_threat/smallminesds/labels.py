"""The study's labels: mining from the masks, cocoa from a cocoa-probability layer.

As released, a SmallMinesDS mask has one band (mining 1, not 0). The study's
cocoa class comes from a separate cocoa-probability layer (the Kalischek et
al. 2023 map of Ghana and Côte d'Ivoire, static across years), thresholded at
``ingestion.labels.cocoa_threshold`` (0.65); mining wins over cocoa. Both are
model products, not field truth: "accuracy" against them is agreement with
those layers.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from affine import Affine
from rasterio.warp import transform_bounds
from tqdm.auto import tqdm

from cocoa_threat.errors import DataValidationError
from cocoa_threat.geo.grid import GridSpec, RasterSource
from cocoa_threat.params import LandUse
from cocoa_threat.params.ingestion import CocoaSource, LabelSpec

logger = logging.getLogger(__name__)


def build_labels(
    mask: np.ndarray,
    mask_nodata: float,
    image_valid: np.ndarray,
    cocoa: np.ndarray | None,
    labels: LabelSpec,
    land_use: LandUse,
) -> np.ndarray:
    """Build class labels (codes of ``land_use.classes``; ``land_use.nodata`` = no label).

    Args:
        mask: (bands, rows, cols) mask. ``mining``: band 1 mining 0/1;
            ``mining_cocoa``: band 2 cocoa probability 0..1 as well;
            ``class_map``: one band mapped by ``labels.class_values``.
        mask_nodata: The mask's nodata value.
        image_valid: Boolean (rows, cols), False where the image has no data.
        cocoa: Cocoa probability on the tile's grid (NaN = no data), or None
            when the study has no cocoa class.
        labels: Label parameters.
        land_use: The land-use scheme (class codes, nodata).

    Returns:
        uint8 (rows, cols) labels: class 0 where neither mining nor cocoa.
    """
    out = np.zeros(mask.shape[1:], dtype=np.uint8)
    first = mask[0]
    no_label = (first == mask_nodata) | ~np.isfinite(first)
    if labels.mask_format == "class_map":
        out[:] = land_use.nodata
        for raw, cls in labels.class_values.items():
            out[first == raw] = cls
    else:
        mining = first == 1
        if land_use.cocoa is not None and cocoa is not None:
            out[cocoa >= labels.cocoa_threshold] = land_use.cocoa
            # No cocoa information: only a mining pixel still has a label.
            no_label |= ~np.isfinite(cocoa) & ~mining
        out[mining] = land_use.mining  # mining wins over cocoa
    out[no_label | ~image_valid] = land_use.nodata
    return out


def cocoa_from_mask_band(mask: np.ndarray, mask_nodata: float) -> np.ndarray:
    """Band 2 of a 2-band mask as probability (NaN where no data)."""
    prob = mask[1].astype(np.float32)
    prob[(mask[1] == mask_nodata) | ~np.isfinite(prob)] = np.nan
    return prob


@dataclass
class CocoaOnTiles:
    """The cocoa-probability layer on every tile's grid.

    Attributes:
        probability: tile id -> float32 probability (NaN = no data) on the tile's grid.
        provenance: Facts about the layer (file, size, header hash, scale, resampling).
        uncovered: Tile ids the layer does not fully cover.
    """

    probability: dict[str, np.ndarray] = field(default_factory=dict)
    provenance: dict[str, Any] = field(default_factory=dict)
    uncovered: list[str] = field(default_factory=list)


def tile_grid(row: Any, pixel_size: float) -> GridSpec:
    """The grid of a tile from an inventory row (crs, minx, maxy, width, height)."""
    transform = Affine(pixel_size, 0, float(row.minx), 0, -pixel_size, float(row.maxy))
    return GridSpec.of(row.crs, transform, int(row.width), int(row.height))


def suggest_scale(raw_max: float) -> float:
    """The usual scale that brings values up to ``raw_max`` into 0..1."""
    for scale in (1.0, 100.0, 255.0, 1000.0, 10000.0):
        if raw_max <= scale * (1 + 1e-6):
            return scale
    return float(10 ** np.ceil(np.log10(raw_max)))


def covers(layer: RasterSource, grid: GridSpec) -> bool:
    """Whether the layer's extent contains the whole grid."""
    minx, miny, maxx, maxy = transform_bounds(grid.crs, layer.grid.crs, *grid.bounds)
    lminx, lminy, lmaxx, lmaxy = layer.grid.bounds
    tol = 0.5 * abs(layer.grid.transform[0])
    return (
        minx >= lminx - tol and maxx <= lmaxx + tol and miny >= lminy - tol and maxy <= lmaxy + tol
    )


def cocoa_on_tiles(
    layer: RasterSource,
    tiles: pd.DataFrame,
    spec: CocoaSource,
    pixel_size: float,
    threshold: float,
) -> CocoaOnTiles:
    """Reproject the cocoa layer onto each tile's exact grid, once per tile id.

    Only the window of the layer under each tile is read. The checks come
    first, so a bad layer fails before anything is written.

    Args:
        layer: The cocoa-probability layer (catalog ``cocoa_layer_raw``).
        tiles: One row per tile id: tile_id, crs, minx, maxy, width, height.
        spec: ``ingestion.labels.cocoa``.
        pixel_size: Tile pixel size.
        threshold: ``ingestion.labels.cocoa_threshold`` (some pixel must reach it).

    Returns:
        The probabilities (raw value / ``spec.scale``) and the layer's provenance.

    Raises:
        DataValidationError: A layer without CRS, tiles it does not cover
            (``on_missing: error``), or values that do not fit ``scale``
            (:func:`check_scale`).
    """
    where = f"{layer.path} (catalog cocoa_layer_raw, raw.cocoa_layer)"
    if not layer.grid.crs:
        raise DataValidationError(
            f"The cocoa layer {where} has no CRS",
            ["give it one (e.g. gdal_edit.py -a_srs EPSG:4326) so it can be placed on the tiles"],
        )
    out = CocoaOnTiles(
        provenance={
            **layer.file_facts(),
            "crs": layer.grid.crs,
            "scale": spec.scale,
            "resampling": spec.resampling,
        }
    )
    grids = {str(r.tile_id): tile_grid(r, pixel_size) for r in tiles.itertuples()}
    out.uncovered = _uncovered_tiles(layer, grids, spec, where)
    raw_max, raw_min, worst = -np.inf, np.inf, ""
    for tile, grid in tqdm(grids.items(), desc="cocoa layer on tiles", leave=False):
        raw = layer.read_on_grid(grid, resampling=spec.resampling)
        if np.isfinite(raw).any():
            hi, lo = float(np.nanmax(raw)), float(np.nanmin(raw))
            if hi > raw_max:
                raw_max, worst = hi, tile
            raw_min = min(raw_min, lo)
        out.probability[tile] = raw / np.float32(spec.scale)
    check_scale(raw_min, raw_max, spec.scale, threshold, f"{where}, e.g. on tile {worst}")
    return out


def _uncovered_tiles(
    layer: RasterSource, grids: dict[str, GridSpec], spec: CocoaSource, where: str
) -> list[str]:
    """The tiles the layer does not fully cover (sorted); an error with ``on_missing: error``.

    Raises:
        DataValidationError: Some tile is not covered and ``spec.on_missing`` is ``error``.
    """
    uncovered = sorted(t for t, g in grids.items() if not covers(layer, g))
    if uncovered and spec.on_missing == "error":
        raise DataValidationError(
            f"The cocoa layer {where} does not cover {len(uncovered)} tile(s); use a "
            f"layer that covers the study area, or set ingestion.labels.cocoa.on_missing: "
            f"ignore to leave cocoa unlabelled there; nothing was written",
            [f"tile {t}" for t in uncovered],
        )
    if uncovered:
        logger.warning(
            "The cocoa layer does not cover %d tile(s) (%s): their pixels outside it get no "
            "label unless mined",
            len(uncovered),
            ", ".join(uncovered[:10]),
        )
    return uncovered


def check_scale(raw_min: float, raw_max: float, scale: float, threshold: float, where: str) -> None:
    """Stop when the layer's values do not fit ``scale``, naming the scale that fits.

    Wrong scales fail both ways: values above ``scale`` (e.g. percent read with
    scale 1), and values that only fit a smaller scale (e.g. 0..1 floats read
    with scale 100), which would otherwise leave no pixel at the cocoa threshold.

    Raises:
        DataValidationError: With the values found and the ``scale`` to set.
    """
    if not np.isfinite(raw_max):
        raise DataValidationError(
            f"The cocoa layer {where} has no data under any tile; nothing was written",
            ["use a layer that covers the tiles, or ingestion.labels.cocoa.source: none"],
        )
    fit = suggest_scale(raw_max) if raw_min >= 0 else None
    if fit is None:
        problem = "the layer has negative values: is it a probability layer?"
    elif raw_max > scale * (1 + 1e-6) or fit < scale:
        problem = f"set ingestion.labels.cocoa.scale: {fit:g}"
    elif raw_max / scale < threshold:
        problem = (
            f"no pixel reaches ingestion.labels.cocoa_threshold {threshold:g}: is it the "
            f"cocoa-probability layer, and is {scale:g} its scale?"
        )
    else:
        return
    raise DataValidationError(
        f"The cocoa layer {where} has values {raw_min:g}..{raw_max:g}, i.e. "
        f"{raw_min / scale:g}..{raw_max / scale:g} after ingestion.labels.cocoa.scale "
        f"{scale:g}; probabilities must be 0..1 and reach the cocoa threshold; nothing "
        f"was written",
        [problem],
    )
