"""Mosaics of GeoTIFF tiles as GDAL VRTs, written with paths relative to the VRT.

A node describes a mosaic with a :class:`MosaicSpec` (which tiles, where, what
bands); :class:`~cocoa_threat.datasets.RasterDataset` renders it next to its own
file with :meth:`MosaicSpec.to_xml`, so a project that is moved or copied keeps
working mosaics.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape

import pandas as pd
from rasterio.crs import CRS

from cocoa_threat.geo.grid import union_bounds

GDAL_TYPES = {
    "float32": "Float32",
    "float64": "Float64",
    "uint8": "Byte",
    "int16": "Int16",
    "uint16": "UInt16",
}


# GDAL's resampling of VRT sources: nearest for classes, the others for continuous data.
RESAMPLING = ("nearest", "bilinear", "cubic", "cubicspline", "lanczos", "average")


@dataclass(frozen=True)
class MosaicTile:
    """One tile file of a mosaic, on the mosaic's grid.

    Attributes:
        path: The tile's file (as the catalog knows it: relative to the project or absolute).
        minx: Left edge in map units.
        maxy: Top edge in map units.
        width: Pixels of the tile to use (parts beyond are clipped, e.g. padding).
        height: Rows of the tile to use.
    """

    path: str
    minx: float
    maxy: float
    width: int
    height: int


@dataclass(frozen=True)
class MosaicSpec:
    """A mosaic of tiles that share one grid.

    Attributes:
        tiles: The tiles.
        extent: (minx, miny, maxx, maxy) of the mosaic.
        crs: The tiles' CRS.
        pixel_size: Their pixel size (square pixels).
        count: Bands of the mosaic.
        dtype: Data type name (e.g. ``float32``).
        nodata: Nodata value (a tile's nodata never overwrites a neighbour's data).
        band_names: Band descriptions.
        resampling: How GDAL resamples a tile whose pixels differ from the mosaic's (and
            reads at another resolution): ``bilinear`` for continuous data such as
            elevation, ``nearest`` for classes. Tiles on the mosaic's own grid are
            copied pixel for pixel whatever it is.
    """

    tiles: tuple[MosaicTile, ...]
    extent: tuple[float, float, float, float]
    crs: str
    pixel_size: float
    count: int
    dtype: str
    nodata: float
    band_names: tuple[str, ...] | None = None
    resampling: str = "nearest"

    def __post_init__(self) -> None:
        if not self.tiles:
            raise ValueError("No tiles to mosaic")
        if self.resampling not in RESAMPLING:
            raise ValueError(f"VRT resampling must be one of {RESAMPLING}, not {self.resampling}")
        if self.dtype not in GDAL_TYPES:
            raise ValueError(f"VRT mosaics support {sorted(GDAL_TYPES)}, not {self.dtype}")

    @property
    def shape(self) -> tuple[int, int]:
        """(rows, cols) of the mosaic."""
        minx, miny, maxx, maxy = self.extent
        return round((maxy - miny) / self.pixel_size), round((maxx - minx) / self.pixel_size)

    def to_xml(self, vrt_path: str | os.PathLike[str]) -> str:
        """The VRT's XML, with tile paths relative to the folder of ``vrt_path``."""
        folder = Path(vrt_path).resolve().parent
        minx, _, _, maxy = self.extent
        height, width = self.shape
        px = self.pixel_size
        wkt = escape(CRS.from_user_input(self.crs).to_wkt())
        parts = [
            f'<VRTDataset rasterXSize="{width}" rasterYSize="{height}">',
            f"  <SRS>{wkt}</SRS>",
            f"  <GeoTransform>{minx!r}, {px!r}, 0, {maxy!r}, 0, {-px!r}</GeoTransform>",
        ]
        sources = []
        for tile in self.tiles:
            rel = Path(os.path.relpath(Path(tile.path).resolve(), folder)).as_posix()
            xoff = round((tile.minx - minx) / px)
            yoff = round((maxy - tile.maxy) / px)
            sources.append((escape(rel), xoff, yoff, tile.width, tile.height))
        for band in range(1, self.count + 1):
            parts.append(f'  <VRTRasterBand dataType="{GDAL_TYPES[self.dtype]}" band="{band}">')
            if self.band_names:
                parts.append(f"    <Description>{escape(self.band_names[band - 1])}</Description>")
            parts.append(f"    <NoDataValue>{self.nodata!r}</NoDataValue>")
            for rel, xoff, yoff, w, h in sources:
                parts += [
                    f'    <ComplexSource resampling="{self.resampling}">',
                    f'      <SourceFilename relativeToVRT="1">{rel}</SourceFilename>',
                    f"      <SourceBand>{band}</SourceBand>",
                    f'      <SrcRect xOff="0" yOff="0" xSize="{w}" ySize="{h}"/>',
                    f'      <DstRect xOff="{xoff}" yOff="{yoff}" xSize="{w}" ySize="{h}"/>',
                    f"      <NODATA>{self.nodata!r}</NODATA>",
                    "    </ComplexSource>",
                ]
            parts.append("  </VRTRasterBand>")
        parts.append("</VRTDataset>")
        return "\n".join(parts) + "\n"


def tile_mosaic(
    manifest: pd.DataFrame,
    path_column: str,
    count: int,
    nodata: float,
    band_names: list[str] | None = None,
    year: int | None = None,
    dtype: str = "float32",
    resampling: str = "nearest",
) -> MosaicSpec:
    """A mosaic of one year's model-input tiles on the grid of all tiles of the manifest.

    Every year shares one grid (the union of all tiles), so the maps of the two
    dates line up pixel for pixel.

    Args:
        manifest: The tile manifest (minx, miny, maxx, maxy, width, height, crs, year).
        path_column: The column of the files to mosaic (e.g. ``image_path``).
        count: Bands of those files.
        nodata: Their nodata value.
        band_names: Band descriptions.
        year: The year to mosaic (default: the first).
        dtype: Data type of the files.
        resampling: GDAL resampling of the sources (``bilinear`` for continuous data
            such as elevation; ``nearest``, the default, for classes).

    Raises:
        ValueError: If the manifest has no tiles of ``year`` or mixes CRSs.
    """
    year = int(manifest["year"].min()) if year is None else int(year)
    rows = manifest[manifest["year"] == year]
    if rows.empty:
        raise ValueError(
            f"The tile manifest has no tiles of {year} (years in the manifest: "
            f"{sorted(manifest['year'].unique())}); check the year parameter"
        )
    crs = manifest["crs"].unique()
    if len(crs) != 1:
        raise ValueError(f"The tile manifest mixes CRSs {list(crs)}; re-run ingestion")
    px = (rows["maxx"] - rows["minx"]) / rows["width"]
    pixel = float(px.iloc[0])
    tiles = tuple(
        MosaicTile(
            str(getattr(r, path_column)), float(r.minx), float(r.maxy), int(r.width), int(r.height)
        )
        for r in rows.itertuples()
    )
    extent = union_bounds(manifest)
    return MosaicSpec(
        tiles=tiles,
        extent=extent,
        crs=str(crs[0]),
        pixel_size=pixel,
        count=count,
        dtype=dtype,
        nodata=nodata,
        band_names=tuple(band_names) if band_names else None,
        resampling=resampling,
    )
