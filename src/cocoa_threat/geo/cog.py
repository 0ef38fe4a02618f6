"""Cloud-Optimised GeoTIFFs written window by window (what large nodes return).

A node returns a :class:`RasterProducer` (the output grid and a generator of
windows); :class:`~cocoa_threat.datasets.RasterDataset` writes it with
:func:`write_cog`, so a raster of any size is written with bounded memory and
appears only when complete.

Several rasters that come out of one expensive pass (a class map and its class
probabilities) are the outputs of one :class:`SharedPass`: each is its own
catalog entry, and the pass runs once, when the first of them is written.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import weakref
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import rasterio
import rasterio.shutil
from rasterio.crs import CRS
from rasterio.enums import Resampling
from rasterio.windows import Window

from cocoa_threat.geo.grid import GridSpec, iter_windows

Blocks = Callable[[], Iterator[tuple[Window, np.ndarray]]]


@dataclass
class RasterProducer:
    """A raster computed window by window, written by the catalog.

    Attributes:
        grid: The output grid.
        count: Number of bands.
        dtype: Output dtype name.
        nodata: Output nodata value.
        blocks: Callable returning an iterator of ``(window, array)`` that
            together cover the grid; ``array`` is (count, rows, cols).
        band_names: Band descriptions.
        colormap: Optional colour table of band 1 {value: (r, g, b, a)}.
        tags: Metadata tags.
        shared: The pass this raster comes out of, if it shares one.
    """

    grid: GridSpec
    count: int
    dtype: str
    nodata: float | None
    blocks: Blocks
    band_names: list[str] | None = None
    colormap: dict[int, tuple[int, int, int, int]] | None = None
    tags: dict[str, str] = field(default_factory=dict)
    shared: SharedPass | None = None


def _profile(producer: RasterProducer, blocksize: int) -> dict[str, Any]:
    """A tiled GeoTIFF for the windows as they come, uncompressed: compressing happens
    once, when the finished file is copied to the COG layout (the Kedro process writes
    every window, so this keeps it from being the bottleneck of a cluster)."""
    grid = producer.grid
    return {
        "driver": "GTiff",
        "width": grid.width,
        "height": grid.height,
        "count": producer.count,
        "dtype": producer.dtype,
        "crs": CRS.from_user_input(grid.crs),
        "transform": grid.affine,
        "nodata": producer.nodata,
        "tiled": True,
        "blockxsize": blocksize,
        "blockysize": blocksize,
        "BIGTIFF": "IF_SAFER",
    }


class SharedPass:
    """Several rasters computed in one pass over windows, each written as its own output.

    ``blocks`` yields ``(window, {name: array})``. The first output written
    runs the whole pass into work GeoTIFFs (in a hidden folder beside it); each
    output is then copied from its work file. The work folder goes when every
    output is written (or when the pass is dropped).
    """

    def __init__(
        self,
        grid: GridSpec,
        blocks: Callable[[], Iterator[tuple[Window, dict[str, np.ndarray]]]],
        outputs: dict[str, dict[str, Any]],
        window_size: int = 1024,
    ) -> None:
        """Describe the pass.

        Args:
            grid: The grid of every output.
            blocks: The pass: ``(window, {name: (count, rows, cols) array})``.
            outputs: Per name: ``count``, ``dtype``, ``nodata`` and optionally
                ``band_names``, ``colormap``, ``tags``.
            window_size: Windows in which outputs are copied from the work files.
        """
        self.grid = grid
        self._blocks = blocks
        self._outputs = outputs
        self._window = window_size
        self._work: Path | None = None
        self._left = set(outputs)

    def producer(self, name: str) -> RasterProducer:
        """The raster ``name``, to return from a node (one catalog output each)."""
        spec = self._outputs[name]
        return RasterProducer(
            grid=self.grid,
            count=spec["count"],
            dtype=spec["dtype"],
            nodata=spec["nodata"],
            blocks=lambda: self._read(name),
            band_names=spec.get("band_names"),
            colormap=spec.get("colormap"),
            tags=spec.get("tags", {}),
            shared=self,
        )

    def run(self, where: Path) -> None:
        """Run the pass once (into a work folder inside ``where``)."""
        if self._work is not None:
            return
        where.mkdir(parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(prefix=".shared-pass.partial-", dir=where))
        weakref.finalize(self, shutil.rmtree, work, True)
        try:
            with rasterio.Env(GDAL_CACHEMAX=256):
                dsts = {
                    name: rasterio.open(
                        work / f"{name}.tif",
                        "w",
                        **_profile(self.producer(name), 256),
                    )
                    for name in self._outputs
                }
                try:
                    for window, arrays in self._blocks():
                        for name, array in arrays.items():
                            dsts[name].write(
                                array.astype(self._outputs[name]["dtype"], copy=False),
                                window=window,
                            )
                finally:
                    for dst in dsts.values():
                        dst.close()
        except BaseException:
            shutil.rmtree(work, ignore_errors=True)
            raise
        self._work = work

    def _read(self, name: str) -> Iterator[tuple[Window, np.ndarray]]:
        if self._work is None:
            raise RuntimeError("SharedPass.run must come before its outputs are read")
        with rasterio.open(self._work / f"{name}.tif") as src:
            for window in iter_windows(self.grid.width, self.grid.height, self._window):
                yield window, src.read(window=window)
        self._left.discard(name)
        if not self._left:
            shutil.rmtree(self._work, ignore_errors=True)


def _finish(dst: Any, producer: RasterProducer, levels: list[int], resampling: str) -> None:
    if producer.band_names:
        for i, name in enumerate(producer.band_names, start=1):
            dst.set_band_description(i, name)
    if producer.colormap:
        dst.write_colormap(1, producer.colormap)
    if producer.tags:
        dst.update_tags(**producer.tags)
    if levels:
        dst.build_overviews(levels, Resampling[resampling])


def write_cog(
    path: str | os.PathLike[str],
    producer: RasterProducer,
    blocksize: int = 256,
    overview_levels: Iterable[int] = (2, 4, 8, 16),
    overview_resampling: str = "nearest",
    compress: str = "deflate",
    level: int | None = None,
    gdal_cache_mb: int = 256,
) -> None:
    """Write a producer's windows to a Cloud-Optimised GeoTIFF.

    Windows go to a tiled, uncompressed temporary GeoTIFF beside the destination
    (as large as the raw raster), which gets overviews and is then copied, compressed,
    to the COG layout; the destination appears only when complete.
    GDAL's block cache is capped at ``gdal_cache_mb`` so memory stays bounded
    (GDAL's default grows to 5% of the machine's memory). ``level`` is the
    compression level (None: GDAL's default; DEFLATE 1 is about 4x faster than the
    default 6 and, on float rasters, barely larger); the copy compresses on every core.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if producer.shared is not None:
        producer.shared.run(path.parent)
    grid = producer.grid
    levels = [lv for lv in overview_levels if lv < max(grid.width, grid.height)]
    tmpdir = Path(tempfile.mkdtemp(prefix=f".{path.stem}.partial-", dir=path.parent))
    try:
        with rasterio.Env(GDAL_CACHEMAX=gdal_cache_mb):
            work = tmpdir / "work.tif"
            with rasterio.open(work, "w", **_profile(producer, blocksize)) as dst:
                for window, array in producer.blocks():
                    dst.write(array.astype(producer.dtype, copy=False), window=window)
                _finish(dst, producer, levels, overview_resampling)
            cog = tmpdir / "cog.tif"
            rasterio.shutil.copy(
                work,
                cog,
                driver="COG",
                COMPRESS=compress.upper(),
                **({"LEVEL": level} if level is not None else {}),
                NUM_THREADS="ALL_CPUS",
                BLOCKSIZE=blocksize,
                OVERVIEWS="FORCE_USE_EXISTING" if levels else "NONE",
                BIGTIFF="IF_SAFER",
            )
        os.replace(cog, path)
    finally:
        shutil.rmtree(tmpdir, ignore_errors=True)
