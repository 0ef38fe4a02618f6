"""The synthetic demo region: the released SmallMinesDS layout, determinism and realism."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from rasterio.warp import transform_bounds

from cocoa_threat.datasets.raw import RawDataset, RawStampDataset
from cocoa_threat.demo.region import (
    COCOA,
    FOREST,
    SIGNATURES,
    DemoRegionConfig,
    build_landscape,
    fingerprint,
    paint_bands,
    region_bounds,
    stale_products,
)
from cocoa_threat.errors import ParameterError
from cocoa_threat.geo.raster import read_header, read_raster
from cocoa_threat.params import parse_params
from cocoa_threat.pipelines.demo import nodes as demo_nodes
from cocoa_threat.raw import fingerprint_of
from tests.conftest import TINY_REGION


@pytest.fixture
def cfg() -> DemoRegionConfig:
    return DemoRegionConfig(**TINY_REGION)


def _write(dataset: RawDataset, cfg: DemoRegionConfig, product: str, node: object) -> None:
    """Plan, build and save one product as the demo pipeline does."""
    recorded = {product: fingerprint_of(RawStampDataset(str(dataset.path)).load())}
    plan = {k: v for k, v in stale_products(cfg, recorded).items() if k == product}
    dataset.save(node(demo_nodes.demo_landscape(plan, cfg), plan, cfg))  # type: ignore[operator]


def _tiles(cfg: DemoRegionConfig, root: Path) -> Path:
    """Write the tiles through the catalog's raw dataset, as the demo pipeline does."""
    dataset = RawDataset(
        str(root),
        {
            "type": "partitions.PartitionedDataset",
            "dataset": "cocoa_threat.datasets.RasterDataset",
            "filename_suffix": ".tif",
        },
    )
    _write(dataset, cfg, "tiles", demo_nodes.demo_tiles)
    return root


def test_layout_matches_released_smallminesds(cfg: DemoRegionConfig, tmp_path: Path) -> None:
    root = _tiles(cfg, tmp_path / "tiles")
    for year in (2016, 2022):
        images = sorted((root / str(year) / "IMAGE").glob("IMG_GH_*_*.tif"))
        masks = sorted((root / str(year) / "MASK").glob("MASK_GH_*_*.tif"))
        assert len(images) == len(masks) == 16
        assert images[0].name == f"IMG_GH_1000_{year}.tif"
    img = read_header(root / "2016" / "IMAGE" / "IMG_GH_1000_2016.tif")
    assert (img.count, img.dtype, img.crs, img.nodata) == (13, "float32", "EPSG:32630", -9999.0)
    assert img.res == (10.0, 10.0)
    # Inside the study area around 616000 E, 713000 N.
    assert 600000 < img.bounds[0] < 630000 and 700000 < img.bounds[1] < 725000
    # As released: ONE mask band, mining 1 / not 0, nodata 255.
    mask = read_raster(root / "2016" / "MASK" / "MASK_GH_1000_2016.tif")
    assert mask.data.shape[0] == 1 and mask.nodata == 255
    assert set(np.unique(mask.data)) <= {0, 1, 255}
    # Edge tiles are smaller; the same tile id is the same ground in both years.
    edge = read_header(root / "2016" / "IMAGE" / "IMG_GH_1015_2016.tif")
    assert (edge.width, edge.height) == (22, 19)
    assert read_header(root / "2022" / "IMAGE" / "IMG_GH_1015_2022.tif").bounds == edge.bounds


def test_two_band_layout_stays_available(cfg: DemoRegionConfig, tmp_path: Path) -> None:
    cfg = cfg.model_copy(update={"mask_layout": "mining_cocoa"})
    root = _tiles(cfg, tmp_path / "tiles")
    mask = read_raster(root / "2022" / "MASK" / "MASK_GH_1005_2022.tif")
    assert mask.data.shape[0] == 2
    prob = mask.data[1][mask.data[1] != 255]
    assert prob.min() >= 0 and prob.max() <= 1 and prob.max() > 0.65


def test_cocoa_layer_is_a_separate_lonlat_map_with_a_nodata_margin(
    cfg: DemoRegionConfig, tmp_path: Path
) -> None:
    path = tmp_path / "cocoa.tif"
    layer = {"type": "cocoa_threat.datasets.RasterDataset", "save_args": {"compress": "deflate"}}
    _write(RawDataset(str(path), layer), cfg, "cocoa_layer", demo_nodes.demo_cocoa_layer)
    layer = read_raster(path)
    assert layer.crs.to_epsg() == 4326 and layer.nodata == 255 and layer.data.dtype == np.uint8
    assert abs(layer.transform.a - 0.00009) < 1e-12  # ~10 m
    data = layer.data[0]
    assert (data[0] == 255).all() and (data[:, -1] == 255).all()  # the margin
    valid = data[data != 255]
    assert valid.max() <= 100 and (valid >= 65).mean() > 0.2  # percent (scale 100)
    # It covers the whole region.
    minx, miny, maxx, maxy = transform_bounds(cfg.crs, "EPSG:4326", *region_bounds(cfg))
    lminx, lmaxy = layer.transform.c, layer.transform.f
    lmaxx = lminx + layer.transform.a * data.shape[1]
    lminy = lmaxy + layer.transform.e * data.shape[0]
    assert lminx < minx and lminy < miny and lmaxx > maxx and lmaxy > maxy


def test_tiles_cover_one_contiguous_region(cfg: DemoRegionConfig, tmp_path: Path) -> None:
    root = _tiles(cfg, tmp_path / "tiles")
    headers = [read_header(p) for p in (root / "2016" / "IMAGE").glob("*.tif")]
    area = sum(h.width * h.height for h in headers)
    rows, cols = cfg.shape
    assert area == rows * cols
    minx = min(h.bounds[0] for h in headers)
    maxx = max(h.bounds[2] for h in headers)
    assert (maxx - minx) == cols * cfg.pixel_size


def test_deterministic_reused_and_regenerated_on_change(
    cfg: DemoRegionConfig, tmp_path: Path
) -> None:
    root = _tiles(cfg, tmp_path / "tiles")
    tile = root / "2022" / "IMAGE" / "IMG_GH_1005_2022.tif"
    first, stamp = read_raster(tile).data, (root / ".stamp.json").stat().st_mtime_ns
    _tiles(cfg, root)  # same parameters: reused, not rewritten
    assert (root / ".stamp.json").stat().st_mtime_ns == stamp
    _tiles(cfg.model_copy(update={"regenerate": True}), root)  # forced: same content
    assert (root / ".stamp.json").stat().st_mtime_ns != stamp
    np.testing.assert_array_equal(first, read_raster(tile).data)
    # Parameters the tiles don't depend on leave them alone; others regenerate them.
    other = cfg.model_copy(update={"districts_crs": "EPSG:32630"})
    assert fingerprint(cfg, "tiles") == fingerprint(other, "tiles")
    assert fingerprint(cfg, "districts") != fingerprint(other, "districts")
    _tiles(cfg.model_copy(update={"seed": cfg.seed + 1}), root)
    assert not np.array_equal(first, read_raster(tile).data)


def test_landscape_is_realistic(tmp_path: Path) -> None:
    cfg = DemoRegionConfig(n_tiles_x=4, n_tiles_y=4)
    land = build_landscape(cfg)
    first, last = land.mining[2016], land.mining[2022]
    assert 0.045 < first.mean() < 0.065
    assert 0.065 < last.mean() < 0.09
    # Mining expands partly into cocoa, and some mined land re-vegetates.
    assert (last & ~first & (land.cover == COCOA)).sum() > 0
    assert (first & ~last).sum() > 0
    cocoa_label = (land.cocoa_probability >= 0.65) & ~last
    assert 0.3 < cocoa_label.mean() < 0.5
    # Labels are imperfect: some cocoa pixels fall below the threshold.
    assert ((land.cover == COCOA) & (land.cocoa_probability < 0.65)).mean() > 0.01


def test_cocoa_and_forest_overlap_spectrally(tmp_path: Path) -> None:
    cfg = DemoRegionConfig(n_tiles_x=4, n_tiles_y=4)
    land = build_landscape(cfg)
    image, _ = paint_bands(cfg, land, 2016)
    cover = land.cover_in(2016)
    for band in ("B4", "B8A", "B11"):
        b = cfg.band_names.index(band)
        cocoa, forest = image[b][cover == COCOA], image[b][cover == FOREST]
        # One band threshold can't separate them: the class means are closer
        # than one within-class standard deviation.
        assert abs(cocoa.mean() - forest.mean()) < cocoa.std()
    assert set(SIGNATURES) | {"DEM"} == set(cfg.band_names)


def test_bad_demo_parameters_name_the_key(tmp_path: Path) -> None:
    with pytest.raises(ParameterError, match=r"demo\.edge_trim_x"):
        parse_params(
            DemoRegionConfig,
            {"tile_size": 32, "edge_trim_x": 40},
            "demo",
        )
