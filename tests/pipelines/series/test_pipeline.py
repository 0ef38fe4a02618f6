"""The series pipeline on composites whose answer is known.

The composites are the tiny region's model-input mosaics of 2016 and 2022 (the
inputs of the inference pipeline's maps), and copies of them as 2019 (= 2016)
and 2025 (= 2022): the series' maps must equal the inference pipeline's maps,
the intervals 2016-2019 and 2022-2025 must show no change, and 2019-2022 and
2016-2025 the transition pipeline's own change, district by district.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import rasterio
import rasterio.shutil
from kedro.runner import SequentialRunner

from cocoa_threat.geo.raster import read_raster
from cocoa_threat.pipelines import inference, series
from tests.conftest import ProjectConf

AS = {2016: "before", 2019: "before", 2022: "after", 2025: "after"}


def _composites(conf: ProjectConf) -> Path:
    """composite_<year>.tif of every year of AS, where the imagery pipeline writes them."""
    folder = Path(conf.catalog["imagery_composites"]["path"])
    folder.mkdir(parents=True, exist_ok=True)
    for year, period in AS.items():
        vrt = conf.root / "data" / "04_feature" / f"input_mosaic_{period}.vrt"
        rasterio.shutil.copy(vrt, folder / f"composite_{year}.tif", driver="GTiff")
    return folder


def _run(conf: ProjectConf, years: list[int]) -> None:
    conf.params["imagery"]["years"] = years
    conf.params["series"]["years"] = years
    pipeline = inference.select_pipeline() + series.create_pipeline()
    SequentialRunner().run(pipeline, conf.catalog_with_params())


def test_a_series_of_four_years_against_the_two_year_study(transitioned: ProjectConf) -> None:
    conf = transitioned
    _composites(conf)
    _run(conf, list(AS))
    out = conf.root / "data"
    for year, period in AS.items():
        made = read_raster(out / "07_model_output" / "series" / f"land_use_{year}.tif")
        study = read_raster(out / "07_model_output" / f"land_use_{period}.tif")
        np.testing.assert_array_equal(made.data, study.data)
    changes = sorted(p.name for p in (out / "07_model_output" / "series_change").glob("*.tif"))
    assert changes == [f"change_{a}_{b}.tif" for a, b in
                       ((2016, 2019), (2016, 2025), (2019, 2022), (2022, 2025))]  # fmt: skip

    lost = pd.read_csv(out / "08_reporting" / "series_cocoa_lost.csv")
    assert set(lost["area_source"]) == {"map area (not adjusted)"}
    assert lost["interval"].drop_duplicates().tolist() == [
        "2016-2019", "2019-2022", "2022-2025", "2016-2025"
    ]  # fmt: skip
    assert lost.groupby("interval")["consecutive"].first().to_dict() == {
        "2016-2019": True, "2019-2022": True, "2022-2025": True, "2016-2025": False
    }  # fmt: skip
    # No change where the year is a copy; the study's change where it is not.
    by = lost.set_index(["interval", "district"])["cocoa_to_mining_ha"]
    assert (by.loc["2016-2019"] == 0).all() and (by.loc["2022-2025"] == 0).all()
    study = pd.read_csv(out / "08_reporting" / "transition_by_district.csv")
    conv = study[(study["from_class"] == "cocoa") & (study["to_class"] == "mining")]
    truth = conv.set_index("district")["hectares"]
    assert truth.sum() > 0  # the tiny region has some conversion: the test can fail
    for interval in ("2019-2022", "2016-2025"):
        pd.testing.assert_series_equal(
            by.loc[interval].reindex(truth.index).fillna(0.0), truth, check_names=False
        )

    # Per year: every zone's class areas add up to the map's (all pixels with a class).
    areas = pd.read_csv(out / "08_reporting" / "series_by_district.csv")
    assert {"district", "year", "mining_ha", "cocoa_ha", "area_source"} <= set(areas.columns)
    assert sorted(areas["year"].unique()) == list(AS)
    mapped = pd.read_csv(out / "08_reporting" / "map_class_areas.csv")
    for year, period in AS.items():
        for c in ("mining", "cocoa"):
            want = mapped[(mapped["period"] == period) & (mapped["class"] == c)]["hectares"]
            got = areas[areas["year"] == year][f"{c}_ha"].sum()
            assert got == pytest.approx(float(want.iloc[0]))
    assert (out / "08_reporting" / "figures" / "series_by_district.png").stat().st_size > 10_000
    matrix = pd.read_csv(out / "08_reporting" / "series_transition_matrix.csv")
    assert len(matrix) == 4 * 3

    # The map: a switch of years over the pictures, the intervals, the districts.
    page = (out / "08_reporting" / "series_map.html").read_text()
    config = json.loads(re.search(r'id="map-config">(.*?)</script>', page, re.S)[1])
    layers = {c["name"]: c for c in config["layers"]}
    assert [n for n in layers if n.startswith("Imagery")] == [f"Imagery {y}" for y in AS]
    assert [n for n, c in layers.items() if c["visible"]] == [
        "Imagery 2025", "Change 2016-2025", "Districts"
    ]  # fmt: skip
    assert all(layers[f"Imagery {y}"]["below"] for y in AS)
    assert {layers[f"Land use {y}"]["group"] for y in AS} == {"classes"}
    assert "Change 2019-2022" in layers


def test_a_year_without_composite_says_to_run_imagery(transitioned: ProjectConf) -> None:
    conf = transitioned
    _composites(conf)
    with pytest.raises(Exception, match=r"No composite of \[2020\].*--pipeline=imagery"):
        _run(conf, [2016, 2020])
