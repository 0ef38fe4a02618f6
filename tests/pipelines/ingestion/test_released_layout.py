"""SmallMinesDS as released: 1-band masks plus a cocoa layer in EPSG:4326, labels checked by place.

A hand-made dataset of 2 tiles x 2 years in UTM 30N, and a cocoa-probability
layer in geographic coordinates whose values are known by longitude and
latitude: cocoa (80%) west of a meridian, not cocoa (64%, just under the 0.65
threshold) east of it, no data north of a parallel. Labels are checked at
pixel centres well away from those lines (bilinear resampling blurs a pixel
or two there).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from affine import Affine
from kedro.runner import SequentialRunner
from pyproj import Transformer
from rasterio.crs import CRS

from cocoa_threat.errors import DataValidationError
from cocoa_threat.geo.raster import Raster, read_raster, write_raster
from cocoa_threat.pipelines.ingestion import create_pipeline
from tests.conftest import ProjectConf

TILE = 32
PX = 10.0
ORIGIN = (616000.0, 713000.0)  # UTM 30N, in the study area
TILES = {"0001": 0, "0002": 1}  # tile id -> column of tiles
YEARS = (2016, 2022)
LAYER_RES = 0.00005  # degrees, ~5.5 m


def _tile_transform(col: int) -> Affine:
    return Affine(PX, 0, ORIGIN[0] + col * TILE * PX, 0, -PX, ORIGIN[1])


def _mining(tile: str, year: int) -> np.ndarray:
    """Known mining: a square in the west of tile 0001 (2022 only), one under the gap."""
    mask = np.zeros((TILE, TILE), dtype=np.uint8)
    if tile == "0001" and year == 2022:
        mask[20:26, 4:10] = 1  # in the cocoa zone
        mask[2:5, 2:5] = 1  # under the nodata zone of the cocoa layer
    mask[31, 31] = 255  # mask nodata
    return mask


@pytest.fixture
def released(project_conf: ProjectConf, tmp_path: Path) -> dict:
    """Tiles in the released layout and a cocoa layer in EPSG:4326; the conf points at them."""
    root = tmp_path / "SmallMinesDS"
    rng = np.random.default_rng(0)
    for tile, col in TILES.items():
        for year in YEARS:
            image = (1500 + 100 * rng.standard_normal((13, TILE, TILE))).astype(np.float32)
            t = _tile_transform(col)
            crs = CRS.from_epsg(32630)
            write_raster(
                root / str(year) / "IMAGE" / f"IMG_GH_{tile}_{year}.tif",
                Raster(image, t, crs, -9999.0),
            )
            write_raster(
                root / str(year) / "MASK" / f"MASK_GH_{tile}_{year}.tif",
                Raster(_mining(tile, year)[None], t, crs, 255.0),
            )
    # The layer: bounds of both tiles in lon/lat plus a margin.
    to_ll = Transformer.from_crs(32630, 4326, always_xy=True)
    xs = [ORIGIN[0], ORIGIN[0] + 2 * TILE * PX]
    ys = [ORIGIN[1] - TILE * PX, ORIGIN[1]]
    lon, lat = to_ll.transform([xs[0], xs[1], xs[0], xs[1]], [ys[0], ys[0], ys[1], ys[1]])
    west, east = min(lon) - 0.001, max(lon) + 0.001
    south, north = min(lat) - 0.001, max(lat) + 0.001
    width = int(np.ceil((east - west) / LAYER_RES))
    height = int(np.ceil((north - south) / LAYER_RES))
    cols = west + (np.arange(width) + 0.5) * LAYER_RES
    rows = north - (np.arange(height) + 0.5) * LAYER_RES
    # Zones: split meridian through the middle of tile 0001, gap north of 80% of its height.
    split_lon, _ = to_ll.transform(ORIGIN[0] + 16 * PX, ORIGIN[1] - 16 * PX)
    _, gap_lat = to_ll.transform(ORIGIN[0], ORIGIN[1] - 8 * PX)
    layer = np.where(cols[None, :] < split_lon, 80, 64).repeat(height, axis=0).astype(np.uint8)
    layer[rows > gap_lat, :] = 255
    layer_path = tmp_path / "cocoa_4326.tif"
    write_raster(
        layer_path,
        Raster(
            layer[None], Affine(LAYER_RES, 0, west, 0, -LAYER_RES, north), CRS.from_epsg(4326), 255
        ),
    )
    project_conf.point_raw("raw_tiles", root)
    project_conf.point_raw("cocoa_layer_raw", layer_path)
    ing = project_conf.params["ingestion"]
    ing["source"] = "local"
    ing["labels"]["cocoa"]["scale"] = 100
    ing["raster"]["tile_size"] = TILE
    ing["split"].update({"block_size": 1, "fractions": {"train": 0.5, "val": 0.0, "test": 0.5}})
    ing["split"]["strata"].update({"n_strata": 1, "min_test_blocks": 1})  # 2 tiles: 1 test
    return {"root": root, "layer": layer_path, "split_lon": split_lon, "gap_lat": gap_lat}


def _expected(tile: str, year: int, split_lon: float, gap_lat: float) -> np.ndarray:
    """Expected labels, -1 where a pixel is too close to a zone edge to be sure."""
    to_ll = Transformer.from_crs(32630, 4326, always_xy=True)
    t = _tile_transform(TILES[tile])
    cc, rr = np.meshgrid(np.arange(TILE) + 0.5, np.arange(TILE) + 0.5)
    x, y = t * (cc, rr)
    lon, lat = to_ll.transform(x, y)
    margin = 3 * LAYER_RES  # a bilinear kernel and a half
    out = np.where(lon < split_lon, 2, 0)
    out[lat > gap_lat] = 255  # no cocoa information: no label ...
    out[(np.abs(lon - split_lon) < margin) | (np.abs(lat - gap_lat) < margin)] = -1
    mining = _mining(tile, year)
    out[mining == 1] = 1  # ... unless mined: mining wins
    out[mining == 255] = 255
    return out


def test_labels_at_known_coordinates(released: dict, project_conf: ProjectConf) -> None:
    catalog = project_conf.catalog_with_params()
    SequentialRunner().run(create_pipeline(), catalog)
    manifest = catalog.load("tile_manifest")
    assert len(manifest) == 4 and set(manifest["mask_format"]) == {"mining"}
    checked = 0
    for row in manifest.itertuples():
        labels = read_raster(row.label_path).data[0]
        want = _expected(row.tile_id.zfill(4), row.year, released["split_lon"], released["gap_lat"])
        sure = want >= 0
        np.testing.assert_array_equal(labels[sure], want[sure])
        checked += int(sure.sum())
    assert checked > 0.8 * 4 * TILE * TILE
    # All four outcomes occur: cocoa, mining (also under the gap), background, no label.
    row = manifest[(manifest["tile_id"] == "0001") & (manifest["year"] == 2022)].iloc[0]
    labels_2022 = read_raster(row["label_path"]).data[0]
    assert labels_2022[3, 3] == 1 and labels_2022[22, 6] == 1
    assert {0, 1, 2, 255} <= set(np.unique(labels_2022))


def test_layer_in_percent_with_scale_1_says_which_scale(
    released: dict, project_conf: ProjectConf
) -> None:
    project_conf.params["ingestion"]["labels"]["cocoa"]["scale"] = 1
    with pytest.raises(DataValidationError, match=r"(?s)values 64\.\.80.*cocoa\.scale: 100"):
        SequentialRunner().run(create_pipeline(), project_conf.catalog_with_params())
    assert not Path(project_conf.params["ingestion"]["model_input_dir"]).exists()


def _as_fractions(path: Path) -> None:
    """Rewrite the percent layer as 0..1 floats (NaN no data), as many national maps are."""
    layer = read_raster(path)
    data = np.where(layer.data == 255, np.nan, layer.data / 100.0).astype(np.float32)
    write_raster(path, Raster(data, layer.transform, layer.crs, np.nan))


def test_fractions_read_as_percent_stop_and_name_the_scale(
    released: dict, project_conf: ProjectConf
) -> None:
    _as_fractions(released["layer"])  # the conf still says scale 100
    with pytest.raises(DataValidationError, match=r"(?s)values 0\.64\.\.0\.8.*cocoa\.scale: 1\b"):
        SequentialRunner().run(create_pipeline(), project_conf.catalog_with_params())
    assert not Path(project_conf.params["ingestion"]["model_input_dir"]).exists()
    # With the scale that fits, every sure pixel gets its known label.
    project_conf.params["ingestion"]["labels"]["cocoa"]["scale"] = 1
    test_labels_at_known_coordinates(released, project_conf)


def test_a_layer_without_cocoa_at_the_threshold_stops(
    released: dict, project_conf: ProjectConf
) -> None:
    project_conf.params["ingestion"]["labels"]["cocoa_threshold"] = 0.9  # the layer tops at 0.8
    with pytest.raises(DataValidationError, match=r"no pixel reaches .*cocoa_threshold 0\.9"):
        SequentialRunner().run(create_pipeline(), project_conf.catalog_with_params())


def test_layer_that_misses_a_tile(
    released: dict, project_conf: ProjectConf, tmp_path: Path
) -> None:
    # Crop the layer to the western half: tile 0002 is not covered.
    layer = read_raster(released["layer"])
    keep = layer.data.shape[2] // 2
    write_raster(
        released["layer"], Raster(layer.data[:, :, :keep], layer.transform, layer.crs, 255)
    )
    with pytest.raises(DataValidationError, match=r"does not cover 1 tile.*on_missing") as info:
        SequentialRunner().run(create_pipeline(), project_conf.catalog_with_params())
    assert info.value.problems == ["tile 0002"]
    assert not Path(project_conf.params["ingestion"]["model_input_dir"]).exists()
    project_conf.params["ingestion"]["labels"]["cocoa"]["on_missing"] = "ignore"
    catalog = project_conf.catalog_with_params()
    SequentialRunner().run(create_pipeline(), catalog)
    manifest = catalog.load("tile_manifest")
    far = manifest[manifest["tile_id"].astype(str).str.endswith("2")]
    for path in far["label_path"]:
        labels = read_raster(path).data[0]
        assert (labels[:, -10:] == 255).all()  # beyond the layer: no cocoa information


def test_layer_without_crs(released: dict, project_conf: ProjectConf) -> None:
    layer = read_raster(released["layer"])
    write_raster(released["layer"], Raster(layer.data, layer.transform, None, 255))
    with pytest.raises(
        DataValidationError, match=r"cocoa_4326\.tif \(catalog cocoa_layer_raw.*has no CRS"
    ):
        SequentialRunner().run(create_pipeline(), project_conf.catalog_with_params())


def test_missing_layer_says_where_to_get_it(released: dict, project_conf: ProjectConf) -> None:
    released["layer"].unlink()
    with pytest.raises(
        FileNotFoundError, match=r"cocoa_4326\.tif does not exist.*Kalischek et al\. 2023"
    ):
        SequentialRunner().run(create_pipeline(), project_conf.catalog_with_params())
    # A two-class study needs no layer.
    project_conf.params["ingestion"]["labels"]["cocoa"]["source"] = "none"
    project_conf.params["land_use"].update(
        {"classes": ["background", "mining"], "cocoa_class": None}
    )
    catalog = project_conf.catalog_with_params()
    SequentialRunner().run(create_pipeline(), catalog)
    manifest = catalog.load("tile_manifest")
    assert "fraction_cocoa" not in manifest and set(manifest["cocoa_source"]) == {"none"}
    labels = read_raster(manifest["label_path"].iloc[-1]).data[0]
    assert set(np.unique(labels)) <= {0, 1, 255}


def test_values_other_than_mining_0_1(released: dict, project_conf: ProjectConf) -> None:
    path = released["root"] / "2016" / "MASK" / "MASK_GH_0002_2016.tif"
    mask = read_raster(path)
    mask.data[0, 0, 0] = 2
    write_raster(path, mask)
    with pytest.raises(
        DataValidationError, match=r"MASK_GH_0002_2016\.tif: mining band \(1\) has values \[2\]"
    ):
        SequentialRunner().run(create_pipeline(), project_conf.catalog_with_params())
