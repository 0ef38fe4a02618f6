"""The transition pipeline on maps of the tiny region, and its bad inputs."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import rasterio
from kedro.runner import SequentialRunner
from shapely.geometry import Polygon, box

from cocoa_threat.geo.grid import RasterSource
from cocoa_threat.params.compute import ComputeParams
from cocoa_threat.pipelines.transition import create_pipeline
from cocoa_threat.pipelines.transition.nodes import compute_transitions, prepare_districts
from tests.conftest import ProjectConf, write_tile

DISTRICTS = {"Amansie South", "Amansie West", "Amansie Central", "Bekwai", "Upper Denkyira West"}

LOCAL = ComputeParams.model_validate({})  # every window in this process


def test_transition_outputs(mapped: ProjectConf) -> None:
    catalog = mapped.catalog_with_params()
    SequentialRunner().run(create_pipeline(), catalog)

    matrix = catalog.load("transition_matrix").set_index("from_class")
    areas = catalog.load("map_class_areas")
    before = areas[areas["period"] == "before"].set_index("class")["hectares"]
    # Rows of the matrix are the first map's class areas (pixels valid in both years).
    assert matrix["total_ha"].sum() == pytest.approx(before.sum(), rel=0.02)
    assert np.allclose(matrix.filter(like="_pct").sum(axis=1), 100)

    by_district = catalog.load("transition_by_district")
    assert DISTRICTS <= set(by_district["district"])
    assert by_district["hectares"].sum() == pytest.approx(matrix["total_ha"].sum())

    change = catalog.load("change_map")
    with rasterio.open(change.path) as src:
        codes = set(np.unique(src.read(1)))
        assert src.tags(ns="IMAGE_STRUCTURE").get("LAYOUT") == "COG"
    assert codes <= {0, 1, 2, 10, 11, 12, 20, 21, 22, 255}

    polygons = catalog.load("cocoa_to_mining")
    assert polygons.crs.to_epsg() == 32630
    assert {"area_ha", "district", "patch_id"} <= set(polygons.columns)
    if len(polygons):
        assert polygons["area_ha"].min() >= mapped.params["transition"]["min_mapping_unit_ha"]
        assert set(polygons["district"]) <= DISTRICTS | {"outside districts"}

    estimates = catalog.load("area_estimates").set_index(["quantity", "population"])
    region = estimates.loc[("cocoa -> mining", "whole region")]
    assert region["ci_low_ha"] <= region["adjusted_ha"] <= region["ci_high_ha"]
    assert region["map_ha"] == pytest.approx(matrix.loc["cocoa", "to_mining_ha"])
    # The census of the labels is beside every estimate; the whole region adds the
    # training tiles at their labelled area to the estimate over the other tiles.
    tiles = catalog.load("tile_areas")
    conv = tiles[tiles["quantity"] == "cocoa -> mining"]
    assert region["census_ha"] == pytest.approx(conv["ref_ha"].sum())
    nontrain = estimates.loc[("cocoa -> mining", "non-training tiles")]
    train_ref = conv.loc[conv["split"] == "train", "ref_ha"].sum()
    assert region["adjusted_ha"] == pytest.approx(nontrain["adjusted_ha"] + train_ref)
    assert region["n_units"] == (tiles.drop_duplicates("tile_id")["split"] == "test").sum()
    after = tiles[tiles["period"] == "after"]
    labelled = after.drop_duplicates("tile_id")["labelled_px"].sum()
    assert after["ref_px"].sum() == labelled  # every labelled pixel is in one class
    for name in ("change_map", "transitions_by_district"):
        assert Path(mapped.root, f"data/08_reporting/figures/{name}.png").is_file()


def _tiny_map(
    tmp_path: Path, name: str, origin: tuple[float, float], crs: str = "EPSG:32630"
) -> RasterSource:
    data = np.zeros((1, 20, 20), dtype=np.uint8)
    return RasterSource.open(write_tile(tmp_path / name, data, origin=origin, crs=crs, nodata=255))


def test_maps_on_different_grids_fail_before_output(
    tmp_path: Path, project_conf: ProjectConf
) -> None:
    params, land_use = project_conf.typed("transition"), project_conf.typed("land_use")
    a = _tiny_map(tmp_path, "a.tif", (616000, 713000))
    b = _tiny_map(tmp_path, "b.tif", (616010, 713000))
    districts = gpd.GeoDataFrame(
        {"district": ["x"]}, geometry=[box(615000, 712000, 617000, 714000)], crs=32630
    )
    with pytest.raises(ValueError, match="different grids"):
        compute_transitions(a, b, districts, params, land_use, LOCAL)
    c = _tiny_map(tmp_path, "c.tif", (616000, 713000), crs="EPSG:32631")
    with pytest.raises(ValueError, match="EPSG:32631"):
        compute_transitions(a, c, districts, params, land_use, LOCAL)


def test_district_file_problems_are_named(tmp_path: Path, project_conf: ProjectConf) -> None:
    params, land_use = project_conf.typed("transition"), project_conf.typed("land_use")
    land = _tiny_map(tmp_path, "a.tif", (616000, 713000))
    far = gpd.GeoDataFrame({"district": ["Far"]}, geometry=[box(0, 0, 1, 1)], crs=4326)
    with pytest.raises(ValueError, match="do not overlap the maps"):
        prepare_districts(far, land, params, land_use)
    bowtie = Polygon([(616000, 712800), (616200, 713000), (616200, 712800), (616000, 713000)])
    bad = gpd.GeoDataFrame({"district": ["Bekwai"]}, geometry=[bowtie], crs=32630)
    with pytest.raises(
        ValueError, match=r"Invalid district geometries \(Bekwai: Self-intersection"
    ):
        prepare_districts(bad, land, params, land_use)
    nameless = gpd.GeoDataFrame(
        {"name": ["Bekwai"]}, geometry=[box(616000, 712800, 616200, 713000)], crs=32630
    )
    with pytest.raises(ValueError, match="transition.district_name_column"):
        prepare_districts(nameless, land, params, land_use)
    empty = gpd.GeoDataFrame({"district": []}, geometry=[], crs=32630)
    with pytest.raises(ValueError, match=r"The district file has no features.*raw\.districts"):
        prepare_districts(empty, land, params, land_use)
    # A district file in lon/lat is reprojected to the maps' CRS.
    ok = gpd.GeoDataFrame(
        {"district": ["Bekwai"]}, geometry=[box(616000, 712800, 616200, 713000)], crs=32630
    )
    out = prepare_districts(ok.to_crs(4326), land, params, land_use)
    assert out.crs.to_epsg() == 32630
    assert out.geometry.iloc[0].area == pytest.approx(200 * 200, rel=1e-3)


def test_too_few_test_blocks_give_no_interval(mapped: ProjectConf) -> None:
    mapped.params["transition"]["min_test_units"] = 5  # the tiny region has 4 test tiles
    catalog = mapped.catalog_with_params()
    SequentialRunner().run(create_pipeline(), catalog)
    estimates = catalog.load("area_estimates")
    assert estimates["ci_low_ha"].isna().all() and estimates["ci_high_ha"].isna().all()
    assert estimates["note"].str.contains("only 4 sample units in all").all()
    assert estimates["adjusted_ha"].notna().all()
    # Economics then has no low / high case, and says so instead of inventing one.
    from cocoa_threat.pipelines.economics.nodes import loss_by_season

    season = loss_by_season(estimates, mapped.typed("economics"), mapped.typed("land_use"))
    assert season["area_lost_ha_low"].isna().all()
    assert season["area_lost_ha_central"].notna().all()
