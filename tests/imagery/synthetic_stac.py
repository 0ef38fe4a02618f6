"""A local static STAC catalog of synthetic Sentinel-2 L2A scenes and a DEM, for the tests.

The scenes look like Earth Search's ``sentinel-2-l2a`` items (asset keys ``blue`` ...
``swir22`` and ``scl``, ``raster:bands`` and ``proj:`` metadata, the 20 m bands and the
scene classification at 20 m) and carry clouds, shadows, cirrus, saturated and no-data
pixels, a processing-baseline 04.00 scene whose digital numbers carry the +1000 offset,
and a scene in another UTM zone. Every scene keeps its true reflectance and its
classification so that the tests can compute the composite with numpy alone.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pystac
import rasterio
from affine import Affine
from pyproj import Transformer

# The target grid of the tests: EPSG:32630, 10 m, 64 x 64 px in the Amansie districts.
CRS = "EPSG:32630"
X0, Y0, SIZE, RES = 616000.0, 713000.0, 64, 10.0
AREA = (X0, Y0 - SIZE * RES, X0 + SIZE * RES, Y0)
TEN_M = ("blue", "green", "red")
TWENTY_M = ("nir08", "swir16", "swir22")
ASSETS = TEN_M + TWENTY_M
MASKED = (0, 1, 2, 3, 8, 9, 10)  # SCL: no data, saturated, dark/cast shadow, shadow, clouds, cirrus
CLEAR = (4, 5, 6, 7, 11)
POISON = 30000  # what masked pixels hold: it must never reach the composite


@dataclass
class Scene:
    """One synthetic Sentinel-2 L2A item: true values, classification and metadata.

    Attributes:
        id: Item id.
        when: Acquisition time.
        crs: Its UTM zone.
        origin: Upper-left corner (its CRS).
        shape20: (rows, cols) at 20 m (10 m bands are twice that).
        true: Asset -> true reflectance x 10000 (float, at the asset's resolution).
        scl: Scene classification at 20 m.
        dn_offset: What the stored digital numbers add to the true value (1000 for 04.00).
        properties: Extra item properties.
        raster_offset: ``raster:bands`` offset recorded on the assets (None: not recorded).
        cloud_cover: ``eo:cloud_cover``.
        collection: Collection id.
        special: Asset -> (mask at its resolution, digital number) written over clear
            pixels: no data (0) or saturated (65535) in one band only.
    """

    id: str
    when: datetime
    crs: str
    origin: tuple[float, float]
    shape20: tuple[int, int]
    true: dict[str, np.ndarray]
    scl: np.ndarray
    dn_offset: int = 0
    properties: dict[str, Any] = field(default_factory=dict)
    raster_offset: float | None = 0.0
    cloud_cover: float = 20.0
    collection: str = "sentinel-2-l2a"
    special: dict[str, tuple[np.ndarray, int]] = field(default_factory=dict)

    def transform(self, res: float) -> Affine:
        """The grid of an asset of resolution ``res``."""
        return Affine(res, 0, self.origin[0], 0, -res, self.origin[1])

    def stored(self, asset: str) -> np.ndarray:
        """The digital numbers as written: true + offset, poison where masked, uint16."""
        true = self.true[asset]
        scl = self.scl if asset in TWENTY_M else np.repeat(np.repeat(self.scl, 2, 0), 2, 1)
        dn = np.where(np.isin(scl, MASKED), POISON, true + self.dn_offset)
        if asset in self.special:
            mask, value = self.special[asset]
            dn = np.where(mask, value, dn)
        return np.clip(dn, 0, 65535).astype(np.uint16)


def lonlat_bounds(crs: str, bounds: tuple[float, float, float, float]) -> list[float]:
    """The lon/lat box around a box of ``crs`` (densified edges)."""
    to_ll = Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
    minx, miny, maxx, maxy = bounds
    xs = np.concatenate([np.linspace(minx, maxx, 21)] * 2 + [[minx] * 21, [maxx] * 21])
    ys = np.concatenate(
        [[miny] * 21, [maxy] * 21, np.linspace(miny, maxy, 21), np.linspace(miny, maxy, 21)]
    )
    lon, lat = to_ll.transform(xs, ys)
    return [float(np.min(lon)), float(np.min(lat)), float(np.max(lon)), float(np.max(lat))]


def _polygon(box: list[float]) -> dict[str, Any]:
    w, s, e, n = box
    return {"type": "Polygon", "coordinates": [[[w, s], [e, s], [e, n], [w, n], [w, s]]]}


def _write_tif(path: Path, data: np.ndarray, crs: str, transform: Affine, nodata: float) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    profile = {
        "driver": "GTiff",
        "width": data.shape[1],
        "height": data.shape[0],
        "count": 1,
        "dtype": data.dtype.name,
        "crs": crs,
        "transform": transform,
        "nodata": nodata,
    }
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(data, 1)


def _asset(
    href: str, res: float, shape: tuple[int, int], transform: Affine, scene: Scene, band: bool
) -> dict[str, Any]:
    raster: dict[str, Any] = {"nodata": 0, "data_type": "uint16", "spatial_resolution": res}
    if band and scene.raster_offset is not None:
        raster.update({"scale": 0.0001, "offset": scene.raster_offset})
    return {
        "href": href,
        "type": "image/tiff; application=geotiff; profile=cloud-optimized",
        "roles": ["data"],
        "proj:shape": list(shape),
        "proj:transform": list(transform)[:6],
        "raster:bands": [raster],
    }


def scene_item(scene: Scene, folder: Path) -> pystac.Item:
    """Write a scene's GeoTIFFs into ``folder`` and return its STAC item."""
    rows, cols = scene.shape20
    assets: dict[str, Any] = {}
    for name in ASSETS:
        res = 10.0 if name in TEN_M else 20.0
        data = scene.stored(name)
        _write_tif(folder / f"{name}.tif", data, scene.crs, scene.transform(res), 0)
        assets[name] = _asset(
            f"./{name}.tif", res, data.shape, scene.transform(res), scene, band=True
        )
    _write_tif(folder / "scl.tif", scene.scl.astype(np.uint8), scene.crs, scene.transform(20), 0)
    assets["scl"] = _asset("./scl.tif", 20.0, (rows, cols), scene.transform(20), scene, False)
    assets["scl"]["raster:bands"][0]["data_type"] = "uint8"
    x0, y0 = scene.origin
    box = lonlat_bounds(scene.crs, (x0, y0 - rows * 20, x0 + cols * 20, y0))
    return pystac.Item.from_dict(
        {
            "type": "Feature",
            "stac_version": "1.0.0",
            "stac_extensions": [
                "https://stac-extensions.github.io/projection/v2.0.0/schema.json",
                "https://stac-extensions.github.io/raster/v1.1.0/schema.json",
            ],
            "id": scene.id,
            "bbox": box,
            "geometry": _polygon(box),
            "properties": {
                "datetime": scene.when.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "platform": "sentinel-2a",
                "eo:cloud_cover": scene.cloud_cover,
                "proj:code": scene.crs,
                **scene.properties,
            },
            "links": [],
            "assets": assets,
            "collection": scene.collection,
        }
    )


def dem_value(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """The synthetic DEM: a plane in lon/lat (bilinear resampling keeps it exactly)."""
    return 150.0 + 1000.0 * (lon + 1.95) + 2000.0 * (lat - 6.44)


def dem_item(folder: Path) -> pystac.Item:
    """A Copernicus-DEM-like item in EPSG:4326 (~33 m) covering the area with a margin."""
    w, s, e, n = lonlat_bounds(CRS, AREA)
    res = 0.0003
    w, s, e, n = w - 10 * res, s - 10 * res, e + 10 * res, n + 10 * res
    cols, rows = int(np.ceil((e - w) / res)), int(np.ceil((n - s) / res))
    transform = Affine(res, 0, w, 0, -res, n)
    lon = w + (np.arange(cols) + 0.5) * res
    lat = n - (np.arange(rows) + 0.5) * res
    data = dem_value(lon[None, :], lat[:, None]).astype(np.float32)
    _write_tif(folder / "dem.tif", data, "EPSG:4326", transform, -32767.0)
    box = [w, n - rows * res, w + cols * res, n]
    return pystac.Item.from_dict(
        {
            "type": "Feature",
            "stac_version": "1.0.0",
            "id": "Copernicus_DSM_COG_10_N06_00_W002_00_DEM",
            "bbox": box,
            "geometry": _polygon(box),
            "properties": {"datetime": "2021-04-22T00:00:00Z"},
            "links": [],
            "assets": {
                "data": {
                    "href": "./dem.tif",
                    "type": "image/tiff; application=geotiff; profile=cloud-optimized",
                    "roles": ["data"],
                }
            },
            "collection": "cop-dem-glo-30",
        }
    )


def write_catalog(root: Path, scenes: list[Scene], with_dem: bool = True) -> Path:
    """Write a self-contained static catalog of ``scenes`` (and a DEM); return catalog.json."""
    catalog = pystac.Catalog(id="synthetic", description="Synthetic Sentinel-2 L2A for tests")
    by_collection: dict[str, list[pystac.Item]] = {}
    for scene in scenes:
        by_collection.setdefault(scene.collection, []).append(
            scene_item(scene, root / "data" / scene.collection / scene.id)
        )
    if with_dem:
        by_collection["cop-dem-glo-30"] = [dem_item(root / "data" / "cop-dem-glo-30" / "dem")]
    for cid, items in by_collection.items():
        collection = pystac.Collection(
            id=cid,
            description=f"synthetic {cid}",
            extent=pystac.Extent(
                pystac.SpatialExtent([[-180.0, -90.0, 180.0, 90.0]]),
                pystac.TemporalExtent([[datetime(2015, 6, 27), None]]),
            ),
        )
        for item in items:
            collection.add_item(item)
        catalog.add_child(collection)
    # Asset hrefs point at the GeoTIFFs written beside the items, as absolute paths.
    catalog.normalize_hrefs(str(root / "stac"))
    for collection in catalog.get_children():
        for item in collection.get_items():
            folder = root / "data" / collection.id / item.id
            if collection.id == "cop-dem-glo-30":
                folder = root / "data" / "cop-dem-glo-30" / "dem"
            for asset in item.assets.values():
                asset.href = str(folder / Path(asset.href).name)
    catalog.save(catalog_type=pystac.CatalogType.SELF_CONTAINED)
    return root / "stac" / "catalog.json"


def read_json(path: Path) -> Any:
    """A JSON file."""
    return json.loads(path.read_text())


def make_scene(
    rng: np.random.Generator,
    scene_id: str,
    when: datetime,
    crs: str = CRS,
    origin: tuple[float, float] = (X0 - 40.0, Y0 + 40.0),
    shape20: tuple[int, int] = (36, 36),
    classes: tuple[int, ...] = (4, 4, 4, 5, 6, 7, 0, 1, 2, 3, 8, 9, 10),
    **kwargs: Any,
) -> Scene:
    """A scene with random reflectance (100..5000) and a random classification.

    The default grid covers the test area (64 x 64 px of 10 m) with a 40 m margin,
    aligned with it.
    """
    true = {}
    for name in ASSETS:
        k = 2 if name in TEN_M else 1
        true[name] = rng.integers(100, 5000, size=(shape20[0] * k, shape20[1] * k)).astype(float)
    scl = rng.choice(np.array(classes), size=shape20).astype(np.uint8)
    return Scene(scene_id, when, crs, origin, shape20, true, scl, **kwargs)
