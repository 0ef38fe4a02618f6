"""Nodes of the inference pipeline: yearly land-use maps from the trained model."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from typing import Any

import pandas as pd
from matplotlib.figure import Figure

from cocoa_threat.datasets.raw import MissingRawInput
from cocoa_threat.datasets.trained_models import TrainedModel
from cocoa_threat.geo.cog import RasterProducer
from cocoa_threat.geo.grid import RasterSource
from cocoa_threat.geo.vrt import MosaicSpec, tile_mosaic
from cocoa_threat.models.predictor import Predictor, load_predictor
from cocoa_threat.models.scene import SceneSettings, produce_class_map, resolve_band_indexes
from cocoa_threat.params import LandUse, land_use_params
from cocoa_threat.pipelines.inference.params import InferenceParams, inference_params
from cocoa_threat.reporting.maps import plot_class_raster
from cocoa_threat.smallminesds.splits import split_fingerprint

logger = logging.getLogger(__name__)


def select_model(
    trained_models: dict[str, TrainedModel],
    model_comparison: pd.DataFrame,
    tile_manifest: pd.DataFrame,
    inference: dict[str, Any],
    land_use: dict[str, Any],
) -> tuple[Predictor, dict[str, Any]]:
    """Load the model named by ``inference.model`` (``best``: highest validation mIoU).

    The model must have been trained on the current split of the tiles (its
    build config records the split's hash) and for the current classes.

    Args:
        trained_models: Every trained model found on disk.
        model_comparison: The training pipeline's test-split table (reported for
            the chosen model; as an input it also orders inference after
            training in a full run).
        tile_manifest: The ingestion manifest (for the split's hash).
        inference: The ``inference`` parameters.
        land_use: The ``land_use`` parameters.

    Returns:
        The ready-to-use model and a summary of the choice (``chosen_model_info``).

    Raises:
        ValueError: If no model, or not the named one, has been trained, or it
            was trained on another split or for other classes.
    """
    p, lu = inference_params(inference), land_use_params(land_use)
    if not trained_models:
        raise ValueError(
            "No trained model found (data/06_models is empty): run "
            "`kedro run --pipeline=training` first"
        )
    if p.model == "best":
        scored = {
            n: m.validation_miou for n, m in trained_models.items() if m.validation_miou is not None
        }
        if not scored:
            raise ValueError(
                "inference.model is 'best' but no trained model has a validation mIoU; "
                "re-run `kedro run --pipeline=training` or name a model in inference.model"
            )
        name = max(scored, key=scored.__getitem__)
        reason = "highest validation mIoU among " + ", ".join(
            f"{n} {v:.3f}" for n, v in sorted(scored.items())
        )
    elif p.model not in trained_models:
        raise ValueError(
            f"inference.model is '{p.model}' but that model has not been trained "
            f"(trained: {sorted(trained_models)}); run `kedro run --pipeline=training "
            f"--namespaces={p.model}` or set inference.model to one of those"
        )
    else:
        name, reason = p.model, "named in inference.model"
    chosen = trained_models[name]
    check_model_matches(name, chosen.build_config, tile_manifest, lu.classes)
    try:
        weights = chosen.load_weights()
    except Exception as exc:
        raise ValueError(
            f"The weights of '{name}' at {chosen.weights_path} can't be loaded ({exc}); "
            f"re-run `kedro run --pipeline=training --namespaces={name}`"
        ) from exc
    predictor = load_predictor(name, chosen.build_config, weights, p.batch_size, p.device)
    test = model_comparison[
        (model_comparison["model"] == name) & (model_comparison["year"].astype(str) == "all")
    ]
    test_miou = float(test["miou"].iloc[0]) if len(test) else None
    logger.info(
        "Using model '%s' (version %s): %s; test mIoU %s",
        name,
        chosen.version,
        reason,
        "n/a" if test_miou is None else f"{test_miou:.3f}",
    )
    info = {
        "model": name,
        "version": chosen.version,
        "reason": reason,
        "validation_miou": chosen.validation_miou,
        "test_miou": test_miou,
        "weights_path": str(chosen.weights_path),
        "split_hash": chosen.build_config.get("split_hash"),
    }
    return predictor, info


def check_model_matches(
    name: str, build_config: dict[str, Any], tile_manifest: pd.DataFrame, classes: list[str]
) -> None:
    """Refuse a model trained on another split of the tiles or for other classes.

    Raises:
        ValueError: Naming both splits (or class lists) and what to re-run.
    """
    current = split_fingerprint(tile_manifest)
    trained = build_config.get("split_hash")
    if trained != current:
        raise ValueError(
            f"Model '{name}' was trained on split {trained or 'unknown (an older model)'} but "
            f"the tiles are now split as {current} (tile_manifest): its test scores and maps "
            f"would mix tiles it has seen. Retrain it (`kedro run --pipeline=training "
            f"--namespaces={name}`) or re-run ingestion with the split it was trained on."
        )
    if list(build_config.get("class_names", [])) != list(classes):
        raise ValueError(
            f"Model '{name}' predicts {build_config.get('class_names')} but land_use.classes is "
            f"{classes}; retrain it (`kedro run --pipeline=training --namespaces={name}`)"
        )


def build_input_mosaic(
    tile_manifest: pd.DataFrame, band_stats: dict[str, Any], year: int, inference: dict[str, Any]
) -> MosaicSpec:
    """A mosaic of one year's model-input tiles, placed by their georeference.

    All years share one grid: the union of every tile of the manifest.

    Args:
        tile_manifest: The ingestion manifest (all splits: every tile is mapped).
        band_stats: The model input's bands (their names and number).
        year: The year of this namespace.
        inference: The ``inference`` parameters.

    Returns:
        The mosaic, saved by the catalog as a VRT and read back lazily.
    """
    p = inference_params(inference)
    bands = list(band_stats["bands"])
    mosaic = tile_mosaic(tile_manifest, "image_path", len(bands), p.image_nodata, bands, year)
    logger.info("Mosaic of %d tiles of %d, extent %s", len(mosaic.tiles), year, mosaic.extent)
    return mosaic


@contextlib.contextmanager
def _dask_client(p: InferenceParams) -> Iterator[Any]:
    from distributed import Client, LocalCluster

    if p.dask.scheduler_address:
        with Client(p.dask.scheduler_address) as client:
            yield client
        return
    with (
        LocalCluster(
            n_workers=p.dask.n_workers,
            threads_per_worker=p.dask.threads_per_worker,
            processes=True,
            dashboard_address=None,
        ) as cluster,
        Client(cluster) as client,
    ):
        yield client


def scene_settings(
    p: InferenceParams,
    lu: LandUse,
    source: RasterSource,
    predictor: Predictor,
    bands: list[int] | None,
) -> SceneSettings:
    """Engine settings from the parameters."""
    return SceneSettings(
        band_indexes=resolve_band_indexes(source, predictor.bands, bands),
        image_nodata=p.image_nodata,
        window_size=p.window_size,
        context_margin=p.context_margin,
        batch_windows=p.batch_size,
        nodata=lu.nodata,
        write_probabilities=p.write_probabilities,
        colormap=lu.colormap(),
    )


def predict_land_use(
    input_mosaic: RasterSource,
    chosen_model: Predictor,
    chosen_model_info: dict[str, Any],
    inference: dict[str, Any],
    land_use: dict[str, Any],
    year: int,
) -> RasterProducer:
    """Seamless land-use map of one year (0 background, 1 mining, 2 cocoa, 255 nodata).

    Windows are predicted with ``inference.context_margin`` pixels of context
    and written one batch at a time, on this process or on Dask
    (``inference.dask``).

    Args:
        input_mosaic: The year's mosaic (read lazily).
        chosen_model: The model from :func:`select_model`.
        chosen_model_info: Its name, version and split (written as GeoTIFF tags).
        inference: The ``inference`` parameters.
        land_use: The ``land_use`` parameters.
        year: The year of this namespace.

    Returns:
        A lazy raster written by the catalog as a COG (plus class probabilities
        beside it when ``inference.write_probabilities``).
    """
    p, lu = inference_params(inference), land_use_params(land_use)
    tags = {
        "year": str(year),
        "model_version": str(chosen_model_info.get("version")),
        "split_hash": str(chosen_model_info.get("split_hash")),
    }
    return _class_map(p, lu, input_mosaic, chosen_model, None, tags)


def _class_map(
    p: InferenceParams,
    lu: LandUse,
    source: RasterSource,
    predictor: Predictor,
    band_indexes: list[int] | None,
    tags: dict[str, str],
) -> RasterProducer:
    return produce_class_map(
        source,
        predictor,
        scene_settings(p, lu, source, predictor, band_indexes),
        client_factory=(lambda: _dask_client(p)) if p.dask.enabled else None,
        max_in_flight=p.dask.max_in_flight,
        tags={**tags, "model": predictor.name},
    )


def plot_land_use(
    land_use_map: RasterSource,
    districts_raw: Any,
    inference: dict[str, Any],
    land_use: dict[str, Any],
    year: int,
) -> Figure:
    """Quicklook of a yearly map with legend, scale bar and district outlines (if any)."""
    p, lu = inference_params(inference), land_use_params(land_use)
    return plot_class_raster(
        land_use_map,
        values=list(range(lu.n_classes)),
        labels=lu.classes,
        colours=lu.colour_list(),
        title=f"Land use {year}",
        districts=None if isinstance(districts_raw, MissingRawInput) else districts_raw,
        max_size=p.quicklook_max_size,
        nodata=lu.nodata,
    )


def predict_scene(
    scene: RasterSource,
    chosen_model: Predictor,
    inference: dict[str, Any],
    land_use: dict[str, Any],
) -> RasterProducer:
    """Land-use map of any multi-band GeoTIFF scene (e.g. a Sentinel-2 mosaic).

    The scene's bands are matched to the model's by description, or by
    ``inference.scene.band_indexes``; values must be in the training units
    (reflectance x 10000). Memory stays bounded whatever the scene's size.

    Args:
        scene: The scene (read lazily by window).
        chosen_model: The model from :func:`select_model`.
        inference: The ``inference`` parameters.

    Returns:
        A lazy raster written by the catalog as a COG.
    """
    p, lu = inference_params(inference), land_use_params(land_use)
    logger.info("Scene %s: %d x %d px", scene.path, scene.grid.width, scene.grid.height)
    return _class_map(p, lu, scene, chosen_model, p.scene.band_indexes, {"source": scene.path})
