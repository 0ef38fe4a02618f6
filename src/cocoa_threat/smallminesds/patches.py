"""Model-input patches: selected bands, labels and elevation of one tile and year."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cocoa_threat.geo.grid import RasterSource
from cocoa_threat.geo.raster import Raster, pad_to
from cocoa_threat.params import LandUse
from cocoa_threat.params.ingestion import LabelSpec, RasterSpec
from cocoa_threat.smallminesds.checks import mask_nodata
from cocoa_threat.smallminesds.labels import build_labels, cocoa_from_mask_band
from cocoa_threat.smallminesds.splits import SAMPLE_DESIGN


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
    dem_band = spec.band_names.index(spec.dem_band) + 1
    both = image.read(bands=[*band_indexes, dem_band]).astype(np.float32, copy=False)
    data, dem = both[:-1], both[-1:]  # one read of the file
    mask_data = mask.read()
    nodata = mask_nodata(mask, spec)
    if labels.cocoa.source == "mask_band":
        cocoa = cocoa_from_mask_band(mask_data, nodata)
    elif labels.cocoa.source == "none":
        cocoa = None
    valid = np.all(np.isfinite(data) & (data != spec.image_nodata), axis=0)
    lbl = build_labels(mask_data, nodata, valid, cocoa, labels, land_use)
    is_edge = lbl.shape != (spec.tile_size, spec.tile_size)
    if is_edge and spec.edge_tiles == "skip":
        return None
    stats = _patch_stats(valid, lbl, land_use, is_edge)
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


def _patch_stats(
    valid: np.ndarray, lbl: np.ndarray, land_use: LandUse, is_edge: bool
) -> dict[str, Any]:
    """The manifest's facts of a patch (before padding): nodata, class shares, size.

    Class fractions are shares of the labelled pixels.
    """
    rows, cols = lbl.shape
    labelled = lbl != land_use.nodata
    n_valid = max(int(labelled.sum()), 1)
    return {
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


def prepare_patches(
    rows: list[dict[str, Any]], prepare: Callable[[dict[str, Any]], Patch | None], workers: int = 4
) -> list[Patch | None]:
    """``prepare`` every row (tile and year) on a few threads (reading is I/O bound)."""
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(prepare, rows))


# The files of one tile and year: manifest column prefix and partition suffix.
PARTS = (("image", "img"), ("label", "lbl"), ("dem", "dem"))


def lay_out_model_input(
    rows: Iterable[dict[str, Any]],
    patches: Iterable[Patch | None],
    root: Path,
    raw_file: Callable[[str], str],
    facts: dict[str, Any],
) -> tuple[dict[str, Raster], pd.DataFrame]:
    """Model-input partitions ``<split>/<tile>_<year>_img|lbl|dem`` and their manifest.

    Args:
        rows: One per tile and year: ``tile_id``, ``year``, ``split``, ``block``,
            the sample design (stratum, inclusion_prob, design_weight), bounds, ``crs``, ``image_key``, ``mask_key``.
        patches: The prepared patch of each row (None: skipped edge tile).
        root: Where the partitions are written (for the manifest's paths).
        raw_file: The raw file of a raw partition key (for provenance).
        facts: Columns every row of the manifest gets (label provenance, split hash).

    Returns:
        Partitions and the ``tile_manifest`` (sorted by year and tile).
    """
    partitions: dict[str, Raster] = {}
    manifest = []
    for row, patch in zip(rows, patches, strict=True):
        if patch is None:
            continue
        sample = f"{row['tile_id']}_{row['year']}"
        key = f"{row['split']}/{sample}"
        partitions |= {f"{key}_img": patch.image, f"{key}_lbl": patch.labels}
        partitions[f"{key}_dem"] = patch.dem
        manifest.append(
            {
                **{k: row[k] for k in ("tile_id", "year", "split", "block", *SAMPLE_DESIGN)},
                "sample": sample,
                **patch.stats,
                **{k: row[k] for k in ("minx", "miny", "maxx", "maxy", "crs")},
                **{f"{n}_path": (root / f"{key}_{s}.tif").as_posix() for n, s in PARTS},
                "raw_image": raw_file(row["image_key"]),
                "raw_mask": raw_file(row["mask_key"]),
                **facts,
            }
        )
    table = pd.DataFrame(manifest).sort_values(["year", "tile_id"]).reset_index(drop=True)
    return partitions, table


def band_statistics(
    images: Iterable[np.ndarray], n_bands: int, nodata: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-band mean, standard deviation and valid-pixel count over images (C, H, W).

    Nodata and non-finite pixels are left out; sums in float64.
    """
    total, total_sq, count = np.zeros(n_bands), np.zeros(n_bands), np.zeros(n_bands)
    for image in images:
        data = image.astype(np.float64)
        valid = np.isfinite(data) & (data != nodata)
        x = np.where(valid, data, 0.0)
        total += x.sum(axis=(1, 2))
        total_sq += (x**2).sum(axis=(1, 2))
        count += valid.sum(axis=(1, 2))
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = total / count
        std = np.sqrt(np.maximum(total_sq / count - mean**2, 0.0))
    return mean, std, count


def class_fractions(manifest: pd.DataFrame, classes: list[str]) -> dict[int, dict[str, float]]:
    """Share of each class among the labelled pixels, per year (pixel-weighted)."""
    out = {}
    for year, grp in manifest.groupby("year"):
        w = grp["labelled_fraction"] * grp["width"] * grp["height"]
        out[int(year)] = {c: float(np.average(grp[f"fraction_{c}"], weights=w)) for c in classes}
    return out
