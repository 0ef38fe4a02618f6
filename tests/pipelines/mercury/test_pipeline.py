"""The mercury pipeline on the tiny region's demo survey, and its bad inputs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import rasterio
from kedro.runner import SequentialRunner

from cocoa_threat.params.compute import ComputeParams
from cocoa_threat.params.mercury import MercuryParams
from cocoa_threat.pipelines.mercury import create_pipeline
from cocoa_threat.pipelines.mercury.nodes import validate_survey
from tests.conftest import ProjectConf


def test_mercury_outputs(transitioned: ProjectConf) -> None:
    catalog = transitioned.catalog_with_params()
    SequentialRunner().run(create_pipeline(), catalog)

    report = catalog.load("mercury_validation_report").set_index("issue")
    # The demo survey plants 3 missing, 2 negative, 3 outside and 3 duplicate rows.
    assert report.loc["negative value", "n_rows"] == 2
    assert report.loc["outside the mapped region", "n_rows"] == 3
    assert report.loc["duplicate of an earlier row", "n_rows"] == 3
    cv = catalog.load("mercury_interpolation_cv")
    assert set(cv["method"]) == {"idw", "background_kriging"}
    assert set(cv["scheme"]) == {"leave-one-out", "spatial blocks 400 m"}
    blocks = cv[cv["scheme"] != "leave-one-out"]
    chosen = blocks[blocks["chosen"]]
    assert len(chosen) == 1 and chosen["rmse"].iloc[0] == blocks["rmse"].min()  # block CV chooses
    assert (blocks["n_folds"] > 2).all()

    surface = catalog.load("mercury_surface")
    land = catalog.load("after.land_use_map")
    assert surface.grid.same_as(land.grid)
    with rasterio.open(surface.path) as src:
        mean, median = src.read(1), src.read(2)
        method = chosen["method"].iloc[0]
        assert src.descriptions[1] == "gem_median_ng_m3 = exp(mu)"
        assert src.descriptions[0].startswith("gem_mean_ng_m3 = exp(mu + var / 2), var = ")
        nugget = "the kriging variance plus the nugget"
        assert (nugget in src.descriptions[0]) == (method != "idw")
        assert float(src.tags()["block_cv_bias_log"]) == pytest.approx(
            chosen["bias"].iloc[0], abs=1e-4
        )
        assert src.tags(ns="IMAGE_STRUCTURE").get("LAYOUT") == "COG"
    covered = np.isfinite(mean)
    assert covered.any() and (np.isfinite(median) == covered).all()
    # Log-normal: the arithmetic mean exceeds the median everywhere.
    assert (mean[covered] > median[covered]).all() and median[covered].min() > 0

    exposure = catalog.load("mercury_exposure_by_district")
    total = exposure[exposure["district"] == "all districts"]
    assert len(total) == len(transitioned.params["mercury"]["class_labels"]) + 1
    assert total["concentration_class"].iloc[-1].startswith("not covered (> 1500 m")
    assert total["percent_of_district_cocoa"].sum() == pytest.approx(100)
    # Beside the areas: the chosen surface's spatial-block CV bias (log) and its factor.
    assert (exposure["interpolation_method"] == method).all()
    assert (exposure["block_cv_bias_log"] == chosen["bias"].iloc[0]).all()
    np.testing.assert_allclose(exposure["block_cv_bias_factor"], np.exp(chosen["bias"].iloc[0]))
    areas = catalog.load("map_class_areas")
    cocoa_ha = areas[(areas["period"] == "after") & (areas["class"] == "cocoa")]["hectares"].iloc[0]
    inside = exposure[~exposure["district"].isin(["all districts"])]["cocoa_ha"].sum()
    assert inside == pytest.approx(cocoa_ha)
    decay = catalog.load("mercury_distance_decay")
    assert decay["decay_length_m"].iloc[0] > 0


def _params(conf: ProjectConf) -> MercuryParams:
    return conf.typed("mercury")


def test_file_without_usable_rows_names_the_lines(mapped: ProjectConf) -> None:
    land = mapped.catalog_with_params().load("after.land_use_map")
    bad = pd.DataFrame(
        {
            "longitude": [-1.95, -1.95, 10.0],
            "latitude": [6.45, 6.45, 0.0],
            "concentration_ng_m3": [-1, None, 5],
        }
    )
    with pytest.raises(
        ValueError, match=r"0 usable reading\(s\) of 3 row\(s\).*negative value: lines 2.*outside"
    ):
        validate_survey(bad, land, _params(mapped))


def test_unknown_crs_and_missing_columns(mapped: ProjectConf) -> None:
    land = mapped.catalog_with_params().load("after.land_use_map")
    table = pd.DataFrame({"longitude": [-1.95], "latitude": [6.45], "concentration_ng_m3": [5.0]})
    raw = mapped.params["mercury"]
    params = MercuryParams.model_validate(
        {**raw, "survey": {**raw["survey"], "crs": "EPSG:999999"}}
    )
    with pytest.raises(ValueError, match="mercury.survey.crs 'EPSG:999999' is not a known CRS"):
        validate_survey(table, land, params)
    with pytest.raises(ValueError, match=r"no column\(s\) \['concentration_ng_m3'\]"):
        validate_survey(table.drop(columns="concentration_ng_m3"), land, _params(mapped))


def test_ordinary_kriging_is_an_option(transitioned: ProjectConf) -> None:
    import copy

    from cocoa_threat.pipelines.mercury.nodes import interpolate_surface
    from tests.conftest import run_nodes

    catalog = run_nodes(transitioned, create_pipeline(), "validate_survey")
    raw = copy.deepcopy(transitioned.params["mercury"])
    raw["interpolation"]["methods"] = ["background_kriging", "ordinary_kriging"]
    params = MercuryParams.model_validate(raw)
    points, land = catalog.load("mercury_points"), catalog.load("after.land_use_map")
    producer, cv = interpolate_surface(points, land, params, ComputeParams.model_validate({}))
    assert set(cv["method"]) == {"background_kriging", "ordinary_kriging"}
    ok = cv[(cv["method"] == "ordinary_kriging") & (cv["scheme"] != "leave-one-out")]
    assert np.isfinite(ok[["rmse", "bias"]].to_numpy()).all() and ok["n_folds"].iloc[0] > 2
    assert producer.tags["method"] in {"background_kriging", "ordinary_kriging"}
    assert "nugget" in producer.band_names[0]
