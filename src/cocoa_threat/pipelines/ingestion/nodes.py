"""Nodes of the ingestion pipeline: from raw SmallMinesDS tiles to model input.

Every raw input comes through the catalog (``raw_tiles``, ``cocoa_layer_raw``,
``published_splits_raw``), whatever its source; the science is in
:mod:`cocoa_threat.smallminesds`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cocoa_threat.errors import DataValidationError
from cocoa_threat.geo.raster import Raster
from cocoa_threat.params import LandUse
from cocoa_threat.params.ingestion import IngestionParams
from cocoa_threat.raw import RawFolder, require
from cocoa_threat.smallminesds.checks import inspect_tiles
from cocoa_threat.smallminesds.labels import CocoaOnTiles, cocoa_on_tiles
from cocoa_threat.smallminesds.layout import index_tiles
from cocoa_threat.smallminesds.patches import (
    Patch,
    band_statistics,
    class_fractions,
    lay_out_model_input,
    prepare_patch,
    prepare_patches,
)
from cocoa_threat.smallminesds.splits import (
    SPLITS,
    blocked_splits,
    published_splits,
    read_published_splits,
    split_fingerprint,
)

logger = logging.getLogger(__name__)


def index_raw_tiles(raw_tiles: RawFolder, ingestion: IngestionParams) -> pd.DataFrame:
    """Pair images and masks per year by tile id.

    Args:
        raw_tiles: The raw tiles (catalog ``raw_tiles``).
        ingestion: The ``ingestion`` parameters.

    Returns:
        ``raw_tile_index``: year, tile_id, image_key, mask_key.
    """
    p = ingestion
    tiles: RawFolder = require(raw_tiles, "raw_tiles (the SmallMinesDS folder)")
    index = index_tiles(tiles.partitions, p.years, p.files, tiles.path)
    logger.info(
        "Found %d tile pairs under %s (%s)",
        len(index),
        tiles.path,
        ", ".join(f"{y}: {n}" for y, n in index.groupby("year").size().items()),
    )
    return index


def validate_raw_tiles(
    raw_tiles: RawFolder,
    raw_tile_index: pd.DataFrame,
    cocoa_layer_raw: Any,
    ingestion: IngestionParams,
    land_use: LandUse,
) -> tuple[pd.DataFrame, CocoaOnTiles]:
    """Check every raw file and the cocoa layer; fail once with every problem.

    Checks: readable, band count, float dtype, pixel size, nodata, one CRS for
    all tiles (or ``ingestion.raster.crs``), tile size, mask bands (1 for
    ``mining``, 2 for ``mining_cocoa``), grid and values; the cocoa layer's
    CRS, coverage of every tile and value range after ``scale``. Nothing
    downstream is written unless all pass.

    Args:
        raw_tiles: The raw tiles.
        raw_tile_index: Output of :func:`index_raw_tiles`.
        cocoa_layer_raw: The cocoa-probability layer (``cocoa.source: raster``).
        ingestion: The ``ingestion`` parameters.
        land_use: The ``land_use`` parameters.

    Returns:
        ``raw_tile_inventory`` (size, CRS, bounds, raw mining fraction per tile)
        and ``cocoa_on_tiles`` (the cocoa layer on every tile's grid).

    Raises:
        DataValidationError: Listing every bad file and what is wrong with it.
    """
    p = ingestion
    tiles: RawFolder = require(raw_tiles, "raw_tiles")
    facts, problems = inspect_tiles(
        raw_tile_index, tiles.partitions, p.raster, p.labels, tiles.file
    )
    if problems:
        raise DataValidationError("Raw tiles failed validation; nothing was written", problems)
    cocoa = _cocoa_on_tiles(cocoa_layer_raw, facts, p)
    logger.info("Validated %d tile pairs: all readable and consistent", len(facts))
    return facts, cocoa


def _cocoa_on_tiles(cocoa_layer_raw: Any, facts: pd.DataFrame, p: IngestionParams) -> CocoaOnTiles:
    """The cocoa layer on every tile's grid (empty unless ``labels.cocoa.source: raster``)."""
    if p.labels.cocoa.source != "raster":
        return CocoaOnTiles()
    layer = require(cocoa_layer_raw, "cocoa_layer_raw (raw.cocoa_layer in globals.yml)")
    return cocoa_on_tiles(
        layer,
        facts.drop_duplicates("tile_id"),
        p.labels.cocoa,
        p.raster.pixel_size,
        p.labels.cocoa_threshold,
    )


def assign_splits(
    raw_tile_inventory: pd.DataFrame, published_splits_raw: Any, ingestion: IngestionParams
) -> pd.DataFrame:
    """Split tiles into train/val/test, the same split for a tile in every year.

    With ``ingestion.split.method: blocked`` whole blocks of k x k neighbouring
    tiles go to one split by stratified random sampling
    (``ingestion.split.strata``); with ``published``
    the study's per-year files (catalog ``published_splits_raw``) are used,
    with a warning: they leak across years.

    Args:
        raw_tile_inventory: Output of :func:`validate_raw_tiles`.
        published_splits_raw: The published split files (only for ``published``).
        ingestion: The ``ingestion`` parameters.

    Returns:
        ``tile_splits``: tile_id, year, block, split and the sample design
        (stratum, inclusion_prob, design_weight).
    """
    p = ingestion
    if p.split.method == "published":
        files = require(published_splits_raw, "published_splits_raw (ingestion.split.method)")
        table = read_published_splits(files.partitions, p.split, p.files.mask_pattern)
        out = published_splits(raw_tile_inventory, table, p.split)
    else:
        out = blocked_splits(raw_tile_inventory, p.split, p.raster.tile_size, p.raster.pixel_size)
    counts = out.drop_duplicates("tile_id")["split"].value_counts()
    logger.info(
        "Split %d tiles (%s blocks): %s",
        out["tile_id"].nunique(),
        out["block"].nunique(),
        ", ".join(f"{s} {counts.get(s, 0)}" for s in SPLITS),
    )
    return out.sort_values(["year", "tile_id"]).reset_index(drop=True)


def _provenance(p: IngestionParams, cocoa: CocoaOnTiles) -> dict[str, Any]:
    facts = cocoa.provenance
    return {
        "mask_format": p.labels.mask_format,
        "cocoa_source": p.labels.cocoa.source,
        "cocoa_file": facts.get("file"),
        "cocoa_size_bytes": facts.get("size_bytes"),
        "cocoa_header_sha256": facts.get("header_sha256"),
        "cocoa_scale": p.labels.cocoa.scale if p.labels.cocoa.source == "raster" else None,
        "cocoa_threshold": p.labels.cocoa_threshold,
    }


def build_model_input(
    raw_tiles: RawFolder,
    raw_tile_inventory: pd.DataFrame,
    tile_splits: pd.DataFrame,
    cocoa_on_tiles: CocoaOnTiles,
    ingestion: IngestionParams,
    land_use: LandUse,
) -> tuple[dict[str, Raster], pd.DataFrame]:
    """Select bands, build labels, copy the DEM, handle edge tiles, lay out the model input.

    The output is one folder per split with ``<tile>_<year>_img.tif`` (selected
    bands, float32, image nodata kept), ``<tile>_<year>_lbl.tif`` (uint8
    classes, nodata = ``land_use.nodata``) and ``<tile>_<year>_dem.tif``
    (elevation for the risk pipeline), georeferenced; TerraTorch's
    ``GenericNonGeoSegmentationDataModule`` reads the first two with
    ``img_grep: "*_img.tif"`` and ``label_grep: "*_lbl.tif"``.

    Args:
        raw_tiles: The raw tiles.
        raw_tile_inventory: Output of :func:`validate_raw_tiles`.
        tile_splits: Output of :func:`assign_splits`.
        cocoa_on_tiles: The cocoa layer on every tile.
        ingestion: The ``ingestion`` parameters.
        land_use: The ``land_use`` parameters.

    Returns:
        ``model_input`` partitions and the ``tile_manifest`` (one row per tile
        and year, with the label provenance and the split's hash).
    """
    p, lu = ingestion, land_use
    tiles: RawFolder = require(raw_tiles, "raw_tiles")
    rows = raw_tile_inventory.merge(tile_splits, on=["tile_id", "year"]).to_dict("records")
    facts = {**_provenance(p, cocoa_on_tiles), "split_hash": split_fingerprint(tile_splits)}
    patches = prepare_patches(rows, _preparer(tiles, cocoa_on_tiles, p, lu))
    out = Path(p.model_input_dir)
    partitions, table = lay_out_model_input(rows, patches, out, tiles.file, facts)
    _log_model_input(table, len(rows), lu)
    return partitions, table


def _preparer(
    tiles: RawFolder, cocoa_on_tiles: CocoaOnTiles, p: IngestionParams, lu: LandUse
) -> Callable[[dict[str, Any]], Patch | None]:
    """Prepares the patch of one inventory row (None: an edge tile skipped)."""
    bands = [i + 1 for i in p.band_indices()]

    def prepare(row: dict[str, Any]) -> Patch | None:
        return prepare_patch(
            tiles.partitions[row["image_key"]](),
            tiles.partitions[row["mask_key"]](),
            cocoa_on_tiles.probability.get(str(row["tile_id"])),
            bands,
            list(p.bands),
            p.raster,
            p.labels,
            lu,
        )

    return prepare


def _log_model_input(table: pd.DataFrame, n_rows: int, lu: LandUse) -> None:
    if skipped := n_rows - len(table):
        logger.info("Skipped %d edge tile(s) (ingestion.raster.edge_tiles: skip)", skipped)
    for year, fr in class_fractions(table, lu.classes).items():
        logger.info(
            "%s: %d tiles, class fractions %s",
            year,
            int((table["year"] == year).sum()),
            ", ".join(f"{c} {100 * v:.1f}%" for c, v in fr.items()),
        )


def _train_images(
    model_input: dict[str, Callable[[], Raster]], train: pd.DataFrame
) -> Iterator[np.ndarray]:
    """The training split's image arrays, loaded one at a time."""
    missing = [s for s in train["sample"] if f"train/{s}_img" not in model_input]
    if missing:
        raise KeyError(
            f"model_input has no partition train/{missing[0]}_img; re-run the ingestion pipeline"
        )
    return (model_input[f"train/{s}_img"]().data for s in train["sample"])


def compute_band_stats(
    model_input: dict[str, Callable[[], Raster]],
    tile_manifest: pd.DataFrame,
    ingestion: IngestionParams,
) -> dict[str, Any]:
    """Per-band mean and standard deviation over the training split only.

    Nodata pixels are left out. The statistics are used to normalise every split.

    Args:
        model_input: The model input partitions (loaded lazily by the catalog).
        tile_manifest: Output of :func:`build_model_input`.
        ingestion: The ``ingestion`` parameters.

    Returns:
        ``band_stats``: bands, means, stds, n_pixels, n_tiles.
    """
    p = ingestion
    train = tile_manifest[tile_manifest["split"] == "train"]
    images = _train_images(model_input, train)
    mean, std, count = band_statistics(images, len(p.bands), p.raster.image_nodata)
    if (count == 0).any():
        raise ValueError("The training split has no valid pixels; check the input data")
    logger.info(
        "Band statistics from %d training tiles: %s",
        len(train),
        ", ".join(f"{b} {m:.0f}+/-{s:.0f}" for b, m, s in zip(p.bands, mean, std, strict=True)),
    )
    return {
        "bands": list(p.bands),
        "means": mean.round(6).tolist(),
        "stds": std.round(6).tolist(),
        "n_pixels": int(count.min()),
        "n_tiles": len(train),
        "split": "train",
    }
