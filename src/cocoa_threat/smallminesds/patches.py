"""Model-input patches: selected bands, labels and elevation of one tile and year."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from cocoa_threat.geo.grid import RasterSource
from cocoa_threat.geo.raster import Raster, pad_to
from cocoa_threat.params import LandUse
from cocoa_threat.smallminesds.checks import mask_nodata
from cocoa_threat.smallminesds.labels import build_labels, cocoa_from_mask_band
from cocoa_threat.smallminesds.spec import LabelSpec, RasterSpec


@dataclass
class Patch:
    """The model input of one tile and year."""

    image: Raster  # selected bands, float32, image nodata kept
    labels: Raster  # uint8 class codes, land_use.nodata where no label
    dem: Raster  # elevation, float32 (for the risk pipeline)
    stats: dict[str, Any]


def prepare_patch(
    image: RasterSource,
    mask: RasterSource,
    cocoa: np.ndarray | None,
    band_indexes: list[int],
    band_names: list[str],
    spec: RasterSpec,
    labels: LabelSpec,
    land_use: LandUse,
) -> Patch | None:
    """Select bands, build labels, copy the DEM and handle an edge tile.

    Args:
        image: The raw image.
        mask: The raw mask.
        cocoa: Cocoa probability on the tile's grid (``cocoa.source: raster``), else None.
        band_indexes: 1-based raw bands fed to the models.
        band_names: Their names.
        spec: ``ingestion.raster``.
        labels: ``ingestion.labels``.
        land_use: The land-use scheme.

    Returns:
        The patch, or None for an edge tile with ``edge_tiles: skip``.
    """
    data = image.read(bands=band_indexes).astype(np.float32, copy=False)
    dem = image.read(bands=[spec.band_names.index(spec.dem_band) + 1]).astype(np.float32)
    mask_data = mask.read()
    nodata = mask_nodata(mask, spec)
    if labels.cocoa.source == "mask_band":
        cocoa = cocoa_from_mask_band(mask_data, nodata)
    elif labels.cocoa.source == "none":
        cocoa = None
    valid = np.all(np.isfinite(data) & (data != spec.image_nodata), axis=0)
    lbl = build_labels(mask_data, nodata, valid, cocoa, labels, land_use)
    rows, cols = lbl.shape
    is_edge = (rows, cols) != (spec.tile_size, spec.tile_size)
    if is_edge and spec.edge_tiles == "skip":
        return None
    labelled = lbl != land_use.nodata
    n_valid = max(int(labelled.sum()), 1)
    stats = {
        "nodata_fraction": float(1.0 - valid.mean()),
        **{
            f"fraction_{name}": float((lbl == code).sum() / n_valid)
            for code, name in enumerate(land_use.classes)
        },
        "labelled_fraction": float(labelled.mean()),
        "edge_tile": is_edge,
        "width": int(cols),
        "height": int(rows),
    }
    if is_edge and spec.edge_tiles == "pad":
        size = (spec.tile_size, spec.tile_size)
        data = pad_to(data, size, spec.image_nodata)
        dem = pad_to(dem, size, spec.image_nodata)
        lbl = pad_to(lbl, size, land_use.nodata)
    data = np.where(np.isfinite(data), data, np.float32(spec.image_nodata))
    dem = np.where(np.isfinite(dem), dem, np.float32(spec.image_nodata))
    t, crs = image.grid.affine, image.grid.crs
    return Patch(
        image=Raster(data, t, crs, spec.image_nodata, list(band_names)),
        labels=Raster(lbl[None], t, crs, land_use.nodata, ["class"]),
        dem=Raster(dem, t, crs, spec.image_nodata, [spec.dem_band]),
        stats=stats,
    )


def class_fractions(manifest: pd.DataFrame, classes: list[str]) -> dict[int, dict[str, float]]:
    """Share of each class among the labelled pixels, per year (pixel-weighted)."""
    out = {}
    for year, grp in manifest.groupby("year"):
        w = grp["labelled_fraction"] * grp["width"] * grp["height"]
        out[int(year)] = {c: float(np.average(grp[f"fraction_{c}"], weights=w)) for c in classes}
    return out
