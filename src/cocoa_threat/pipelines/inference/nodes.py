"""Nodes of the inference pipeline: yearly land-use maps from the trained model."""

from __future__ import annotations

import logging
from typing import Any

import pandas as pd
from matplotlib.figure import Figure

from cocoa_threat.geo.cog import RasterProducer
from cocoa_threat.geo.grid import RasterSource
from cocoa_threat.geo.vrt import MosaicSpec, tile_mosaic
from cocoa_threat.models.base import SegmentationModel
from cocoa_threat.models.scene import produce_class_map, settings_of
from cocoa_threat.models.selection import check_model_matches, choose_model, matching_test_score
from cocoa_threat.params import LandUse
from cocoa_threat.params.compute import ComputeParams
from cocoa_threat.params.inference import InferenceParams
from cocoa_threat.params.study import PeriodParams
from cocoa_threat.plots.maps import plot_class_raster
from cocoa_threat.raw import MissingRawInput
from cocoa_threat.smallminesds.splits import split_fingerprint

logger = logging.getLogger(__name__)


def select_model(
    tile_manifest: pd.DataFrame,
    inference: InferenceParams,
    land_use: LandUse,
    **candidates: Any,
) -> tuple[SegmentationModel, dict[str, Any]]:
    """Take the model named by ``inference.model`` (``best``: highest validation mIoU).

    The model must have been trained on the current split of the tiles (its
    build config records the split's hash) and for the current classes. Its
    test mIoU is reported only from metrics of the very same model version.

    Args:
        tile_manifest: The ingestion manifest (for the split's hash).
        inference: The ``inference`` parameters.
        land_use: The ``land_use`` parameters.
        **candidates: ``<model>__model`` (the trained model, None if not
            trained) and ``<model>__metrics`` for every model of ``training.models``.

    Returns:
        The ready-to-use model and a summary of the choice (``chosen_model_info``).

    Raises:
        ValueError: If no model, or not the named one, has been trained, or it
            was trained on another split or for other classes.
    """
    p, lu = inference, land_use
    models = _trained_models(candidates)
    name, reason = choose_model(models, p.model)
    chosen = models[name].configure(p.batch_size, p.device, p.compile)
    check_model_matches(chosen, split_fingerprint(tile_manifest), lu.classes)
    test_miou = matching_test_score(chosen, candidates.get(f"{name}__metrics"))
    logger.info(
        "Using model '%s' (version %s): %s; test mIoU %s",
        name,
        chosen.version,
        reason,
        "n/a" if test_miou is None else f"{test_miou:.3f}",
    )
    return chosen, _choice_info(name, reason, chosen, test_miou)


def _trained_models(candidates: dict[str, Any]) -> dict[str, SegmentationModel]:
    """The trained models among the node's inputs, by model name."""
    return {
        k.removesuffix("__model"): v
        for k, v in candidates.items()
        if k.endswith("__model") and v is not None
    }


def _choice_info(
    name: str, reason: str, chosen: SegmentationModel, test_miou: float | None
) -> dict[str, Any]:
    """``chosen_model_info``: the model, its version, why, and its scores."""
    return {
        "model": name,
        "version": chosen.version,
        "reason": reason,
        "validation_miou": chosen.training.get("val_miou"),
        "test_miou": test_miou,
        "split_hash": chosen.split_hash,
    }


def build_input_mosaic(
    tile_manifest: pd.DataFrame,
    band_stats: dict[str, Any],
    period: PeriodParams,
    inference: InferenceParams,
) -> MosaicSpec:
    """A mosaic of one year's model-input tiles, placed by their georeference.

    All years share one grid: the union of every tile of the manifest.

    Args:
        tile_manifest: The ingestion manifest (all splits: every tile is mapped).
        band_stats: The model input's bands (their names and number).
        period: This namespace's image date (``before`` or ``after``).
        inference: The ``inference`` parameters.

    Returns:
        The mosaic, saved by the catalog as a VRT and read back lazily.
    """
    p, year = inference, period.year
    bands = list(band_stats["bands"])
    mosaic = tile_mosaic(tile_manifest, "image_path", len(bands), p.image_nodata, bands, year)
    logger.info("Mosaic of %d tiles of %d, extent %s", len(mosaic.tiles), year, mosaic.extent)
    return mosaic


def predict_land_use(
    input_mosaic: RasterSource,
    chosen_model: SegmentationModel,
    chosen_model_info: dict[str, Any],
    inference: InferenceParams,
    land_use: LandUse,
    period: PeriodParams,
    compute: ComputeParams,
) -> tuple[RasterProducer, RasterProducer]:
    """Seamless land-use map of one year and its class probabilities.

    Windows are predicted with ``inference.context_margin`` pixels of context
    and written one batch at a time, on this process or on Dask (``compute``).

    Args:
        input_mosaic: The year's mosaic (read lazily).
        chosen_model: The model from :func:`select_model`.
        chosen_model_info: Its name, version and split (written as GeoTIFF tags).
        inference: The ``inference`` parameters.
        land_use: The ``land_use`` parameters.
        period: This namespace's image date.
        compute: The ``compute`` parameters (where the windows run).

    Returns:
        ``land_use_map`` (class codes of ``land_use.classes``, nodata, colour
        table) and ``land_use_probabilities`` (uint8 p x 254 per class, 255
        nodata), written by the catalog as COGs in one pass.
    """
    p, lu = inference, land_use
    tags = {
        "year": str(period.year),
        "model_version": str(chosen_model_info.get("version")),
        "split_hash": str(chosen_model_info.get("split_hash")),
    }
    return _class_map(p, lu, input_mosaic, chosen_model, None, tags, compute)


def _class_map(
    p: InferenceParams,
    lu: LandUse,
    source: RasterSource,
    model: SegmentationModel,
    band_indexes: list[int] | None,
    tags: dict[str, str],
    compute: ComputeParams,
) -> tuple[RasterProducer, RasterProducer]:
    return produce_class_map(
        source,
        model,
        settings_of(p, lu, source, model, band_indexes),
        compute,
        tags={**tags, "model": model.name},
    )


def plot_land_use(
    land_use_map: RasterSource,
    districts_raw: Any,
    inference: InferenceParams,
    land_use: LandUse,
    period: PeriodParams,
) -> Figure:
    """Quicklook of a yearly map with legend, scale bar and district outlines (if any)."""
    p, lu = inference, land_use
    return plot_class_raster(
        land_use_map,
        values=list(range(lu.n_classes)),
        labels=lu.classes,
        colours=lu.colour_list(),
        title=f"Land use {period.year}",
        districts=None if isinstance(districts_raw, MissingRawInput) else districts_raw,
        max_size=p.quicklook_max_size,
        nodata=lu.nodata,
    )


def predict_scene(
    scene: RasterSource,
    chosen_model: SegmentationModel,
    inference: InferenceParams,
    land_use: LandUse,
    compute: ComputeParams,
) -> tuple[RasterProducer, RasterProducer]:
    """Land-use map of any multi-band GeoTIFF scene (e.g. a Sentinel-2 mosaic).

    The scene's bands are matched to the model's by description, or by
    ``inference.scene.band_indexes``; values must be in the training units
    (reflectance x 10000). Memory stays bounded whatever the scene's size.

    Args:
        scene: The scene (read lazily by window).
        chosen_model: The model from :func:`select_model`.
        inference: The ``inference`` parameters.
        land_use: The ``land_use`` parameters.
        compute: The ``compute`` parameters (where the windows run).

    Returns:
        A lazy raster written by the catalog as a COG.
    """
    p, lu = inference, land_use
    logger.info("Scene %s: %d x %d px", scene.path, scene.grid.width, scene.grid.height)
    tags = {"source": scene.path}
    return _class_map(p, lu, scene, chosen_model, p.scene.band_indexes, tags, compute)
