"""Windowed transition tables, change map and patches: equal to the whole raster, and on Dask."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pytest
import rasterio
from rasterio import features
from scipy import ndimage
from shapely.geometry import Point, box, shape

from cocoa_threat.analysis.transitions import (
    ChangeScheme,
    change_producer,
    conversion_patches,
    transition_tables,
)
from cocoa_threat.geo.cog import write_cog
from cocoa_threat.geo.grid import RasterSource
from tests.conftest import write_tile

SCHEME = ChangeScheme(
    classes=["background", "mining", "cocoa"],
    colours={"background": "#eeeeee", "mining": "#ff0000", "cocoa": "#00aa00"},
    nodata=255,
    from_class="cocoa",
    to_class="mining",
    conversion_colour="#7a0177",
)
ORIGIN = (616000.0, 713000.0)


def maps(tmp_path: Path, shape_: tuple[int, int] = (150, 170), seed: int = 0) -> tuple:
    """Two land-use maps where mining grows into cocoa in patches of every shape."""
    rng = np.random.default_rng(seed)
    field = ndimage.gaussian_filter(rng.standard_normal(shape_), 3)
    before = np.where(field > 0, 2, 0).astype(np.uint8)
    before[ndimage.gaussian_filter(rng.standard_normal(shape_), 2) > 0.25] = 1
    after = before.copy()
    grow = ndimage.gaussian_filter(rng.standard_normal(shape_), 1.5) > 0.2
    after[grow & (before == 2)] = 1
    after[rng.random(shape_) < 0.02] = 1  # single pixels and diagonal chains
    after[:, :3] = 255  # no data
    # A patch joined only diagonally across the corner of four 32 px windows.
    before[30:34, 30:34], after[30:34, 30:34] = 2, 0
    after[31, 31], after[32, 32] = 1, 1
    paths = [
        write_tile(tmp_path / f"{name}.tif", a[None], origin=ORIGIN, nodata=255)
        for name, a in (("before", before), ("after", after))
    ]
    return RasterSource.open(paths[0]), RasterSource.open(paths[1]), before, after


def districts() -> gpd.GeoDataFrame:
    x0, y0 = ORIGIN
    return gpd.GeoDataFrame(
        {"district": ["A", "B"]},
        geometry=[box(x0, y0 - 900, x0 + 800, y0), box(x0 + 800, y0 - 1500, x0 + 1700, y0 - 300)],
        crs="EPSG:32630",
    )


def whole_raster_patches(before: np.ndarray, after: np.ndarray, grid, min_px: float) -> list:
    """The patches of the whole raster at once (the reference)."""
    labels, _ = ndimage.label((before == 2) & (after == 1), structure=np.ones((3, 3), bool))
    sizes = np.bincount(labels.ravel())
    kept = np.isin(labels, np.flatnonzero(sizes >= max(min_px, 1))[1:])
    geoms: dict[int, list] = {}
    for geom, value in features.shapes(
        labels.astype(np.int32), mask=kept, connectivity=8, transform=grid.affine
    ):
        geoms.setdefault(int(value), []).append(shape(geom))
    return [
        (pid, int(sizes[pid]), gpd.GeoSeries(parts).union_all())
        for pid, parts in sorted(geoms.items())
    ]


@pytest.mark.parametrize(("block", "mmu_ha"), [(32, 0.0), (32, 0.05), (64, 0.02), (1024, 0.05)])
def test_windowed_patches_are_the_whole_rasters(tmp_path: Path, block: int, mmu_ha: float) -> None:
    before, after, a, b = maps(tmp_path)
    frame, n = conversion_patches(before, after, SCHEME, mmu_ha, block)
    expected = whole_raster_patches(a, b, before.grid, mmu_ha / before.grid.hectares(1))
    _, n_all = ndimage.label((a == 2) & (b == 1), structure=np.ones((3, 3), bool))
    assert n == n_all and len(frame) == len(expected) > 10
    assert list(frame["patch_id"]) == [pid for pid, _, _ in expected]
    assert list(frame["n_pixels"]) == [size for _, size, _ in expected]
    labels, _ = ndimage.label((a == 2) & (b == 1), structure=np.ones((3, 3), bool))
    for geom, (pid, size, reference) in zip(frame.geometry, expected, strict=True):
        # The same pixels (a patch joined across windows only at a corner is two polygons
        # touching there, where the whole raster gives one polygon pinched at that point).
        burnt = features.rasterize([(geom, 1)], a.shape, transform=before.grid.affine)
        np.testing.assert_array_equal(burnt == 1, labels == pid, err_msg=str(pid))
        assert geom.area == pytest.approx(size * 100.0) == reference.area
    if mmu_ha == 0.0:  # the diagonal pair across the corner of four windows is one patch
        pixels = [Point(before.grid.affine * (c + 0.5, c + 0.5)) for c in (31, 32)]
        corner = frame[frame.geometry.contains(pixels[0]) & frame.geometry.contains(pixels[1])]
        assert len(corner) == 1 and corner["n_pixels"].iloc[0] == 2


def test_tables_change_map_and_patches_equal_on_dask(tmp_path: Path, dask_compute: Any) -> None:
    before, after, _, _ = maps(tmp_path, seed=1)
    here = transition_tables(before, after, districts(), SCHEME, "outside", 64)
    there = transition_tables(before, after, districts(), SCHEME, "outside", 64, dask_compute)
    for a, b in zip(here, there, strict=True):
        assert a.equals(b)
    whole = transition_tables(before, after, districts(), SCHEME, "outside", 1024)
    for a, b in zip(here, whole, strict=True):  # the window size changes nothing either
        assert a.equals(b)
    assert here[2]["pixels"].sum() > 0
    rasters = []
    for name, compute in (("here", None), ("there", dask_compute)):
        write_cog(tmp_path / f"{name}.tif", change_producer(before, after, SCHEME, 64, compute))
        with rasterio.open(tmp_path / f"{name}.tif") as src:
            rasters.append(src.read())
    np.testing.assert_array_equal(rasters[0], rasters[1])
    assert (rasters[0] == 21).any()
    frame_here, n_here = conversion_patches(before, after, SCHEME, 0.02, 64)
    frame_there, n_there = conversion_patches(before, after, SCHEME, 0.02, 64, dask_compute)
    assert n_here == n_there and frame_here.drop(columns="geometry").equals(
        frame_there.drop(columns="geometry")
    )
    assert all(a.equals(b) for a, b in zip(frame_here.geometry, frame_there.geometry, strict=True))
