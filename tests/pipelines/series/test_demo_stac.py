"""The demo path of the series: the demo's raw tiles as a local STAC catalog, composites
from it by the imagery pipeline, and maps of them by the series pipeline.

The composites must give back the tiles' reflectance (rounded to digital numbers),
and the series' maps the inference pipeline's maps of the same tiles. Also the
command line: `kedro run --env=series_demo` of demo_stac, imagery and series.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import rasterio
from kedro.runner import SequentialRunner
from rasterio.windows import from_bounds

from cocoa_threat.geo.raster import read_raster
from cocoa_threat.pipelines import demo_stac, imagery, inference, series
from tests.conftest import ProjectConf
from tests.pipelines.shared import clone
from tests.project.cli import kedro, project_copy


def _series_demo(conf: ProjectConf) -> None:
    """Parameters as conf/series_demo sets them."""
    stac = conf.root / "data" / "01_raw" / "demo_stac" / "stac" / "catalog.json"
    conf.params["imagery"].update(
        {"catalog_url": str(stac), "years": [2016, 2022], "progress": False}
    )
    conf.params["imagery"]["output"].update({"window_size": 64, "threads": 1})
    conf.params["series"]["years"] = [2016, 2022]


def _agreement(made: Path, study: Path) -> float:
    """Share of the study map's classed pixels that the other map classes alike."""
    with rasterio.open(made) as a, rasterio.open(study) as b:
        window = from_bounds(*b.bounds, transform=a.transform).round_offsets().round_lengths()
        x = a.read(1, window=window, boundless=True, fill_value=255)
        y = b.read(1)
    classed = y != 255
    return float((x[classed] == y[classed]).mean())


def test_the_demo_through_stac_imagery_and_series(mapped: ProjectConf) -> None:
    conf = mapped
    _series_demo(conf)
    catalog = conf.catalog_with_params()
    SequentialRunner().run(demo_stac.create_pipeline(), catalog)
    stac = json.loads((conf.root / "data/01_raw/demo_stac/stac/catalog.json").read_text())
    assert {link["rel"] for link in stac["links"]} >= {"child", "root"}
    SequentialRunner().run(imagery.create_pipeline(), catalog)
    summary = catalog.load("imagery_summary")
    assert summary["scenes_used"].tolist() == [16, 16]  # 4 x 4 tiles a year, all clear
    # A composite holds the tile's reflectance, rounded (one clear scene per pixel).
    tiles = conf.root / "data/01_raw/demo/tiles/2016/IMAGE"
    tile = sorted(tiles.glob("*.tif"))[5]
    composite = conf.root / "data/03_primary/imagery/composite_2016.tif"
    with rasterio.open(tile) as t, rasterio.open(composite) as c:
        raw = t.read(1)  # B2 (BLUE)
        window = from_bounds(*t.bounds, transform=c.transform).round_offsets().round_lengths()
        got = c.read(1, window=window)
    valid = raw != -9999
    np.testing.assert_allclose(got[valid], np.clip(np.rint(raw[valid]), 1, None))

    SequentialRunner().run(inference.select_pipeline() + series.create_pipeline(), catalog)
    out = conf.root / "data"
    for year, period in ((2016, "before"), (2022, "after")):
        made = out / "07_model_output" / "series" / f"land_use_{year}.tif"
        study = out / "07_model_output" / f"land_use_{period}.tif"
        assert _agreement(made, study) > 0.97, year
    lost = pd.read_csv(out / "08_reporting" / "series_cocoa_lost.csv")
    assert lost["interval"].unique().tolist() == ["2016-2022"]
    assert lost["cocoa_to_mining_ha"].sum() > 0
    assert read_raster(out / "07_model_output" / "series_change" / "change_2016_2022.tif")


@pytest.mark.slow
def test_kedro_run_of_the_series_demo_environment(mapped: ProjectConf, tmp_path: Path) -> None:
    root = project_copy(tmp_path / "project")
    clone(mapped, root)  # the demo region ingested, a model trained (a user's earlier runs)
    params = ["--params", "ingestion.split.strata.n_strata=1,imagery.output.threads=1"]
    for name in ("demo_stac", "imagery", "series"):
        result = kedro(root, "run", "--env=series_demo", f"--pipeline={name}", *params, timeout=300)
        assert result.returncode == 0, (name, (result.stdout + result.stderr)[-3000:])
    areas = pd.read_csv(root / "data/08_reporting/series_by_district.csv")
    assert sorted(areas["year"].unique()) == [2016, 2022]
    assert set(areas["area_source"]) == {"map area (not adjusted)"}
    assert (root / "data/08_reporting/figures/series_by_district.png").is_file()
