"""Windowed raster processing: the one place that reads and writes big rasters by window.

Nodes never open rasters by path. Large rasters travel through the catalog as a
lazy :class:`RasterSource` (load) or a :class:`RasterProducer` (save), and this
module does the windowed reads and writes, so memory stays bounded whatever the
raster's size.
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
from xml.sax.saxutils import escape

import numpy as np
import rasterio
import rasterio.shutil
from affine import Affine
from rasterio.crs import CRS
from rasterio.enums import Resampling
from rasterio.windows import Window


@dataclass(frozen=True)
class GridSpec:
    """The pixel grid of a raster: CRS, transform and size."""

    crs: str
    transform: tuple[float, ...]
    width: int
    height: int

    @property
    def affine(self) -> Affine:
        """The transform as an :class:`~affine.Affine`."""
        return Affine(*self.transform[:6])

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """(minx, miny, maxx, maxy)."""
        return rasterio.transform.array_bounds(self.height, self.width, self.affine)[:4]

    @property
    def pixel_area(self) -> float:
        """Area of one pixel in map units squared."""
        return abs(self.transform[0] * self.transform[4])

    def hectares(self, pixels: Any) -> Any:
        """Area of ``pixels`` pixels in hectares (map units: metres)."""
        return pixels * self.pixel_area / 10_000.0

    def same_as(self, other: GridSpec, tol: float = 1e-6) -> bool:
        """Whether two grids are the same (CRS, size and transform)."""
        return (
            CRS.from_user_input(self.crs) == CRS.from_user_input(other.crs)
            and (self.width, self.height) == (other.width, other.height)
            and np.allclose(self.transform[:6], other.transform[:6], atol=tol)
        )


@dataclass(frozen=True)
class RasterSource:
    """A raster on disk, read lazily by window (what large-raster datasets load)."""

    path: str
    grid: GridSpec
    count: int
    dtype: str
    nodata: float | None
    band_names: tuple[str | None, ...]

    @classmethod
    def open(cls, path: str | os.PathLike[str]) -> RasterSource:
        """Read the header of ``path``."""
        with rasterio.open(path) as src:
            return cls(
                path=str(path),
                grid=GridSpec(
                    crs=src.crs.to_string() if src.crs else "",
                    transform=tuple(src.transform)[:6],
                    width=src.width,
                    height=src.height,
                ),
                count=src.count,
                dtype=src.dtypes[0],
                nodata=src.nodata,
                band_names=tuple(src.descriptions),
            )

    def read(
        self,
        window: Window | None = None,
        bands: list[int] | None = None,
        fill: float | None = None,
    ) -> np.ndarray:
        """Read bands (1-based) of a window; parts outside the raster get ``fill``.

        Args:
            window: Window to read (None = everything).
            bands: 1-based band indexes (None = all).
            fill: Value outside the raster (default: the nodata value, else 0).

        Returns:
            (bands, rows, cols) array.
        """
        with rasterio.open(self.path) as src:
            indexes = bands or list(range(1, self.count + 1))
            if window is None:
                return src.read(indexes)
            fill_value = (
                fill if fill is not None else (self.nodata if self.nodata is not None else 0)
            )
            # Read the part inside the raster and pad with numpy: much faster than
            # rasterio's boundless reads, which go through a warped VRT.
            col0, row0 = int(window.col_off), int(window.row_off)
            cols, rows = int(window.width), int(window.height)
            c0, r0 = max(col0, 0), max(row0, 0)
            c1, r1 = min(col0 + cols, self.grid.width), min(row0 + rows, self.grid.height)
            out = np.full((len(indexes), rows, cols), fill_value, dtype=self.dtype)
            if c1 > c0 and r1 > r0:
                out[:, r0 - row0 : r1 - row0, c0 - col0 : c1 - col0] = src.read(
                    indexes, window=Window(c0, r0, c1 - c0, r1 - r0)
                )
            return out

    def read_overview(self, max_size: int = 1024, band: int = 1) -> np.ndarray:
        """A decimated read of one band (uses overviews when present) for quicklooks."""
        scale = max(1.0, max(self.grid.width, self.grid.height) / max_size)
        shape = (max(1, int(self.grid.height / scale)), max(1, int(self.grid.width / scale)))
        with rasterio.open(self.path) as src:
            return src.read(band, out_shape=shape, resampling=Resampling.nearest)


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


def iter_windows(width: int, height: int, size: int) -> Iterator[Window]:
    """Windows of ``size`` x ``size`` pixels covering a raster, row by row."""
    for row in range(0, height, size):
        for col in range(0, width, size):
            yield Window(col, row, min(size, width - col), min(size, height - row))


def expand(window: Window, margin: int) -> Window:
    """The window grown by ``margin`` pixels on every side (may leave the raster)."""
    return Window(
        window.col_off - margin,
        window.row_off - margin,
        window.width + 2 * margin,
        window.height + 2 * margin,
    )


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


def mosaic_vrt(
    tiles: list[tuple[str, float, float, int, int]],
    extent: tuple[float, float, float, float],
    crs: str,
    pixel_size: float,
    count: int,
    dtype: str,
    nodata: float,
    band_names: list[str] | None = None,
    source_bands: list[int] | None = None,
) -> str:
    """A GDAL VRT that mosaics GeoTIFF tiles by their georeference.

    Args:
        tiles: (path, minx, maxy, width_px, height_px) of each tile file, all on
            one grid; parts outside ``extent`` (e.g. padding) are clipped.
        extent: (minx, miny, maxx, maxy) of the mosaic.
        crs: The tiles' CRS.
        pixel_size: Their pixel size (square pixels).
        count: Bands per tile.
        dtype: Data type name (e.g. ``float32``).
        nodata: Nodata value (tiles' nodata never overwrites a neighbour's data).
        band_names: Band descriptions.
        source_bands: 1-based band of the tiles behind each mosaic band
            (default 1..count), e.g. ``[13]`` for the DEM of SmallMinesDS tiles.

    Returns:
        The VRT's XML.
    """
    if not tiles:
        raise ValueError("No tiles to mosaic")
    minx, miny, maxx, maxy = extent
    width = round((maxx - minx) / pixel_size)
    height = round((maxy - miny) / pixel_size)
    gdal_type = {
        "float32": "Float32",
        "float64": "Float64",
        "uint8": "Byte",
        "int16": "Int16",
        "uint16": "UInt16",
    }[dtype]
    wkt = escape(CRS.from_user_input(crs).to_wkt())
    parts = [
        f'<VRTDataset rasterXSize="{width}" rasterYSize="{height}">',
        f"  <SRS>{wkt}</SRS>",
        f"  <GeoTransform>{minx!r}, {pixel_size!r}, 0, {maxy!r}, 0, {-pixel_size!r}</GeoTransform>",
    ]
    for band in range(1, count + 1):
        name = band_names[band - 1] if band_names else None
        parts.append(f'  <VRTRasterBand dataType="{gdal_type}" band="{band}">')
        if name:
            parts.append(f"    <Description>{escape(name)}</Description>")
        parts.append(f"    <NoDataValue>{nodata!r}</NoDataValue>")
        for path, tminx, tmaxy, w, h in tiles:
            xoff = round((tminx - minx) / pixel_size)
            yoff = round((maxy - tmaxy) / pixel_size)
            parts += [
                "    <ComplexSource>",
                f'      <SourceFilename relativeToVRT="0">{escape(str(Path(path).resolve()))}</SourceFilename>',
                f"      <SourceBand>{source_bands[band - 1] if source_bands else band}</SourceBand>",
                f'      <SrcRect xOff="0" yOff="0" xSize="{w}" ySize="{h}"/>',
                f'      <DstRect xOff="{xoff}" yOff="{yoff}" xSize="{w}" ySize="{h}"/>',
                f"      <NODATA>{nodata!r}</NODATA>",
                "    </ComplexSource>",
            ]
        parts.append("  </VRTRasterBand>")
    parts.append("</VRTDataset>")
    return "\n".join(parts) + "\n"


def same_grid_or_raise(a: RasterSource, b: RasterSource, what: str) -> None:
    """Fail with a clear message if two rasters are not on the same grid."""
    if not a.grid.same_as(b.grid):
        raise ValueError(
            f"{what}: {a.path} ({a.grid.crs}, {a.grid.width} x {a.grid.height} px, "
            f"origin {a.grid.transform[2]:.1f}, {a.grid.transform[5]:.1f}) and {b.path} "
            f"({b.grid.crs}, {b.grid.width} x {b.grid.height} px, origin "
            f"{b.grid.transform[2]:.1f}, {b.grid.transform[5]:.1f}) are on different grids; "
            f"re-run the inference pipeline for both years with the same tiles"
        )


def read_all(source: RasterSource, band: int = 1) -> np.ndarray:
    """Read one whole band (for rasters known to fit in memory, e.g. a uint8 map)."""
    return source.read(bands=[band])[0]


def window_transform(grid: GridSpec, window: Window) -> Affine:
    """The transform of a window of a grid."""
    return rasterio.windows.transform(window, grid.affine)


def rasterize_window(geometries: Any, grid: GridSpec, window: Window) -> np.ndarray:
    """Burn polygons into a window of a grid: 1 + the polygon's position, 0 outside all.

    Args:
        geometries: Iterable of shapely geometries in the grid's CRS.
        grid: The raster grid.
        window: The window.

    Returns:
        int32 (rows, cols).
    """
    from rasterio import features

    shapes = [(g, i + 1) for i, g in enumerate(geometries)]
    if not shapes:
        return np.zeros((int(window.height), int(window.width)), dtype=np.int32)
    return features.rasterize(
        shapes,
        out_shape=(int(window.height), int(window.width)),
        transform=window_transform(grid, window),
        fill=0,
        dtype="int32",
    )


def colour_table(
    colours: dict[int, Any], nodata: int | None = None
) -> dict[int, tuple[int, int, int, int]]:
    """A GeoTIFF colour table from matplotlib colours ({code: colour}); nodata transparent."""
    from matplotlib.colors import to_rgba

    table = {
        int(code): tuple(int(round(255 * v)) for v in to_rgba(colour))
        for code, colour in colours.items()
    }
    if nodata is not None:
        table[nodata] = (0, 0, 0, 0)
    return table  # type: ignore[return-value]


def union_bounds(frame: Any) -> tuple[float, float, float, float]:
    """(minx, miny, maxx, maxy) covering every row of a table with those columns."""
    return (
        float(frame["minx"].min()),
        float(frame["miny"].min()),
        float(frame["maxx"].max()),
        float(frame["maxy"].max()),
    )
