"""Inference on the tiny region with the random forest, through the catalog."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import rasterio
from kedro.runner import SequentialRunner

from cocoa_threat.params.inference import InferenceParams
from cocoa_threat.pipelines.inference import create_pipeline
from cocoa_threat.pipelines.inference.nodes import select_model
from tests.conftest import ProjectConf


def test_inference_writes_seamless_yearly_cogs(trained_forest: ProjectConf) -> None:
    catalog = trained_forest.catalog_with_params()
    SequentialRunner().run(create_pipeline(), catalog)
    out = Path(trained_forest.root, "data/07_model_output")
    info = json.loads((out / "chosen_model.json").read_text())
    assert info["model"] == "random_forest"  # the only trained model is the best one
    grids = []
    for period in ("before", "after"):
        with rasterio.open(out / f"land_use_{period}.tif") as src:
            assert src.tags(ns="IMAGE_STRUCTURE").get("LAYOUT") == "COG"
            assert src.dtypes[0] == "uint8" and src.nodata == 255
            assert src.crs.to_epsg() == 32630 and src.res == (10.0, 10.0)
            assert src.colormap(1)[1][:3] == (215, 48, 31)  # mining colour from conf
            data = src.read(1)
            grids.append((src.transform, src.shape))
        assert set(np.unique(data)) <= {0, 1, 2, 255}
        assert (data != 255).mean() > 0.95
        assert (out / f"land_use_{period}_probabilities.tif").is_file()
        assert Path(
            trained_forest.root, f"data/08_reporting/figures/land_use_{period}.png"
        ).is_file()
    assert grids[0] == grids[1]
    # Mosaic by georeference: the map covers exactly the tiles' extent (4 x 32 - trims).
    assert grids[0][1] == (4 * 32 - 13, 4 * 32 - 10)


def _candidates(conf: ProjectConf, *names: str) -> dict:
    catalog = conf.catalog_with_params()
    out = {}
    for name in names:
        out[f"{name}__model"] = catalog.load(f"{name}.trained_model")
        out[f"{name}__metrics"] = catalog.load(f"{name}.metrics")
    return out


def _select(conf: ProjectConf, candidates: dict, **inference: object) -> tuple:
    catalog = conf.catalog_with_params()
    return select_model(
        catalog.load("tile_manifest"),
        InferenceParams.model_validate({**conf.params["inference"], **inference}),
        conf.typed("land_use"),
        **candidates,
    )


def test_untrained_model_is_a_clear_error(trained_forest: ProjectConf) -> None:
    # Only the forest was trained: the other models of training.models load as None.
    candidates = _candidates(trained_forest, "prithvi", "resnet50", "random_forest")
    assert candidates["prithvi__model"] is None and candidates["prithvi__metrics"] is None
    with pytest.raises(
        ValueError,
        match=r"'prithvi' but that model has not been trained.*--namespaces=training.prithvi",
    ):
        _select(trained_forest, candidates, model="prithvi")
    with pytest.raises(ValueError, match="No trained model found"):
        _select(trained_forest, {"prithvi__model": None, "prithvi__metrics": None})
    model, info = _select(trained_forest, candidates)
    assert info["model"] == "random_forest" and info["version"] == model.version
    assert info["test_miou"] == pytest.approx(
        candidates["random_forest__metrics"]["test"]["all"]["miou"]
    )


def test_changed_weights_are_refused_before_any_output(trained_forest: ProjectConf) -> None:
    from kedro.io import DatasetError

    folder = next(Path(trained_forest.root, "data/06_models/trained/random_forest").glob("*/*"))
    (folder / "forest.skops").write_bytes(b"truncated")
    with pytest.raises(
        DatasetError, match="changed since it was saved.*--namespaces=training.random_forest"
    ):
        trained_forest.catalog_with_params().load("random_forest.trained_model")
    with pytest.raises(Exception, match="changed since it was saved"):
        SequentialRunner().run(create_pipeline(), trained_forest.catalog_with_params())
    assert not Path(trained_forest.root, "data/07_model_output/land_use_before.tif").exists()


def test_model_trained_on_another_split_is_refused(trained_forest: ProjectConf) -> None:
    from cocoa_threat.pipelines.ingestion import create_pipeline as ingestion_pipeline

    candidates = _candidates(trained_forest, "random_forest")
    assert _select(trained_forest, candidates)[1]["split_hash"]  # the split it was trained on
    # Re-ingest with another split seed: the trained forest no longer fits the tiles.
    trained_forest.params["ingestion"]["split"]["seed"] = 7
    SequentialRunner().run(ingestion_pipeline(), trained_forest.catalog_with_params())
    with pytest.raises(
        ValueError, match=r"trained on split \w+ but the tiles are now split.*Retrain"
    ):
        _select(trained_forest, candidates)


def test_scene_inference_on_any_geotiff(trained_forest: ProjectConf) -> None:
    from cocoa_threat.geo.raster import Raster, write_raster
    from cocoa_threat.pipelines.inference import create_scene_pipeline

    catalog = trained_forest.catalog_with_params()
    # A 150 x 170 px scene of 8 bands whose descriptions name the model's 6 bands (shuffled).
    rng = np.random.default_rng(1)
    names = ["SWIR_2", "EXTRA", "BLUE", "GREEN", "RED", "NIR_NARROW", "SWIR_1", "DEM"]
    data = (2000 + 500 * rng.standard_normal((8, 150, 170))).astype(np.float32)
    from affine import Affine
    from rasterio.crs import CRS

    scene = Path(trained_forest.catalog["scene"]["filepath"])
    write_raster(
        scene,
        Raster(data, Affine(10, 0, 600000, 0, -10, 700000), CRS.from_epsg(32630), -9999.0, names),
    )
    SequentialRunner().run(create_scene_pipeline(), catalog)
    with rasterio.open(trained_forest.catalog["scene_land_use_map"]["filepath"]) as src:
        assert src.shape == (150, 170)
        assert src.tags(ns="IMAGE_STRUCTURE").get("LAYOUT") == "COG"
        assert set(np.unique(src.read(1))) <= {0, 1, 2}
