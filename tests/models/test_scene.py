"""The windowed inference engine: no seams, bounded windows, Dask gives the same map."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import rasterio
from scipy import ndimage

from cocoa_threat.geo.cog import write_cog
from cocoa_threat.geo.grid import RasterSource
from cocoa_threat.models.base import scaled_from_proba
from cocoa_threat.models.scene import SceneSettings, produce_class_map, resolve_band_indexes
from tests.conftest import write_tile

NODATA = -9999.0


class BoxModel:
    """Class 1 where the 9 x 9 mean of band 1 exceeds 0.2: it needs 4 px of context."""

    class_names = ["background", "mining"]

    def predict_proba(self, raw: np.ndarray) -> np.ndarray:
        x = np.where(raw[:, 0] == NODATA, 0.0, raw[:, 0])
        mean = np.stack([ndimage.uniform_filter(a, 9, mode="constant") for a in x])
        p1 = (mean > 0.2).astype(np.float32)
        return np.stack([1 - p1, p1], axis=1)

    def predict_scaled(self, raw: np.ndarray, scale: int, crop: int = 0) -> tuple:
        return scaled_from_proba(self.predict_proba(raw), scale, crop)


def _stripes(tmp_path: Path, size: int = 96) -> RasterSource:
    rr, cc = np.mgrid[:size, :size]
    band = ((np.abs(rr - cc) < 3) | (np.abs(rr + cc - 100) < 2)).astype(np.float32)
    path = write_tile(tmp_path / "scene.tif", band[None], nodata=NODATA)
    return RasterSource.open(path)


def _run(
    source: RasterSource, margin: int, tmp_path: Path, name: str, model: Any = None, **kw: Any
) -> np.ndarray:
    settings = SceneSettings(
        band_indexes=(1,),
        image_nodata=NODATA,
        window_size=32,
        context_margin=margin,
        batch_windows=3,
        progress=False,
    )
    out = tmp_path / f"{name}.tif"
    classes, _ = produce_class_map(source, model or BoxModel(), settings, **kw)
    write_cog(out, classes, overview_levels=[2])
    with rasterio.open(out) as src:
        return src.read(1)


def test_context_margin_removes_seams(tmp_path: Path) -> None:
    source = _stripes(tmp_path)
    whole = BoxModel().predict_proba(source.read()[None]).argmax(axis=1)[0]
    seamless = _run(source, margin=8, tmp_path=tmp_path, name="margin8")
    np.testing.assert_array_equal(seamless, whole)
    seams = _run(source, margin=0, tmp_path=tmp_path, name="margin0")
    differs = np.argwhere(seams != whole)
    assert len(differs) > 0  # without context the pattern breaks at window borders
    near_border = (differs % 32 < 4) | (differs % 32 >= 28)
    assert near_border.any(axis=1).all()


def test_dask_local_cluster_gives_the_same_map(tmp_path: Path, dask_compute: Any) -> None:
    source = _stripes(tmp_path)
    single = _run(source, margin=8, tmp_path=tmp_path, name="single")
    distributed = _run(source, margin=8, tmp_path=tmp_path, name="dask", compute=dask_compute)
    np.testing.assert_array_equal(distributed, single)
    assert len(np.unique(single)) == 2  # both classes: the comparison can fail


def test_a_failing_batch_names_its_windows(tmp_path: Path) -> None:
    from cocoa_threat.geo.compute import WindowError

    source = _stripes(tmp_path)
    with pytest.raises(WindowError, match=r"inference batch at rows 0-32, cols 0-96 .*boom"):
        _run(source, margin=8, tmp_path=tmp_path, name="broken", model=Broken())
    assert not (tmp_path / "broken.tif").exists()


class Broken(BoxModel):
    def predict_proba(self, raw: np.ndarray) -> np.ndarray:
        raise RuntimeError("boom")


def test_probabilities_and_cog_layout(tmp_path: Path) -> None:
    source = _stripes(tmp_path)
    settings = SceneSettings(
        band_indexes=(1,),
        image_nodata=NODATA,
        window_size=32,
        context_margin=8,
        colormap={0: (200, 200, 200, 255), 1: (255, 0, 0, 255)},
        progress=False,
    )
    classes_out, probabilities_out = produce_class_map(source, BoxModel(), settings)
    out, probs_path = tmp_path / "map.tif", tmp_path / "probabilities.tif"
    # Two catalog outputs of one pass: the pass runs once, for the first written.
    calls = {"n": 0}
    original = BoxModel.predict_proba

    def counted(self: BoxModel, raw: np.ndarray) -> np.ndarray:
        calls["n"] += 1
        return original(self, raw)

    BoxModel.predict_proba = counted  # type: ignore[method-assign]
    try:
        write_cog(out, classes_out, blocksize=32, overview_levels=[2])
        after_first = calls["n"]
        write_cog(probs_path, probabilities_out, blocksize=32, overview_levels=[2])
    finally:
        BoxModel.predict_proba = original  # type: ignore[method-assign]
    assert after_first > 0 and calls["n"] == after_first
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".shared-pass")]
    with rasterio.open(out) as src:
        assert src.tags(ns="IMAGE_STRUCTURE").get("LAYOUT") == "COG"
        assert src.overviews(1) == [2]
        assert src.colormap(1)[1] == (255, 0, 0, 255)
        assert src.crs.to_epsg() == 32630 and src.nodata == 255
        classes = src.read(1)
    with rasterio.open(probs_path) as src:
        probs = src.read()
        assert src.count == 2 and src.dtypes[0] == "uint8"
    assert ((probs[1] > 127) == (classes == 1)).all()


def test_band_matching(tmp_path: Path) -> None:
    source = _stripes(tmp_path)
    assert resolve_band_indexes(source, ["BLUE"]) == (1,)
    with pytest.raises(ValueError, match="inference.scene.band_indexes"):
        resolve_band_indexes(source, ["BLUE", "GREEN"])
    with pytest.raises(ValueError, match="outside 1..1"):
        resolve_band_indexes(source, ["BLUE"], [2])
