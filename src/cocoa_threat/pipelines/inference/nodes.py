"""Nodes of the inference pipeline: yearly land-use maps from the trained model."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from typing import Any

import geopandas as gpd
import pandas as pd
from matplotlib.figure import Figure

from cocoa_threat.datasets.trained_models import TrainedModel
from cocoa_threat.geo.windows import RasterProducer, RasterSource, mosaic_vrt, union_bounds
from cocoa_threat.models.predictor import Predictor, load_predictor
from cocoa_threat.models.scene import SceneSettings, produce_class_map, resolve_band_indexes
from cocoa_threat.pipelines.inference.params import InferenceParams, inference_params
from cocoa_threat.reporting.maps import plot_class_raster

logger = logging.getLogger(__name__)


def select_model(
    trained_models: dict[str, TrainedModel],
    model_comparison: pd.DataFrame,
    inference: dict[str, Any],
) -> tuple[Predictor, dict[str, Any]]:
    """Load the model named by ``inference.model`` (``best``: highest validation mIoU).

    Args:
        trained_models: Every trained model found on disk.
        model_comparison: The training pipeline's test-split table (reported for
            the chosen model; as an input it also orders inference after
            training in a full run).
        inference: The ``inference`` parameters.

    Returns:
        The ready-to-use model and a summary of the choice (``chosen_model_info``).

    Raises:
        ValueError: If no model, or not the named one, has been trained.
    """
    p = inference_params(inference)
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
    }
    return predictor, info


def build_input_mosaic(tile_manifest: pd.DataFrame, year: int, inference: dict[str, Any]) -> str:
    """A VRT mosaic of one year's model-input tiles, placed by their georeference.

    All years share one grid: the union of every tile of the manifest.

    Args:
        tile_manifest: The ingestion manifest (all splits: every tile is mapped).
        year: The year of this namespace.
        inference: The ``inference`` parameters.

    Returns:
        VRT XML, saved by the catalog and read back lazily.
    """
    p = inference_params(inference)
    rows = tile_manifest[tile_manifest["year"] == year]
    if rows.empty:
        raise ValueError(
            f"The tile manifest has no tiles of {year}; check the year parameter of this "
            f"namespace (years in the manifest: {sorted(tile_manifest['year'].unique())})"
        )
    crs = tile_manifest["crs"].unique()
    if len(crs) != 1:
        raise ValueError(f"The tile manifest mixes CRSs {list(crs)}; re-run ingestion")
    extent = union_bounds(tile_manifest)
    tiles = [
        (r.image_path, float(r.minx), float(r.maxy), int(r.width), int(r.height))
        for r in rows.itertuples()
    ]
    from cocoa_threat.geo.raster import read_header

    first = read_header(tiles[0][0])
    logger.info("Mosaic of %d tiles of %d, extent %s", len(tiles), year, extent)
    return mosaic_vrt(
        tiles,
        extent,
        crs=str(crs[0]),
        pixel_size=p.pixel_size,
        count=first.count,
        dtype=first.dtype,
        nodata=p.image_nodata,
        band_names=None,
    )


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
    p: InferenceParams, source: RasterSource, predictor: Predictor, bands: list[int] | None
) -> SceneSettings:
    """Engine settings from the parameters."""
    return SceneSettings(
        band_indexes=resolve_band_indexes(source, predictor.bands, bands),
        image_nodata=p.image_nodata,
        window_size=p.window_size,
        context_margin=p.context_margin,
        batch_windows=p.batch_size,
        nodata=p.nodata,
        write_probabilities=p.write_probabilities,
        colormap=p.colormap(),
    )


def predict_land_use(
    input_mosaic: RasterSource,
    chosen_model: Predictor,
    inference: dict[str, Any],
    year: int,
) -> RasterProducer:
    """Seamless land-use map of one year (0 background, 1 mining, 2 cocoa, 255 nodata).

    Windows are predicted with ``inference.context_margin`` pixels of context
    and written one batch at a time, on this process or on Dask
    (``inference.dask``).

    Args:
        input_mosaic: The year's mosaic (read lazily).
        chosen_model: The model from :func:`select_model`.
        inference: The ``inference`` parameters.
        year: The year of this namespace.

    Returns:
        A lazy raster written by the catalog as a COG (plus class probabilities
        beside it when ``inference.write_probabilities``).
    """
    p = inference_params(inference)
    return _class_map(p, input_mosaic, chosen_model, None, {"year": str(year)})


def _class_map(
    p: InferenceParams,
    source: RasterSource,
    predictor: Predictor,
    band_indexes: list[int] | None,
    tags: dict[str, str],
) -> RasterProducer:
    return produce_class_map(
        source,
        predictor,
        scene_settings(p, source, predictor, band_indexes),
        client_factory=(lambda: _dask_client(p)) if p.dask.enabled else None,
        max_in_flight=p.dask.max_in_flight,
        tags={**tags, "model": predictor.name},
    )


def plot_land_use(
    land_use_map: RasterSource,
    districts_raw: gpd.GeoDataFrame,
    inference: dict[str, Any],
    year: int,
) -> Figure:
    """Quicklook of a yearly map with legend, scale bar and district outlines."""
    p = inference_params(inference)
    return plot_class_raster(
        land_use_map,
        values=list(range(len(p.classes))),
        labels=p.classes,
        colours=[p.colours[c] for c in p.classes],
        title=f"Land use {year}",
        districts=districts_raw,
        max_size=p.quicklook_max_size,
        nodata=p.nodata,
    )


def predict_scene(
    scene: RasterSource, chosen_model: Predictor, inference: dict[str, Any]
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
    p = inference_params(inference)
    logger.info("Scene %s: %d x %d px", scene.path, scene.grid.width, scene.grid.height)
    return _class_map(p, scene, chosen_model, p.scene.band_indexes, {"source": scene.path})
