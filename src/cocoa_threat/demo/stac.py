"""A local static STAC catalog of the demo region: its raw tiles as Sentinel-2 L2A items.

Each raw tile of each year becomes one item whose assets are what the imagery
pipeline reads from a catalog such as Earth Search: one single-band GeoTIFF per
Sentinel-2 band (uint16 digital numbers = reflectance x 10000, 0 = no data,
``raster:bands`` offset 0: nothing to harmonise), a scene classification that is
clear (vegetation) wherever the tile has data, and a DEM item per tile. So
``kedro run --pipeline=imagery`` composites the demo offline through the same
code as real imagery, and the series pipeline maps those composites.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, time
from pathlib import Path
from typing import Any

import numpy as np
import pystac
import rasterio
from affine import Affine
from pyproj import Transformer

from cocoa_threat.geo.grid import RasterSource
from cocoa_threat.params.imagery import ImageryParams
from cocoa_threat.params.ingestion import IngestionParams

GEOTIFF = "image/tiff; application=geotiff; profile=cloud-optimized"
CLEAR_SCL = 4  # vegetation: a clear class of the L2A scene classification
NO_DATA_SCL = 0
DEM_NODATA = -32767.0
ACQUISITION_TIME = time(10, 30)  # Sentinel-2's overpass over Ghana, local solar morning


@dataclass
class TileCatalog:
    """What to write: the raw tiles per year and how their bands become assets.

    Attributes:
        tiles: ``(tile id, year)`` -> a function returning the tile (read lazily).
        band_names: The raw tiles' band order (``ingestion.raster.band_names``).
        assets: Sentinel-2 band -> asset key (``imagery.assets``); bands the tiles
            lack are left out.
        scl_asset: Asset key of the scene classification (None: none written).
        collection: Collection id of the items (``imagery.collection``).
        dem_band: The tiles' DEM band (None: no DEM items).
        dem_collection: Collection id of the DEM items (``imagery.dem.collection``).
        dem_asset: Asset key of the DEM (``imagery.dem.asset``).
        dates: The acquisition time of each year's items (inside ``imagery.season``).
        image_nodata: The tiles' nodata value.
        saturated: The highest digital number written (``imagery.data.saturated`` - 1).
    """

    tiles: dict[tuple[str, int], Callable[[], RasterSource]]
    band_names: list[str]
    assets: dict[str, str]
    scl_asset: str | None
    collection: str
    dem_band: str | None
    dem_collection: str | None
    dem_asset: str
    dates: dict[int, datetime]
    image_nodata: float
    saturated: int
    _hrefs: tuple[Path, Path] = (Path("."), Path("."))

    def write(self, root: Path, final: Path | None = None) -> Path:
        """Write the catalog and its GeoTIFFs under ``root``; return its catalog.json.

        Args:
            root: Where to write.
            final: Where ``root`` will be moved to (the assets' absolute hrefs point
                there); None: ``root`` itself.
        """
        self._hrefs = (root.resolve(), (final or root).resolve())
        catalog = pystac.Catalog(id="demo-region", description="The demo region's raw tiles")
        items: dict[str, list[pystac.Item]] = {}
        dem_done: set[str] = set()
        for (tile, year), load in sorted(self.tiles.items()):
            source = load()
            folder = root / "data" / str(year) / tile
            items.setdefault(self.collection, []).append(self._item(source, tile, year, folder))
            if self.dem_band in self.band_names and self.dem_collection and tile not in dem_done:
                dem_done.add(tile)
                dem = self._dem_item(source, tile, root / "data" / "dem" / tile)
                items.setdefault(self.dem_collection, []).append(dem)
        years = sorted({year for _, year in self.tiles})
        for cid, found in items.items():
            collection = pystac.Collection(
                id=cid,
                description=f"demo region: {cid}",
                extent=pystac.Extent(
                    pystac.SpatialExtent([[-180.0, -90.0, 180.0, 90.0]]),
                    pystac.TemporalExtent([[datetime(years[0], 1, 1), None]]),
                ),
            )
            for item in found:
                collection.add_item(item)
            catalog.add_child(collection)
        catalog.normalize_hrefs(str(root / "stac"))
        catalog.save(catalog_type=pystac.CatalogType.SELF_CONTAINED)
        return root / "stac" / "catalog.json"

    def _item(self, source: RasterSource, tile: str, year: int, folder: Path) -> pystac.Item:
        data = source.read()
        valid = np.all(data != self.image_nodata, axis=0) & np.all(np.isfinite(data), axis=0)
        assets: dict[str, Any] = {}
        for band, key in self.assets.items():
            if band not in self.band_names:
                continue
            values = data[self.band_names.index(band)]
            dn = np.where(valid, np.clip(np.rint(values), 1, self.saturated - 1), 0)
            assets[key] = self._write(folder / f"{key}.tif", dn.astype(np.uint16), source, 0)
            assets[key]["raster:bands"] = [
                {"nodata": 0, "data_type": "uint16", "scale": 0.0001, "offset": 0.0}
            ]
        if self.scl_asset:
            scl = np.where(valid, CLEAR_SCL, NO_DATA_SCL).astype(np.uint8)
            assets[self.scl_asset] = self._write(folder / f"{self.scl_asset}.tif", scl, source, 0)
        return _stac_item(f"DEMO_{tile}_{year}", self.collection, source, self.dates[year], assets)

    def _dem_item(self, source: RasterSource, tile: str, folder: Path) -> pystac.Item:
        values = source.read(bands=[self.band_names.index(str(self.dem_band)) + 1])[0]
        dem = np.where(values == self.image_nodata, DEM_NODATA, values).astype(np.float32)
        assets = {self.dem_asset: self._write(folder / "dem.tif", dem, source, DEM_NODATA)}
        return _stac_item(f"DEMO_DEM_{tile}", str(self.dem_collection), source,
                          datetime(2021, 4, 22), assets)  # fmt: skip

    def _write(
        self, path: Path, data: np.ndarray, source: RasterSource, nodata: float
    ) -> dict[str, Any]:
        asset = _write(path, data, source, nodata)
        written, final = self._hrefs
        asset["href"] = str(final / path.resolve().relative_to(written))
        return asset


def _write(path: Path, data: np.ndarray, source: RasterSource, nodata: float) -> dict[str, Any]:
    path.parent.mkdir(parents=True, exist_ok=True)
    grid = source.grid
    profile = {
        "driver": "GTiff", "width": grid.width, "height": grid.height, "count": 1,
        "dtype": data.dtype.name, "crs": grid.crs, "transform": grid.affine, "nodata": nodata,
    }  # fmt: skip
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(data, 1)
    return {
        "href": str(path.resolve()),
        "type": GEOTIFF,
        "roles": ["data"],
        "proj:shape": [grid.height, grid.width],
        "proj:transform": list(Affine(*grid.transform[:6]))[:6],
    }


def _stac_item(
    item_id: str, collection: str, source: RasterSource, when: datetime, assets: dict[str, Any]
) -> pystac.Item:
    box = _lonlat_box(source)
    w, s, e, n = box
    return pystac.Item.from_dict(
        {
            "type": "Feature",
            "stac_version": "1.0.0",
            "stac_extensions": [
                "https://stac-extensions.github.io/projection/v2.0.0/schema.json",
                "https://stac-extensions.github.io/raster/v1.1.0/schema.json",
            ],
            "id": item_id,
            "bbox": box,
            "geometry": {
                "type": "Polygon",
                "coordinates": [[[w, s], [e, s], [e, n], [w, n], [w, s]]],
            },
            "properties": {
                "datetime": when.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "eo:cloud_cover": 0.0,
                "proj:code": source.grid.crs,
                "platform": "demo",
            },
            "links": [],
            "assets": assets,
            "collection": collection,
        }
    )


def _lonlat_box(source: RasterSource) -> list[float]:
    minx, miny, maxx, maxy = source.grid.bounds
    xs = np.concatenate([np.linspace(minx, maxx, 11)] * 2 + [[minx] * 11, [maxx] * 11])
    ys = np.concatenate(
        [[miny] * 11, [maxy] * 11, np.linspace(miny, maxy, 11), np.linspace(miny, maxy, 11)]
    )
    lon, lat = Transformer.from_crs(source.grid.crs, "EPSG:4326", always_xy=True).transform(xs, ys)
    return [float(np.min(lon)), float(np.min(lat)), float(np.max(lon)), float(np.max(lat))]


def tile_year(partition: str, image_dir: str, pattern: str) -> tuple[str, int] | None:
    """``(tile id, year)`` of a raw tile's partition (``2016/IMAGE/IMG_GH_1000_2016``);
    None for masks and other files."""
    parts = partition.split("/")
    if len(parts) < 2 or parts[-2] != image_dir:
        return None
    match = re.match(pattern, parts[-1] + ".tif")
    return (match["tile"], int(match["year"])) if match else None


def tile_catalog(
    partitions: dict[str, Callable[[], Any]],
    imagery: ImageryParams,
    ingestion: IngestionParams,
) -> TileCatalog:
    """The raw tiles of every year of ``imagery.years`` as one item each, dated mid-season.

    Args:
        partitions: The raw tiles' partitions (``<year>/IMAGE/IMG_GH_<tile>_<year>``,
            masks and other files are skipped) -> their loaders.
        imagery: The ``imagery`` parameters: asset keys, collections, season, years.
        ingestion: The ``ingestion`` parameters: the tiles' bands, nodata and names.

    Raises:
        ValueError: If a year of ``imagery.years`` has no raw tiles.
    """
    files, raster = ingestion.files, ingestion.raster
    found: dict[tuple[str, int], Callable[[], Any]] = {}
    for partition, load in partitions.items():
        key = tile_year(partition, files.image_dir, files.image_pattern)
        if key is not None and key[1] in imagery.years:
            found[key] = load
    missing = sorted(set(imagery.years) - {year for _, year in found})
    if missing:
        raise ValueError(
            f"The raw tiles have no images of {missing} (imagery.years {imagery.years}); "
            f"the demo writes demo.years: list the same years in both"
        )
    dates = {}
    for year in imagery.years:
        first, last = imagery.season.window(year)
        dates[year] = datetime.combine(first + (last - first) / 2, ACQUISITION_TIME)
    return TileCatalog(
        tiles=found,
        band_names=list(raster.band_names),
        assets=dict(imagery.assets),
        scl_asset=imagery.scl_asset,
        collection=imagery.collection,
        dem_band=raster.dem_band,
        dem_collection=imagery.dem.collection,
        dem_asset=imagery.dem.asset,
        dates=dates,
        image_nodata=raster.image_nodata,
        saturated=int(imagery.data.saturated or 65535),
    )
