"""Grids and windowed reading on seeded generated GeoTIFFs: windows equal the whole."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from affine import Affine
from rasterio.crs import CRS
from rasterio.windows import Window
from shapely.geometry import box

from cocoa_threat.geo.grid import (
    GridSpec,
    RasterSource,
    expand,
    iter_windows,
    rasterize_window,
    same_grid_or_raise,
)
from cocoa_threat.geo.raster import Raster, pad_to, read_header, read_raster, write_raster
from tests.conftest import write_tile


@pytest.fixture
def field(tmp_path: Path) -> tuple[Path, np.ndarray]:
    data = np.random.default_rng(3).normal(size=(2, 45, 61)).astype(np.float32)
    return write_tile(tmp_path / "field.tif", data), data


def test_grid_facts() -> None:
    grid = GridSpec.of("EPSG:32630", Affine(10, 0, 600000, 0, -10, 700000), 30, 20)
    assert grid.bounds == (600000, 699800, 600300, 700000)
    assert grid.hectares(100) == pytest.approx(1.0)  # 100 px of 10 x 10 m = 1 ha
    assert grid.same_as(GridSpec.of(CRS.from_epsg(32630), grid.affine, 30, 20))
    assert not grid.same_as(GridSpec.of("EPSG:32631", grid.affine, 30, 20))
    assert not grid.same_as(
        GridSpec.of("EPSG:32630", grid.affine * Affine.translation(1, 0), 30, 20)
    )


@pytest.mark.parametrize("size", [7, 16, 100])
def test_windows_cover_the_raster_once_and_read_like_the_whole(
    field: tuple[Path, np.ndarray], size: int
) -> None:
    path, data = field
    source = RasterSource.open(path)
    seen = np.zeros(data.shape[1:], int)
    out = np.empty_like(data)
    for w in iter_windows(source.grid.width, source.grid.height, size):
        seen[w.toslices()] += 1
        out[(slice(None), *w.toslices())] = source.read(w)
    assert (seen == 1).all()
    np.testing.assert_array_equal(out, data)


def test_windows_outside_the_raster_are_filled(field: tuple[Path, np.ndarray]) -> None:
    path, data = field
    source = RasterSource.open(path)
    halo = source.read(expand(Window(0, 0, 10, 10), 3), bands=[2])
    assert halo.shape == (1, 16, 16)
    assert (halo[:, :3] == -9999.0).all() and (halo[:, :, :3] == -9999.0).all()
    np.testing.assert_array_equal(halo[0, 3:13, 3:13], data[1, :10, :10])
    assert (source.read(Window(100, 100, 4, 4), fill=0) == 0).all()  # fully outside


def test_reprojection_onto_a_tile_reads_only_what_lies_under_it(tmp_path: Path) -> None:
    # A layer in EPSG:4326 whose value is its column: a tile in UTM 30N gets a smooth
    # ramp of the right values; where the layer does not reach, NaN.
    lon0, lat0, step = -2.0, 6.5, 0.0001
    cols = np.tile(np.arange(400, dtype=np.float32), (300, 1))[None]
    layer = write_tile(
        tmp_path / "layer.tif", cols, origin=(lon0, lat0), crs="EPSG:4326", pixel=step
    )
    from pyproj import Transformer

    x, y = Transformer.from_crs(4326, 32630, always_xy=True).transform(lon0 + 0.01, lat0 - 0.01)
    grid = GridSpec.of("EPSG:32630", Affine(10, 0, x, 0, -10, y), 20, 20)
    on_tile = RasterSource.open(layer).read_on_grid(grid, resampling="bilinear")
    assert on_tile.shape == (20, 20) and np.isfinite(on_tile).all()
    assert on_tile[10, 0] == pytest.approx(100, abs=1.5)  # lon0 + 0.01 deg = column 100
    assert (np.diff(on_tile, axis=1) > 0).all()  # eastwards, the column grows
    far = GridSpec.of("EPSG:32630", Affine(10, 0, x + 50_000, 0, -10, y), 5, 5)
    assert np.isnan(RasterSource.open(layer).read_on_grid(far)).all()


def test_rasterized_windows_equal_the_whole(field: tuple[Path, np.ndarray]) -> None:
    path, _ = field
    grid = RasterSource.open(path).grid
    minx, miny, maxx, maxy = grid.bounds
    shapes = [box(minx + 55, miny + 40, minx + 300, maxy - 100), box(minx + 350, miny, maxx, maxy)]
    whole = rasterize_window(shapes, grid, Window(0, 0, grid.width, grid.height))
    assert set(np.unique(whole)) == {0, 1, 2}
    for w in iter_windows(grid.width, grid.height, 13):
        np.testing.assert_array_equal(rasterize_window(shapes, grid, w), whole[w.toslices()])


def test_different_grids_are_named(field: tuple[Path, np.ndarray], tmp_path: Path) -> None:
    path, data = field
    other = write_tile(tmp_path / "other.tif", data, origin=(616010.0, 713000.0))
    with pytest.raises(ValueError, match=r"the maps: .*field.tif.*other.tif.*different grids"):
        same_grid_or_raise(RasterSource.open(path), RasterSource.open(other), "the maps")


def test_raster_round_trip_keeps_everything(tmp_path: Path) -> None:
    data = np.arange(2 * 5 * 7, dtype=np.uint16).reshape(2, 5, 7)
    raster = Raster(
        data,
        Affine(10, 0, 1000, 0, -10, 2000),
        CRS.from_epsg(32630),
        65535,
        ["RED", "NIR"],
        {"a": "b"},
    )
    path = tmp_path / "sub" / "r.tif"
    write_raster(path, raster, compress="deflate")
    back = read_raster(path)
    np.testing.assert_array_equal(back.data, data)
    assert back.data.dtype == np.uint16 and back.nodata == 65535
    assert back.band_names == ["RED", "NIR"] and back.tags["a"] == "b"
    assert back.transform == raster.transform and back.crs == raster.crs
    assert back.bounds == (1000, 1950, 1070, 2000)
    header = read_header(path)
    assert (header.count, header.width, header.height, header.res) == (2, 7, 5, (10.0, 10.0))
    np.testing.assert_array_equal(read_raster(path, bands=[2]).data[0], data[1])
    assert [p.name for p in path.parent.iterdir()] == ["r.tif"]  # no temporary left


def test_a_failed_write_leaves_nothing(tmp_path: Path) -> None:
    bad = Raster(
        np.zeros((1, 4, 4), np.float32), Affine.identity(), None, band_names=["a", "b", "c"]
    )
    with pytest.raises(Exception):  # noqa: B017 - rasterio's error type for a bad band index
        write_raster(tmp_path / "bad.tif", bad)
    assert list(tmp_path.iterdir()) == []


def test_pad_to_pads_bottom_right_only() -> None:
    a = np.ones((2, 3, 4))
    padded = pad_to(a, (5, 6), -1)
    assert padded.shape == (2, 5, 6)
    assert (padded[:, :3, :4] == 1).all() and (padded[:, 3:] == -1).all()
    assert pad_to(a, (3, 4), 0) is a


def test_windows_inside_or_outside_every_district_are_filled_as_rasterized() -> None:
    from affine import Affine
    from rasterio import features
    from rasterio.windows import Window
    from shapely.geometry import Polygon, box

    from cocoa_threat.geo.grid import GridSpec, iter_windows, rasterize_window, window_transform

    grid = GridSpec.of("EPSG:32630", Affine(10, 0, 0, 0, -10, 1000), 100, 100)
    shapes = [
        box(0, 400, 500, 1000),  # holds whole windows
        Polygon([(300, 0), (1000, 300), (700, 700)]),  # cuts through windows
        box(450, 450, 520, 520),  # overlaps the first: the later one wins
    ]
    kinds = set()
    for window in [*iter_windows(100, 100, 16), Window(0, 0, 100, 100)]:
        expected = features.rasterize(
            [(g, i + 1) for i, g in enumerate(shapes)],
            out_shape=(int(window.height), int(window.width)),
            transform=window_transform(grid, window),
            fill=0,
            dtype="int32",
        )
        got = rasterize_window(shapes, grid, window)
        np.testing.assert_array_equal(got, expected, err_msg=str(window))
        kinds.add(len(np.unique(expected)))
    assert kinds >= {1, 2, 3}  # uniform windows (filled) and mixed ones (rasterized)
