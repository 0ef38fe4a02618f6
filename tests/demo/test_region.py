"""The synthetic demo region: layout, determinism and realism checks."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from cocoa_threat.demo.region import (
    COCOA,
    FOREST,
    SIGNATURES,
    DemoRegionConfig,
    build_landscape,
    generate_demo_region,
    paint_bands,
)
from cocoa_threat.errors import ParameterError
from cocoa_threat.geo.raster import read_header, read_raster
from cocoa_threat.params import parse_params
from tests.conftest import TINY_REGION


@pytest.fixture
def cfg(tmp_path: Path) -> DemoRegionConfig:
    return DemoRegionConfig(output_dir=str(tmp_path / "demo"), **TINY_REGION)


def test_layout_matches_smallminesds(cfg: DemoRegionConfig) -> None:
    root = generate_demo_region(cfg)
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
    mask = read_raster(root / "2016" / "MASK" / "MASK_GH_1000_2016.tif")
    assert mask.data.shape[0] == 2 and mask.nodata == 255
    assert set(np.unique(mask.data[0])) <= {0.0, 1.0, 255.0}
    # Edge tiles are smaller; the same tile id is the same ground in both years.
    edge = read_header(root / "2016" / "IMAGE" / "IMG_GH_1015_2016.tif")
    assert (edge.width, edge.height) == (22, 19)
    assert read_header(root / "2022" / "IMAGE" / "IMG_GH_1015_2022.tif").bounds == edge.bounds


def test_tiles_cover_one_contiguous_region(cfg: DemoRegionConfig) -> None:
    root = generate_demo_region(cfg)
    headers = [read_header(p) for p in (root / "2016" / "IMAGE").glob("*.tif")]
    area = sum(h.width * h.height for h in headers)
    rows, cols = cfg.shape
    assert area == rows * cols
    minx = min(h.bounds[0] for h in headers)
    maxx = max(h.bounds[2] for h in headers)
    assert (maxx - minx) == cols * cfg.pixel_size


def test_deterministic_and_reused(cfg: DemoRegionConfig) -> None:
    root = generate_demo_region(cfg)
    first = read_raster(root / "2022" / "IMAGE" / "IMG_GH_1005_2022.tif").data
    stamp = (root / "demo_region.json").stat().st_mtime_ns
    generate_demo_region(cfg)  # same parameters: reused, not rewritten
    assert (root / "demo_region.json").stat().st_mtime_ns == stamp
    generate_demo_region(cfg, overwrite=True)
    np.testing.assert_array_equal(
        first, read_raster(root / "2022" / "IMAGE" / "IMG_GH_1005_2022.tif").data
    )
    other = cfg.model_copy(update={"seed": cfg.seed + 1})
    generate_demo_region(other)
    assert json.loads((root / "demo_region.json").read_text())["config"]["seed"] == cfg.seed + 1
    assert not np.array_equal(
        first, read_raster(root / "2022" / "IMAGE" / "IMG_GH_1005_2022.tif").data
    )


def test_landscape_is_realistic(tmp_path: Path) -> None:
    cfg = DemoRegionConfig(output_dir=str(tmp_path), n_tiles_x=4, n_tiles_y=4)
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
    cfg = DemoRegionConfig(output_dir=str(tmp_path), n_tiles_x=4, n_tiles_y=4)
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
    with pytest.raises(ParameterError, match=r"synthetic\.edge_trim_x"):
        parse_params(
            DemoRegionConfig,
            {"output_dir": str(tmp_path), "tile_size": 32, "edge_trim_x": 40},
            "ingestion.synthetic",
        )
