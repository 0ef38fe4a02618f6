"""Counts stay exact past 2^31 pixels: int64 counts, hectares from them at the end."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import rasterio
from affine import Affine
from rasterio.windows import Window
from shapely.geometry import box

from cocoa_threat.analysis.transitions import transition_tables
from cocoa_threat.geo.grid import RasterSource
from tests.analysis.test_transitions import SCHEME

SIDE = 46_345  # SIDE^2 - 512^2 = 2,147,596,881 px > 2^31
BLOCK = 4096
ORIGIN = (500_000.0, 900_000.0)
PATCH = Window(1024, 2048, 512, 512)  # cocoa in 2016, mining in 2022


def _sparse(path: Path, fill: int) -> RasterSource:
    """A GeoTIFF of SIDE x SIDE px with one written block (the rest: 0, never stored)."""
    profile = {
        "driver": "GTiff",
        "width": SIDE,
        "height": SIDE,
        "count": 1,
        "dtype": "uint8",
        "crs": "EPSG:32630",
        "transform": Affine(10, 0, ORIGIN[0], 0, -10, ORIGIN[1]),
        "tiled": True,
        "blockxsize": 512,
        "blockysize": 512,
        "compress": "deflate",
        "BIGTIFF": "YES",
        "SPARSE_OK": True,
    }
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(np.full((1, 512, 512), fill, np.uint8), window=PATCH)
    return RasterSource.open(path)


@pytest.mark.slow
def test_counts_past_two_to_the_31_pixels_are_exact(tmp_path: Path) -> None:
    before, after = _sparse(tmp_path / "before.tif", 2), _sparse(tmp_path / "after.tif", 1)
    assert before.grid.width * before.grid.height > 2**31
    west = 3 * BLOCK  # district A: the western 3 window columns, every row
    districts = gpd.GeoDataFrame(
        {"district": ["A"]},
        geometry=[box(ORIGIN[0], ORIGIN[1] - SIDE * 10, ORIGIN[0] + west * 10, ORIGIN[1])],
        crs="EPSG:32630",
    )
    matrix, by_district, areas = transition_tables(
        before, after, districts, SCHEME, "outside", BLOCK
    )
    total, patch = SIDE * SIDE, 512 * 512
    stable = total - patch  # background -> background: more than 2^31 pixels
    assert stable > 2**31
    pixels = areas.set_index(["period", "class"])["pixels"]
    assert pixels[("before", "background")] == stable and pixels[("before", "cocoa")] == patch
    assert pixels[("after", "background")] == stable and pixels[("after", "mining")] == patch
    assert pixels.sum() == 2 * total  # every pixel of both maps, none lost or counted twice
    # Hectares come from the exact counts at the end, one rounding each.
    assert areas["hectares"].tolist() == [n * 100.0 / 10_000.0 for n in areas["pixels"]]
    ha_per_px = before.grid.hectares(1)
    rows = by_district.set_index(["district", "from_class", "to_class"])["hectares"]
    inside = west * SIDE  # district A's pixels
    assert rows[("A", "background", "background")] == (inside - patch) * ha_per_px
    assert rows[("A", "cocoa", "mining")] == patch * ha_per_px
    assert rows[("outside", "background", "background")] == (total - inside) * ha_per_px
    assert matrix.set_index("from_class").loc["background", "to_background_ha"] == (
        stable * ha_per_px
    )
