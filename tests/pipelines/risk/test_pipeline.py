"""The risk pipeline on the tiny region, and its bad inputs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import rasterio
from kedro.runner import SequentialRunner

from cocoa_threat.errors import ParameterError
from cocoa_threat.params.compute import ComputeParams
from cocoa_threat.params.risk import RiskParams
from cocoa_threat.pipelines.mercury import create_pipeline as mercury_pipeline
from cocoa_threat.pipelines.risk import create_pipeline
from tests.conftest import ProjectConf

LOCAL = ComputeParams.model_validate({})  # every window in this process


def test_risk_outputs(transitioned: ProjectConf) -> None:
    SequentialRunner().run(mercury_pipeline(), transitioned.catalog_with_params())
    catalog = transitioned.catalog_with_params()
    SequentialRunner().run(create_pipeline(), catalog)

    risk = catalog.load("risk_map")
    land = catalog.load("after.land_use_map")
    with rasterio.open(risk.path) as src:
        classes = src.read(1)
        assert src.tags(ns="IMAGE_STRUCTURE").get("LAYOUT") == "COG"
        assert src.colormap(1)[3][:3] == (189, 0, 38)
    with rasterio.open(catalog.load("risk_score").path) as src:
        score = src.read(1)
    with rasterio.open(catalog.load("risk_factors").path) as src:
        assert src.count == 4 and src.descriptions == (
            "proximity",
            "pressure",
            "mercury",
            "downstream",
        )
        factors = src.read()
    assert factors.min() >= 0 and factors.max() <= 1
    with rasterio.open(land.path) as src:
        cocoa = src.read(1) == 2
    assert ((classes != 255) == cocoa).all()  # every cocoa pixel, and only cocoa, is scored
    assert score[cocoa].min() >= 0 and score[cocoa].max() <= 1
    assert (score[~cocoa] == -1).all()

    by_district = catalog.load("risk_by_district")
    total = by_district[by_district["district"] == "all districts"]
    assert list(total["risk_class"]) == ["low", "moderate", "high", "very high"]
    sens = catalog.load("risk_sensitivity")
    assert len(sens) == 27 and sens["scenario"].iloc[0] == "baseline"
    assert set(sens["group"]) == {"baseline", "weight", "class break", "distance"}
    labels = transitioned.params["risk"]["class_labels"]
    class_cols = [f"{c}_ha" for c in labels]
    # Every scenario classes the same cocoa: the total is the same, the split moves.
    assert np.allclose(sens[class_cols].sum(axis=1), sens[class_cols].sum(axis=1).iloc[0])
    assert (sens.loc[sens["group"] != "baseline", "upper_classes_change_ha"] != 0).any()
    assert Path(transitioned.root, "data/08_reporting/figures/risk_sensitivity.png").is_file()
    assert Path(transitioned.root, "data/08_reporting/figures/risk_map.png").is_file()


def test_weights_must_sum_to_one(project_conf: ProjectConf) -> None:
    params = dict(project_conf.params["risk"])
    params["weights"] = {"proximity": 0.5, "pressure": 0.25, "mercury": 0.2, "downstream": 0.2}
    with pytest.raises(
        ParameterError, match=r"risk: risk.weights must sum to 1, they sum to 1.1500"
    ):
        RiskParams.model_validate(params)


def test_rasters_on_different_grids_fail(transitioned: ProjectConf, tmp_path: Path) -> None:
    from cocoa_threat.geo.grid import RasterSource
    from cocoa_threat.pipelines.risk.nodes import compute_risk_factors
    from tests.conftest import write_tile

    catalog = transitioned.catalog_with_params()
    land = catalog.load("after.land_use_map")
    other = RasterSource.open(
        write_tile(tmp_path / "hg.tif", np.ones((1, 10, 10), np.float32), nodata=None)
    )
    with pytest.raises(ValueError, match="mercury surface.*different grids"):
        compute_risk_factors(
            land,
            land,
            other,
            other,
            transitioned.typed("risk"),
            transitioned.typed("land_use"),
            LOCAL,
        )


def test_risk_map_does_not_depend_on_the_window_size(
    transitioned: ProjectConf, tmp_path: Path
) -> None:
    from cocoa_threat.geo.cog import write_cog
    from cocoa_threat.geo.grid import RasterSource
    from cocoa_threat.pipelines.risk.nodes import compute_risk_factors, make_risk_score

    SequentialRunner().run(mercury_pipeline(), transitioned.catalog_with_params())
    SequentialRunner().run(
        create_pipeline().only_nodes("build_dem_mosaic", "condition_dem"),
        transitioned.catalog_with_params(),
    )
    catalog = transitioned.catalog_with_params()
    inputs = [
        catalog.load(n)
        for n in ("before.land_use_map", "after.land_use_map", "mercury_surface", "dem_conditioned")
    ]
    outputs = []
    for block in (64, 1024):  # 64 px windows with a halo vs one window for the whole map
        params = RiskParams.model_validate({**transitioned.params["risk"], "block_size": block})
        factors_path, score_path = (
            tmp_path / f"factors_{block}.tif",
            tmp_path / f"score_{block}.tif",
        )
        land_use = transitioned.typed("land_use")
        write_cog(
            factors_path, compute_risk_factors(*inputs, params, land_use, LOCAL), overview_levels=[]
        )
        factors = RasterSource.open(factors_path)
        write_cog(
            score_path,
            make_risk_score(factors, inputs[1], params, land_use, LOCAL),
            overview_levels=[],
        )
        with rasterio.open(factors_path) as f, rasterio.open(score_path) as src:
            outputs.append((f.read(), src.read(1)))
    np.testing.assert_array_equal(outputs[0][0], outputs[1][0])
    np.testing.assert_array_equal(outputs[0][1], outputs[1][1])


def test_a_factor_that_is_not_finite_stops_the_score_naming_it(transitioned: ProjectConf) -> None:
    from kedro.io import DatasetError

    from cocoa_threat.errors import NonFiniteError
    from cocoa_threat.geo.compute import WindowError

    SequentialRunner().run(mercury_pipeline(), transitioned.catalog_with_params())
    catalog = transitioned.catalog_with_params()
    SequentialRunner().run(
        create_pipeline().only_nodes("build_dem_mosaic", "condition_dem", "compute_risk_factors"),
        catalog,
    )
    path = catalog.load("risk_factors").path
    # A corrupted factor raster: NaN in the mercury band.
    with rasterio.open(path, "r+", IGNORE_COG_LAYOUT_BREAK="YES") as dst:
        band = dst.read(3)
        band[:, :] = np.nan
        dst.write(band, 3)
    for node in ("make_risk_score", "risk_by_district"):
        # The score is computed while the catalog writes it (a DatasetError then).
        with pytest.raises(
            (NonFiniteError, DatasetError, WindowError),
            match=r"factor\(s\) \['mercury'\].*mercury_surface",
        ):
            SequentialRunner().run(create_pipeline().only_nodes(node), catalog)
    assert not Path(transitioned.root, "data/07_model_output/risk_score.tif").exists()


def test_the_dem_is_conditioned_once_and_drains(transitioned: ProjectConf) -> None:
    from cocoa_threat.analysis.flow import count_undrained
    from cocoa_threat.pipelines.risk.nodes import condition_dem

    SequentialRunner().run(
        create_pipeline().only_nodes("build_dem_mosaic", "condition_dem"),
        transitioned.catalog_with_params(),
    )
    catalog = transitioned.catalog_with_params()
    mosaic, conditioned = catalog.load("dem_mosaic"), catalog.load("dem_conditioned")
    xml = Path(mosaic.path).read_text()
    assert 'ComplexSource resampling="bilinear"' in xml  # elevation: continuous
    assert conditioned.grid.same_as(mosaic.grid) and conditioned.dtype == "float64"
    assert conditioned.band_names == ("elevation, conditioned",)
    tags = conditioned.tags
    assert int(tags["undrained_cells_before"]) > 10 and tags["undrained_cells_after"] == "0"
    z = conditioned.read(bands=[1])[0]
    raw = mosaic.read(bands=[1])[0].astype(np.float64)
    nodata = transitioned.params["risk"]["dem_nodata"]
    assert ((z == nodata) == (raw == nodata)).all()
    z[z == nodata] = np.nan
    assert count_undrained(z, 10.0) == 0 and (z[np.isfinite(z)] >= raw[np.isfinite(z)]).all()
    # Switched off, the DEM is written as it is.
    params = {**transitioned.params["risk"]}
    params["downstream"] = {**params["downstream"], "condition_dem": False}
    off = condition_dem(mosaic, RiskParams.model_validate(params))
    assert off.tags["undrained_cells_after"] == tags["undrained_cells_before"]
    written = np.empty_like(raw)
    for window, block in off.blocks():
        written[window.toslices()] = block[0]
    np.testing.assert_array_equal(written, raw)
