"""COGs written window by window: layout, overviews, palette, whole == windowed, atomic."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import rasterio
from affine import Affine
from rasterio.windows import Window

from cocoa_threat.geo.cog import RasterProducer, SharedPass, write_cog
from cocoa_threat.geo.colours import colour_table
from cocoa_threat.geo.grid import GridSpec, iter_windows

GRID = GridSpec.of("EPSG:32630", Affine(10, 0, 600000, 0, -10, 700000), 300, 170)
CLASSES = (
    np.random.default_rng(5).integers(0, 3, size=(1, GRID.height, GRID.width)).astype(np.uint8)
)


def _producer(data: np.ndarray, window: int, **extra: object) -> RasterProducer:
    def blocks() -> Iterator[tuple[Window, np.ndarray]]:
        for w in iter_windows(GRID.width, GRID.height, window):
            yield w, data[(slice(None), *w.toslices())]

    return RasterProducer(
        grid=GRID,
        count=data.shape[0],
        dtype=data.dtype.name,
        nodata=255,
        blocks=blocks,
        **extra,  # type: ignore[arg-type]
    )


def test_cog_layout_overviews_palette_and_tags(tmp_path: Path) -> None:
    palette = colour_table({0: "#eeeeee", 1: "#d7301f", 2: "#1a9850"}, nodata=255)
    producer = _producer(
        CLASSES, 64, band_names=["land_use"], colormap=palette, tags={"model": "rf"}
    )
    path = tmp_path / "out" / "map.tif"
    write_cog(path, producer, blocksize=128, overview_levels=[2, 4, 512])
    with rasterio.open(path) as src:
        assert src.tags(ns="IMAGE_STRUCTURE")["LAYOUT"] == "COG"
        assert src.block_shapes[0] == (128, 128)
        assert src.overviews(1) == [2, 4]  # levels beyond the raster's size are dropped
        assert src.colormap(1)[1] == (215, 48, 31, 255) and src.colormap(1)[255][3] == 0
        assert src.descriptions == ("land_use",) and src.tags()["model"] == "rf"
        assert src.crs.to_epsg() == 32630 and src.transform == GRID.affine
        np.testing.assert_array_equal(src.read(), CLASSES)
    assert [p.name for p in path.parent.iterdir()] == ["map.tif"]


def test_the_window_size_does_not_change_the_file_content(tmp_path: Path) -> None:
    floats = np.random.default_rng(6).normal(size=(2, GRID.height, GRID.width)).astype("float32")
    arrays = []
    for window in (17, 64, 1000):
        path = tmp_path / f"w{window}.tif"
        write_cog(path, _producer(floats, window), overview_levels=[])
        with rasterio.open(path) as src:
            arrays.append(src.read())
    for a in arrays:
        np.testing.assert_array_equal(a, floats)


def test_a_failing_producer_leaves_no_output_and_no_temporaries(tmp_path: Path) -> None:
    def broken() -> Iterator[tuple[Window, np.ndarray]]:
        yield Window(0, 0, 10, 10), np.zeros((1, 10, 10), np.uint8)
        raise RuntimeError("model crashed in window 2")

    producer = RasterProducer(GRID, 1, "uint8", 255, broken)
    with pytest.raises(RuntimeError, match="window 2"):
        write_cog(tmp_path / "map.tif", producer)
    assert list(tmp_path.iterdir()) == []


def test_a_shared_pass_runs_once_for_all_its_outputs(tmp_path: Path) -> None:
    calls = []

    def blocks() -> Iterator[tuple[Window, dict[str, np.ndarray]]]:
        calls.append(1)
        for w in iter_windows(GRID.width, GRID.height, 50):
            classes = CLASSES[(slice(None), *w.toslices())]
            yield w, {"classes": classes, "double": (classes * 2).astype(np.uint8)}

    outputs = {
        "classes": {"count": 1, "dtype": "uint8", "nodata": 255, "band_names": ["class"]},
        "double": {"count": 1, "dtype": "uint8", "nodata": 255},
    }
    shared = SharedPass(GRID, blocks, outputs, window_size=64)
    write_cog(tmp_path / "classes.tif", shared.producer("classes"), overview_levels=[])
    write_cog(tmp_path / "double.tif", shared.producer("double"), overview_levels=[])
    assert len(calls) == 1
    with rasterio.open(tmp_path / "classes.tif") as a, rasterio.open(tmp_path / "double.tif") as b:
        np.testing.assert_array_equal(a.read(), CLASSES)
        np.testing.assert_array_equal(b.read(), CLASSES * 2)
        assert a.descriptions == ("class",)
    # The work folder goes once every output is written.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["classes.tif", "double.tif"]


def test_a_failing_shared_pass_leaves_nothing(tmp_path: Path) -> None:
    def blocks() -> Iterator[tuple[Window, dict[str, np.ndarray]]]:
        yield Window(0, 0, 5, 5), {"a": np.zeros((1, 5, 5), np.uint8)}
        raise MemoryError("out of memory")

    shared = SharedPass(GRID, blocks, {"a": {"count": 1, "dtype": "uint8", "nodata": 255}})
    with pytest.raises(MemoryError):
        write_cog(tmp_path / "a.tif", shared.producer("a"))
    assert list(tmp_path.iterdir()) == []
