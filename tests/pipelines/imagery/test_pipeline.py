"""The imagery pipeline through the catalog, on a local static catalog of two Januaries.

Also `kedro run --pipeline=imagery` in a copy of the project: Kedro builds the
typed parameters, the parameter check knows the block, and the default run
stays without it.
"""

from __future__ import annotations

import shutil
from datetime import datetime
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import rasterio
from kedro.runner import SequentialRunner
from shapely.geometry import box

from cocoa_threat.geo.grid import RasterSource
from cocoa_threat.models.scene import resolve_band_indexes
from cocoa_threat.pipelines.imagery import create_pipeline
from tests.conftest import ProjectConf, load_project_conf
from tests.imagery.synthetic_stac import AREA, CRS, lonlat_bounds, make_scene, write_catalog
from tests.project.cli import kedro, project_copy

BANDS = ["BLUE", "GREEN", "RED", "NIR_NARROW", "SWIR_1", "SWIR_2"]


def _catalog(root: Path) -> Path:
    """Two scenes a year; 2016's are both cloudy over the area's west quarter."""
    rng = np.random.default_rng(3)
    old = {"s2:processing_baseline": "02.01"}
    scenes = [
        make_scene(rng, "S2A_2016_01_08", datetime(2016, 1, 8, 10, 30), properties=old),
        make_scene(rng, "S2A_2016_01_28", datetime(2016, 1, 28, 10, 30), properties=old),
        make_scene(rng, "S2A_2022_01_05", datetime(2022, 1, 5, 10, 30), properties={"s2:processing_baseline": "03.01"}),
        make_scene(rng, "S2B_2022_01_30", datetime(2022, 1, 30, 10, 30), dn_offset=1000,
                   raster_offset=-0.1, properties={"s2:processing_baseline": "04.00"}),
    ]  # fmt: skip
    for scene in scenes[:2]:
        scene.scl[:, :10] = 8
    return write_catalog(root, scenes)


def _districts(path: Path) -> Path:
    """One district over the test area, in lon/lat."""
    shape = box(*lonlat_bounds(CRS, AREA))
    gpd.GeoDataFrame({"district": ["Amansie West"]}, geometry=[shape], crs="EPSG:4326").to_file(
        path
    )
    return path


def _conf(root: Path) -> ProjectConf:
    conf = load_project_conf(root)
    catalog = _catalog(root / "stac")
    conf.point_raw("districts_raw", _districts(root / "districts.gpkg"))
    conf.params["imagery"].update(
        {
            "catalog_url": str(catalog),
            "years": [2016, 2022],
            "progress": False,
            "search": {"retries": 0},
        }
    )
    conf.params["imagery"]["output"].update({"window_size": 32, "threads": 1})
    conf.params["imagery"]["cache"]["local_assets"] = "cache"
    return conf


def _run(conf: ProjectConf) -> None:
    SequentialRunner().run(create_pipeline(), conf.catalog_with_params())


def test_composites_of_two_years_through_the_catalog(tmp_path: Path) -> None:
    conf = _conf(tmp_path)
    _run(conf)
    catalog = conf.catalog_with_params()
    scenes = catalog.load("imagery_scenes")
    assert scenes.groupby("year").size().to_dict() == {2016: 2, 2022: 2}
    new = scenes.set_index("id").loc["S2B_2022_01_30"]
    assert new["dn_offset_red"] == -1000 and new["offset_from"] == "raster:bands"
    composites = catalog.load("imagery_composites")
    assert sorted(composites) == ["composite_2016", "composite_2022"]
    summary = catalog.load("imagery_summary").set_index("year")
    for year in (2016, 2022):
        source = composites[f"composite_{year}"]()
        assert source.band_names == (*BANDS, "DEM", "CLEAR_COUNT")
        assert resolve_band_indexes(source, BANDS) == (1, 2, 3, 4, 5, 6)
        with rasterio.open(source.path) as src:
            count = src.read(src.count)
            values = src.read(list(range(1, 7)))
        row = summary.loc[year]
        assert row["scenes_found"] == 2 and row["scenes_used"] == 2
        assert row["pixels"] == count.size
        assert row["pixels_no_clear"] == int((count == 0).sum())
        assert row["clear_p50"] == np.percentile(count, 50, method="lower")
        assert ((values == -9999) == (count == 0)[None]).all()
        assert values[values != -9999].max() <= 5000  # offset removed once, nothing masked
    # 2016: the west is cloudy in both scenes; the table says how much.
    assert 0.1 < summary.loc[2016, "share_no_clear"] < 0.5
    assert summary.loc[2022, "scenes_with_offset"] == 1


def test_a_rerun_fetches_nothing(tmp_path: Path) -> None:
    conf = _conf(tmp_path)
    _run(conf)
    first = pd.read_csv(conf.catalog["imagery_summary"]["filepath"])
    shutil.rmtree(tmp_path / "stac")  # the catalog and its files are gone: all from the cache
    _run(conf)
    pd.testing.assert_frame_equal(pd.read_csv(conf.catalog["imagery_summary"]["filepath"]), first)


def test_an_area_without_districts_says_what_to_do(tmp_path: Path) -> None:
    conf = _conf(tmp_path)
    conf.point_raw("districts_raw", tmp_path / "missing.gpkg")
    with pytest.raises(Exception, match="missing.gpkg does not exist"):
        _run(conf)
    assert not (tmp_path / "data" / "03_primary" / "imagery").exists()


@pytest.mark.slow
def test_kedro_run_of_the_imagery_pipeline(tmp_path: Path) -> None:
    (tmp_path / "project").mkdir()
    root = project_copy(tmp_path / "project")
    catalog = _catalog(tmp_path / "stac")
    (root / "conf" / "local" / "parameters_imagery.yml").write_text(
        "imagery:\n"
        f"  catalog_url: {catalog}\n"
        "  years: [2022]\n"
        "  progress: false\n"
        "  area: {source: bbox, bbox_crs: 'EPSG:32630', bbox: "
        f"[{AREA[0]}, {AREA[1]}, {AREA[2]}, {AREA[3]}]}}\n"
        "  output: {window_size: 32, threads: 1}\n"
    )
    result = kedro(root, "run", "--pipeline=imagery", timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    source = RasterSource.open(root / "data" / "03_primary" / "imagery" / "composite_2022.tif")
    assert source.tags["year"] == "2022" and source.grid.width == 64
    summary = pd.read_csv(root / "data" / "08_reporting" / "imagery_summary.csv")
    assert summary["year"].tolist() == [2022]
    # A year before Sentinel-2 L2A stops the run before any node, naming the date.
    bad = kedro(root, "run", "--pipeline=imagery", "--params", "imagery.years=[2014]")
    assert bad.returncode != 0
    assert "2015-06-27" in bad.stderr + bad.stdout
