"""Mosaics of tiles as VRTs with relative paths: still readable after the project moves."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cocoa_threat.datasets import RasterDataset
from cocoa_threat.geo.vrt import tile_mosaic
from tests.conftest import write_tile


def _manifest(root: Path) -> pd.DataFrame:
    rows = []
    for i, (x0, w) in enumerate([(616000.0, 32), (616320.0, 20)]):
        data = np.full((2, 32, w), i + 1, np.float32)
        data[:, 0, 0] = -9999.0
        path = write_tile(root / "tiles" / f"t{i}.tif", data, origin=(x0, 713000.0))
        rows.append(
            {
                "year": 2016,
                "image_path": str(path.relative_to(root)),
                "minx": x0,
                "maxy": 713000.0,
                "maxx": x0 + 10 * w,
                "miny": 713000.0 - 320,
                "width": w,
                "height": 32,
                "crs": "EPSG:32630",
            }
        )
    return pd.DataFrame(rows)


def test_mosaic_places_tiles_and_survives_a_move(tmp_path: Path, monkeypatch) -> None:
    project = tmp_path / "project"
    monkeypatch.chdir(tmp_path)
    manifest = _manifest(project)
    monkeypatch.chdir(project)  # catalog paths are relative to the project
    spec = tile_mosaic(manifest, "image_path", 2, -9999.0, ["A", "B"])
    RasterDataset("mosaic/input.vrt").save(spec)
    xml = Path("mosaic/input.vrt").read_text()
    assert 'relativeToVRT="1">../tiles/t0.tif<' in xml and str(tmp_path) not in xml
    data = RasterDataset("mosaic/input.vrt").load().read()
    assert data.shape == (2, 32, 52)
    assert (data[:, 1:, :32] == 1).all() and (data[:, 1:, 32:] == 2).all()
    assert (data[:, 0, [0, 32]] == -9999.0).all()  # each tile's nodata stays nodata
    # Move (or copy) the whole project: the mosaic still opens and reads the same.
    moved = tmp_path / "elsewhere"
    shutil.move(project, moved)
    monkeypatch.chdir(moved)
    np.testing.assert_array_equal(RasterDataset("mosaic/input.vrt").load().read(), data)


def test_continuous_mosaics_resample_bilinearly_classes_by_nearest(
    tmp_path: Path, monkeypatch
) -> None:
    import rasterio

    monkeypatch.chdir(tmp_path)
    ramp = np.broadcast_to(np.arange(32, dtype=np.float32), (1, 32, 32)).copy()
    path = write_tile(tmp_path / "tiles" / "t.tif", ramp, origin=(616000.0, 713000.0))
    row = {"year": 2016, "image_path": "tiles/t.tif", "minx": 616000.0, "maxy": 713000.0}
    row |= {"maxx": 616320.0, "miny": 712680.0, "width": 32, "height": 32, "crs": "EPSG:32630"}
    manifest = pd.DataFrame([row])
    assert path.is_file()
    reads = {}
    for resampling in ("nearest", "bilinear"):
        spec = tile_mosaic(manifest, "image_path", 1, -9999.0, resampling=resampling)
        RasterDataset(f"{resampling}.vrt").save(spec)
        assert f'<ComplexSource resampling="{resampling}">' in Path(f"{resampling}.vrt").read_text()
        with rasterio.open(f"{resampling}.vrt") as src:
            # On the mosaic's own grid every tile is copied pixel for pixel ...
            np.testing.assert_array_equal(src.read(), ramp)
            # ... at another resolution the source's resampling applies.
            reads[resampling] = src.read(1, out_shape=(12, 12))
    assert np.array_equal(reads["nearest"], np.round(reads["nearest"]))  # picked pixels
    assert not np.array_equal(reads["bilinear"], np.round(reads["bilinear"]))  # interpolated
    with pytest.raises(ValueError, match="VRT resampling must be one of"):
        tile_mosaic(manifest, "image_path", 1, -9999.0, resampling="mode")
