"""Cloud-Optimised GeoTIFFs written window by window (what large nodes return).

A node returns a :class:`RasterProducer` (the output grid and a generator of
windows); :class:`~cocoa_threat.datasets.RasterDataset` writes it with
:func:`write_cog`, so a raster of any size is written with bounded memory and
appears only when complete.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import rasterio
import rasterio.shutil
from rasterio.crs import CRS
from rasterio.enums import Resampling
from rasterio.windows import Window

from cocoa_threat.geo.grid import GridSpec


@dataclass
class RasterProducer:
    """A raster computed window by window, written by the catalog (what large nodes return).

    Attributes:
        grid: The output grid.
        count: Number of bands.
        dtype: Output dtype name.
        nodata: Output nodata value.
        blocks: Callable returning an iterator of ``(window, array, extras)``
            that together cover the grid; ``array`` is (count, rows, cols) and
            ``extras`` maps each name of ``extras`` to its own array (or is {}).
        band_names: Band descriptions.
        colormap: Optional colour table of band 1 {value: (r, g, b, a)}.
        tags: Metadata tags.
        extras: Companion rasters written in the same pass, e.g. class
            probabilities next to a class map: name -> spec (its own ``blocks``
            is unused). Written as ``<stem>_<name>.tif``.
    """

    grid: GridSpec
    count: int
    dtype: str
    nodata: float | None
    blocks: Callable[[], Iterator[tuple[Window, np.ndarray, dict[str, np.ndarray]]]]
    band_names: list[str] | None = None
    colormap: dict[int, tuple[int, int, int, int]] | None = None
    tags: dict[str, str] = field(default_factory=dict)
    extras: dict[str, RasterProducer] = field(default_factory=dict)

    def companion_path(self, path: str | os.PathLike[str], name: str) -> Path:
        """Where the companion raster ``name`` of a raster written at ``path`` goes."""
        path = Path(path)
        return path.with_name(f"{path.stem}_{name}{path.suffix}")


def _profile(producer: RasterProducer, blocksize: int, compress: str) -> dict[str, Any]:
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
        "compress": compress,
        "BIGTIFF": "IF_SAFER",
    }


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
    gdal_cache_mb: int = 256,
) -> None:
    """Write a producer's windows (and its companions) to Cloud-Optimised GeoTIFFs.

    Windows go to tiled temporary GeoTIFFs, which get overviews and are then
    copied to the COG layout; the destinations appear only when all are complete.
    GDAL's block cache is capped at ``gdal_cache_mb`` so memory stays bounded
    (GDAL's default grows to 5% of the machine's memory).
    """
    with rasterio.Env(GDAL_CACHEMAX=gdal_cache_mb):
        _write_cog(path, producer, blocksize, overview_levels, overview_resampling, compress)


def _write_cog(
    path: str | os.PathLike[str],
    producer: RasterProducer,
    blocksize: int,
    overview_levels: Iterable[int],
    overview_resampling: str,
    compress: str,
) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    grid = producer.grid
    levels = [lv for lv in overview_levels if lv < max(grid.width, grid.height)]
    outputs = {"": (path, producer)} | {
        name: (producer.companion_path(path, name), spec) for name, spec in producer.extras.items()
    }
    tmpdir = Path(tempfile.mkdtemp(prefix=f".{path.stem}.", dir=path.parent))
    try:
        with ExitStack() as stack:
            dsts = {
                name: stack.enter_context(
                    rasterio.open(
                        tmpdir / f"work{name}.tif", "w", **_profile(spec, blocksize, compress)
                    )
                )
                for name, (_, spec) in outputs.items()
            }
            for window, array, extras in producer.blocks():
                dsts[""].write(array.astype(producer.dtype, copy=False), window=window)
                for name, extra in extras.items():
                    dsts[name].write(
                        extra.astype(outputs[name][1].dtype, copy=False), window=window
                    )
            for name, (_, spec) in outputs.items():
                _finish(dsts[name], spec, levels, overview_resampling)
        finals = []
        for name, (dest, _) in outputs.items():
            cog = tmpdir / f"cog{name}.tif"
            rasterio.shutil.copy(
                tmpdir / f"work{name}.tif",
                cog,
                driver="COG",
                COMPRESS=compress.upper(),
                BLOCKSIZE=blocksize,
                OVERVIEWS="FORCE_USE_EXISTING" if levels else "NONE",
                BIGTIFF="IF_SAFER",
            )
            finals.append((cog, dest))
        for cog, dest in finals:
            os.replace(cog, dest)
    finally:
        shutil.rmtree(tmpdir, ignore_errors=True)
