"""The project's Kedro datasets on generated files: round trips, missing files, atomic saves."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import matplotlib.pyplot as plt
import numpy as np
import pytest
from affine import Affine
from kedro.io import DatasetError
from rasterio.crs import CRS
from shapely.geometry import box

from cocoa_threat.datasets import (
    FigureDataset,
    OptionalJSONDataset,
    RasterDataset,
    RawDataset,
    RawStampDataset,
    VectorDataset,
)
from cocoa_threat.geo.cog import RasterProducer
from cocoa_threat.geo.grid import GridSpec, RasterSource
from cocoa_threat.geo.raster import Raster
from cocoa_threat.raw import UNCHANGED, MissingRawInput, RawFolder, RawProduct, require

UTM = CRS.from_epsg(32630)


def _raster(seed: int = 0, shape: tuple[int, int, int] = (2, 9, 11)) -> Raster:
    data = np.random.default_rng(seed).normal(size=shape).astype(np.float32)
    return Raster(data, Affine(10, 0, 600000, 0, -10, 700000), UTM, -9999.0, ["A", "B"])


def test_a_whole_raster_round_trip_and_errors(tmp_path: Path) -> None:
    eager = {"lazy": False}
    ds = RasterDataset(str(tmp_path / "a" / "x.tif"), eager, save_args={"compress": "deflate"})
    assert not ds.exists()
    ds.save(_raster())
    back = ds.load()
    assert isinstance(back, Raster)  # read whole (lazy: false)
    np.testing.assert_array_equal(back.data, _raster().data)
    assert back.band_names == ["A", "B"] and back.crs == UTM
    with pytest.raises(DatasetError, match="can't save a ndarray"):
        ds.save(np.zeros((2, 2)))
    with pytest.raises(DatasetError, match=r"missing.tif does not exist"):
        RasterDataset(str(tmp_path / "missing.tif"), eager).load()
    with pytest.raises(DatasetError, match=r"unknown load_args \['lazy_'\]"):
        RasterDataset(str(tmp_path / "x.tif"), {"lazy_": False})


def test_raster_dataset_saves_producers_rasters_and_refuses_the_rest(tmp_path: Path) -> None:
    grid = GridSpec.of(UTM, Affine(10, 0, 0, 0, -10, 0), 40, 30)
    data = np.arange(1200, dtype=np.float32).reshape(1, 30, 40)
    producer = RasterProducer(grid, 1, "float32", None, lambda: iter([(grid_window(grid), data)]))
    ds = RasterDataset(str(tmp_path / "p.tif"), save_args={"overview_levels": []})
    ds.save(producer)
    source = ds.load()
    assert isinstance(source, RasterSource) and source.grid.same_as(grid)
    np.testing.assert_array_equal(source.read(), data)
    small = RasterDataset(str(tmp_path / "small.tif"))
    small.save(_raster())
    assert small.load().count == 2
    with pytest.raises(DatasetError, match=r"can't save a dict; return a RasterProducer"):
        RasterDataset(str(tmp_path / "x.tif")).save({})
    with pytest.raises(DatasetError, match=r"nothing.tif does not exist; run the pipeline"):
        RasterDataset(str(tmp_path / "nothing.tif")).load()


def grid_window(grid: GridSpec):  # noqa: ANN201 - a rasterio Window
    from rasterio.windows import Window

    return Window(0, 0, grid.width, grid.height)


def test_vector_round_trip(tmp_path: Path) -> None:
    frame = gpd.GeoDataFrame({"district": ["A", "B"]}, geometry=[box(0, 0, 1, 1), box(1, 0, 2, 1)])
    ds = VectorDataset(str(tmp_path / "d.gpkg"), save_args={"driver": "GPKG", "layer": "d"})
    ds.save(frame.set_crs(UTM))
    back = ds.load()
    assert list(back["district"]) == ["A", "B"] and back.crs == UTM
    assert [p.name for p in tmp_path.iterdir()] == ["d.gpkg"]
    with pytest.raises(DatasetError, match="point the catalog entry at your file"):
        VectorDataset(str(tmp_path / "none.gpkg")).load()


def test_optional_datasets_load_none_when_missing(tmp_path: Path) -> None:
    assert OptionalJSONDataset(filepath=str(tmp_path / "m.json")).load() is None
    OptionalJSONDataset(filepath=str(tmp_path / "m.json")).save({"miou": 0.5})
    assert OptionalJSONDataset(filepath=str(tmp_path / "m.json")).load() == {"miou": 0.5}
    assert FigureDataset(filepath=str(tmp_path / "f.png"), missing_ok=True).load() is None
    with pytest.raises(DatasetError, match="run the pipeline that draws it first"):
        FigureDataset(filepath=str(tmp_path / "f.png")).load()
    fig, ax = plt.subplots()
    ax.plot([0, 1])
    FigureDataset(filepath=str(tmp_path / "f.png")).save(fig)
    assert FigureDataset(filepath=str(tmp_path / "f.png")).load()[:4] == b"\x89PNG"


# ---- raw inputs ------------------------------------------------------------------------
def _product(fingerprint: str, *values: object) -> RawProduct:
    data = {f"t{i + 1}": v for i, v in enumerate(values or (_raster(1), _raster(2)))}
    return RawProduct({"fingerprint": fingerprint, "tiles": len(data)}, data=data)


def _raw(tmp_path: Path) -> RawDataset:
    return RawDataset(
        str(tmp_path / "raw" / "tiles"),
        dataset={
            "type": "partitions.PartitionedDataset",
            "dataset": "cocoa_threat.datasets.RasterDataset",
            "filename_suffix": ".tif",
        },
        hint="Download SmallMinesDS with `kedro run --env=smallminesds`.",
    )


def test_a_raw_input_is_written_with_its_stamp_and_never_rewritten_unchanged(
    tmp_path: Path,
) -> None:
    ds, stamp = _raw(tmp_path), RawStampDataset(str(tmp_path / "raw" / "tiles"))
    missing = ds.load()
    assert isinstance(missing, MissingRawInput) and stamp.load() is None
    with pytest.raises(FileNotFoundError, match="tiles does not exist. Download SmallMinesDS"):
        require(missing, "raw_tiles")
    ds.save(_product("v1"))
    folder = ds.load()
    assert isinstance(folder, RawFolder) and sorted(folder.partitions) == ["t1", "t2"]
    assert stamp.load() == {"fingerprint": "v1", "tiles": 2}
    mtime = (ds.path / "t1.tif").stat().st_mtime_ns
    ds.save(UNCHANGED)  # up to date: nothing is written
    assert (ds.path / "t1.tif").stat().st_mtime_ns == mtime
    ds.save(_product("v2", _raster(3)))  # a new product replaces the folder whole
    assert sorted(ds.load().partitions) == ["t1"] and stamp.load()["fingerprint"] == "v2"
    with pytest.raises(DatasetError, match="written by its raw input only"):
        stamp.save({})  # type: ignore[arg-type]


def test_files_are_placed_byte_for_byte(tmp_path: Path) -> None:
    cached = tmp_path / "cache" / "x.tif"
    RasterDataset(str(cached)).save(_raster(4))
    ds = _raw(tmp_path)
    ds.save(RawProduct({"fingerprint": "hub"}, files={"2016/IMAGE/x.tif": cached}))
    placed = ds.path / "2016" / "IMAGE" / "x.tif"
    assert placed.read_bytes() == cached.read_bytes()
    assert sorted(ds.load().partitions) == ["2016/IMAGE/x"]


def test_an_interrupted_raw_write_keeps_the_old_input_and_leaves_no_temporary(
    tmp_path: Path,
) -> None:
    ds = _raw(tmp_path)
    ds.save(_product("v1"))
    with pytest.raises(DatasetError):
        ds.save(_product("v2", _raster(1), "not a raster"))
    assert sorted(p.name for p in ds.path.parent.iterdir()) == ["tiles"]
    assert json.loads((ds.path / ".stamp.json").read_text())["fingerprint"] == "v1"
    with pytest.raises(DatasetError, match="only the acquisition pipelines write it"):
        ds.save("tiles")  # type: ignore[arg-type]


def test_two_writers_at_once_leave_one_complete_input(tmp_path: Path) -> None:
    import threading

    barrier = threading.Barrier(2)

    def slow() -> Raster:  # a lazily saved partition: both are half-way before either renames
        barrier.wait(timeout=10)
        return _raster(2)

    errors: list[BaseException] = []

    def save() -> None:
        try:
            _raw(tmp_path).save(_product("v1", _raster(1), slow))
        except BaseException as exc:  # noqa: BLE001 - collected for the assertion
            errors.append(exc)

    threads = [threading.Thread(target=save) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(errors) <= 1
    folder = _raw(tmp_path).load()
    assert sorted(folder.partitions) == ["t1", "t2"]
    assert sorted(p.name for p in (tmp_path / "raw").iterdir()) == ["tiles"]


def test_a_survey_in_latin_1_says_how_to_read_it(tmp_path: Path) -> None:
    path = tmp_path / "survey.csv"
    path.write_bytes("site,lon,lat,hg_ng_m3\nDompoase Akyé,-1.9,6.3,3.1\n".encode("latin-1"))
    ds = RawDataset(str(path), dataset="pandas.CSVDataset")
    with pytest.raises(DatasetError, match=r"survey\.csv is not UTF-8.*encoding: latin-1"):
        ds.load()
    latin = RawDataset(
        str(path), dataset={"type": "pandas.CSVDataset", "load_args": {"encoding": "latin-1"}}
    )
    assert latin.load()["site"].tolist() == ["Dompoase Akyé"]  # the advice works


def test_image_folder_writes_every_image_and_swaps_whole(tmp_path: Path) -> None:
    from PIL import Image

    from cocoa_threat.datasets import ImageFolderDataset

    folder = tmp_path / "chips"
    ds = ImageFolderDataset(path=str(folder))
    assert ds.load() == {} and not ds.exists()
    red = Image.new("RGB", (4, 4), (255, 0, 0))
    ds.save({"point_00001": red, "point_00002": lambda: red})
    assert sorted(ds.load()) == ["point_00001", "point_00002"]

    def broken() -> Image.Image:
        raise RuntimeError("chip failed")

    with pytest.raises(Exception, match="chip failed"):
        ds.save({"point_00003": red, "point_00004": broken})
    assert sorted(ds.load()) == ["point_00001", "point_00002"]  # the old folder is whole
    assert sorted(p.name for p in tmp_path.iterdir()) == ["chips"]  # nothing half-written
    ds.save({"point_00009": red})
    assert sorted(ds.load()) == ["point_00009"]


def test_image_folder_keeps_the_old_folder_when_the_swap_fails_or_is_killed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import os

    from PIL import Image

    from cocoa_threat.datasets import ImageFolderDataset
    from cocoa_threat.locking import sweep_partials

    folder = tmp_path / "chips"
    ds = ImageFolderDataset(path=str(folder))
    red = Image.new("RGB", (4, 4), (255, 0, 0))
    ds.save({"point_00001": red})
    real_replace = os.replace

    def failing(src: str | Path, dst: str | Path) -> None:
        if ".partial" in Path(src).name and not Path(src).name.endswith("-old"):
            raise OSError("disk full")  # the new folder can't take its place
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", failing)
    with pytest.raises(Exception, match="Failed while saving"):  # Kedro's, from ours
        ds.save({"point_00002": red})
    monkeypatch.undo()
    assert sorted(ds.load()) == ["point_00001"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["chips"]
    # A run killed between the two moves: the lock's sweep puts the old folder back.
    real_replace(folder, tmp_path / ".chips.0123456789ab.partial-old")
    sweep_partials(tmp_path)
    assert sorted(ds.load()) == ["point_00001"]


def test_optional_csv_loads_none_when_absent_and_the_table_otherwise(tmp_path: Path) -> None:
    import pandas as pd

    from cocoa_threat.datasets import OptionalCSVDataset

    ds = OptionalCSVDataset(filepath=str(tmp_path / "labels.csv"))
    assert ds.load() is None
    ds.save(pd.DataFrame({"id": [1], "reference_class": ["mining"]}))
    assert ds.load()["reference_class"].tolist() == ["mining"]
