"""Deterministic synthetic demo region in the exact SmallMinesDS layout.

The demo region lets ``kedro run`` work on a fresh machine with no network. It
paints a landscape like the study area in south-west Ghana (forest reserves,
cocoa agroforest farms, food crops, settlements, roads, rivers in DEM valleys,
mining pits and turbid ponds along the rivers that expand between the years)
and writes it as the released SmallMinesDS is laid out::

    <tiles>/<year>/IMAGE/IMG_GH_<tile>_<year>.tif   13 float32 bands, nodata -9999
    <tiles>/<year>/MASK/MASK_GH_<tile>_<year>.tif   1 band: mining 1 / not 0, nodata 255

plus, as separate inputs like the real study's, a cocoa-probability layer (one
GeoTIFF in EPSG:4326 at ~10 m, static across years, with a nodata margin, as a
national map such as Kalischek et al. 2023 would be), district boundaries and
a mercury survey. ``demo.mask_layout: mining_cocoa`` writes the 2-band masks
(mining, cocoa probability) of the study's code instead.

The functions here return the four products as data; the ``demo`` pipeline
hands them to the catalog's raw datasets, each only when missing or when the
parameters it depends on changed (:func:`stale_products`). Everything about the
region (size, CRS, years, fractions, seed) comes from ``demo`` in
``conf/base/parameters_demo.yml``.
The class signatures below are the generator's model of the world, not
analysis parameters.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from typing import Any

import numpy as np
from affine import Affine
from rasterio.crs import CRS
from scipy import ndimage
from tqdm.auto import tqdm

from cocoa_threat.demo import fields
from cocoa_threat.demo.mercury import make_mercury_survey
from cocoa_threat.geo.raster import Raster
from cocoa_threat.params.demo import DEMO_BANDS, DemoRegionConfig

logger = logging.getLogger(__name__)

GENERATOR_VERSION = "4"

# Land-cover codes used only inside the generator.
FOREST, COCOA, CROPS, SETTLEMENT, ROAD, RIVER, PIT, POND, REGROWTH = range(9)
COVER_NAMES = (
    "forest",
    "cocoa",
    "crops",
    "settlement",
    "road",
    "river",
    "mining_pit",
    "mining_pond",
    "regrowth",
)
MINING_COVERS = (PIT, POND)

# Mean signatures per land cover (order of COVER_NAMES). Sentinel-2 L2A
# reflectance x 10000 for a hazy January (Harmattan) scene, Sentinel-1 in dB.
# Cocoa sits close to forest: slightly brighter red/SWIR, slightly lower red
# edge/NIR, so that it is separable mainly by texture and context.
SIGNATURES: dict[str, tuple[float, ...]] = {
    "B2": (1330, 1355, 1480, 1750, 1800, 1550, 1950, 1800, 1450),
    "B3": (1520, 1550, 1720, 1950, 2100, 1700, 2350, 2250, 1700),
    "B4": (1330, 1395, 1800, 2150, 2500, 1500, 2800, 2400, 1650),
    "B5": (1900, 1935, 2200, 2350, 2700, 1450, 3000, 2350, 2100),
    "B6": (3200, 3130, 2900, 2650, 2950, 1400, 3200, 2200, 2900),
    "B7": (3800, 3700, 3300, 2850, 3150, 1400, 3350, 2150, 3300),
    "B8": (3950, 3840, 3450, 2950, 3250, 1350, 3400, 2100, 3450),
    "B8A": (4050, 3930, 3550, 3000, 3300, 1300, 3450, 2050, 3550),
    "B11": (2800, 2930, 3500, 3600, 3900, 900, 4300, 1500, 3300),
    "B12": (1800, 1910, 2550, 3000, 3300, 650, 3600, 1100, 2300),
    "VV": (-6.5, -7.0, -8.5, -4.0, -9.0, -18.0, -10.0, -17.0, -8.0),
    "VH": (-12.5, -13.2, -15.0, -11.0, -16.0, -25.0, -17.0, -24.0, -14.5),
}
# Within-class coefficient of variation of optical bands, per cover.
CLASS_CV = np.array([0.05, 0.06, 0.08, 0.10, 0.07, 0.08, 0.09, 0.08, 0.07], np.float32)
# Fine-scale texture strength per cover (canopy gaps and shade trees in cocoa,
# crowns in forest, heterogeneous plots in crops).
TEXTURE = np.array([0.35, 1.0, 0.6, 0.8, 0.2, 0.1, 0.5, 0.2, 0.6], np.float32)
# How fine texture shows in each optical band: gaps are brighter in the visible
# and SWIR (soil, litter) and darker in the NIR (less leaf).
TEXTURE_LOADING = {
    "B2": 60.0,
    "B3": 70.0,
    "B4": 110.0,
    "B5": 80.0,
    "B6": -120.0,
    "B7": -190.0,
    "B8": -230.0,
    "B8A": -240.0,
    "B11": 170.0,
    "B12": 150.0,
}
# Additive haze per optical band at full strength (Harmattan dust, visible-heavy).
HAZE = {"B2": 120.0, "B3": 90.0, "B4": 70.0, "B5": 50.0, "B6": 35.0, "B7": 30.0}

# The bands the generator paints (the SmallMinesDS order): params.demo.DEMO_BANDS.
SMALLMINESDS_BANDS = DEMO_BANDS


@dataclass
class Landscape:
    """The static landscape and the mining state of every year."""

    dem: np.ndarray
    cover: np.ndarray  # land cover without mining (static)
    cocoa_probability: np.ndarray
    mining: dict[int, np.ndarray]
    revegetated: np.ndarray  # first-year mining that is no longer mined later
    pond: np.ndarray  # where mined land is a turbid pond rather than a pit

    def cover_in(self, year: int) -> np.ndarray:
        """Land cover of ``year`` including its mining and re-vegetation."""
        cover = self.cover.copy()
        mined = self.mining[year]
        earlier = [m for y, m in self.mining.items() if y < year]
        if earlier:
            cover[self.revegetated & ~mined & np.logical_or.reduce(earlier)] = REGROWTH
        cover[mined] = np.where(self.pond[mined], POND, PIT)
        return cover


def build_landscape(cfg: DemoRegionConfig) -> Landscape:
    """Paint the static landscape and the mining of every year.

    Each step draws from its own random stream (spawned from ``cfg.seed``):
    rivers and terrain, parcels, reserves, farms, roads and settlements, the
    cocoa layer, mining and ponds. A change to what a step draws changes the
    demo region (and the regression digest of the tiny run).

    Args:
        cfg: Demo region parameters.

    Returns:
        The :class:`Landscape`; arrays have the region's shape.
    """
    shape = cfg.shape
    streams = np.random.SeedSequence(cfg.seed).spawn(12)
    rng = [np.random.default_rng(s) for s in streams]
    scale = np.sqrt(shape[0] * shape[1]) / 1000.0  # ~1 for the default 8 x 8 tiles

    river = _paint_rivers(rng[1], shape, scale)
    dist_river = ndimage.distance_transform_edt(~river).astype(np.float32)
    dem = _carve_terrain(rng[0], shape, dist_river)
    parcels = fields.warped_voronoi(rng[2], shape, mean_parcel_px=260.0, warp_px=5.0)
    reserve = _forest_reserves(rng[3], shape, scale)
    parcel_cover, farmable = _allocate_farms(rng[4], parcels, reserve, cfg.cocoa_fraction)
    road = _paint_roads(rng[5], shape, scale)
    settled = _settle_along_roads(rng[5], parcels, road, farmable)
    cover = parcel_cover[parcels]
    cover[settled[parcels]] = SETTLEMENT
    cover[road] = ROAD
    cover[river] = RIVER
    prob = _cocoa_probability(rng[6], cover, parcels, parcel_cover, river | road)
    pressure, growth = _mining_pressure(rng[7:10], shape, dist_river)
    mining, revegetated = _expand_mining(
        cfg, rng[10], pressure, growth, dist_river, eligible=~river & ~road
    )
    pond = _mining_ponds(rng[11], dist_river, mining[cfg.years[-1]])
    return Landscape(
        dem=dem,
        cover=cover,
        cocoa_probability=prob,
        mining=mining,
        revegetated=revegetated,
        pond=pond,
    )


def _paint_rivers(rng: np.random.Generator, shape: tuple[int, int], scale: float) -> np.ndarray:
    """Meandering rivers: main ones north-south (like the Offin and Oda), tributaries from the west.

    Returns:
        Boolean river mask.
    """
    rows, cols = shape
    n_rivers = max(2, int(round(2 * scale)) + 1)
    river = np.zeros(shape, dtype=bool)
    for i in range(n_rivers):
        if i % 2 == 0:  # main rivers run roughly north-south
            start = (0.0, rng.uniform(0.15, 0.85) * cols)
            heading = np.pi / 2 + rng.uniform(-0.4, 0.4)
            width = rng.uniform(3.0, 5.0)
        else:  # tributaries enter from the side
            start = (rng.uniform(0.1, 0.9) * rows, 0.0)
            heading = rng.uniform(-0.5, 0.5)
            width = rng.uniform(2.0, 3.0)
        path = fields.meandering_line(rng, shape, start, heading, wiggle=0.03)
        river |= fields.rasterise_path(path, shape, width)
    return river


def _carve_terrain(
    rng: np.random.Generator, shape: tuple[int, int], dist_river: np.ndarray
) -> np.ndarray:
    """The DEM: rolling hills 150-350 m with the rivers carved into valleys (float32, m)."""
    relief = fields.multiscale_field(rng, shape, (120.0, 30.0, 8.0), (1.0, 0.35, 0.08))
    dem = 240.0 + 70.0 * relief - 45.0 * np.exp(-dist_river / 60.0)
    return dem.astype(np.float32)


def _forest_reserves(rng: np.random.Generator, shape: tuple[int, int], scale: float) -> np.ndarray:
    """Large smooth forest reserves over 12% of the region (boolean mask)."""
    reserve_field = fields.gaussian_field(rng, shape, sigma=70.0 * scale)
    return reserve_field > fields.threshold_for_fraction(reserve_field, 0.12)


def _parcel_mean(parcels: np.ndarray, values: np.ndarray, area: np.ndarray) -> np.ndarray:
    """Mean of ``values`` over each parcel (``area``: pixels per parcel)."""
    return np.bincount(parcels.ravel(), values.ravel(), len(area)) / np.maximum(area, 1)


def _allocate_farms(
    rng: np.random.Generator, parcels: np.ndarray, reserve: np.ndarray, cocoa_fraction: float
) -> tuple[np.ndarray, np.ndarray]:
    """Cover of every parcel: cocoa on the most suitable, crops on some others, forest.

    Parcels mostly inside a forest reserve stay forest; the most suitable
    parcels become cocoa until ``cocoa_fraction`` of the region is cocoa; 45%
    of the other farmable parcels become food crops.

    Returns:
        ``(parcel_cover, farmable)``: the cover code and whether it may be
        farmed (outside the reserves), per parcel id.
    """
    n_parcels = int(parcels.max()) + 1
    area = np.bincount(parcels.ravel(), minlength=n_parcels).astype(np.float64)
    suitability = fields.gaussian_field(rng, parcels.shape, sigma=35.0)
    parcel_suit = _parcel_mean(parcels, suitability, area)
    parcel_suit += 0.6 * rng.standard_normal(n_parcels)
    parcel_suit[_parcel_mean(parcels, reserve, area) > 0.5] = -np.inf  # no farms in reserves
    order = np.argsort(-parcel_suit)
    rows, cols = parcels.shape
    n_cocoa = int(np.searchsorted(np.cumsum(area[order]), cocoa_fraction * rows * cols))
    parcel_cover = np.full(n_parcels, FOREST, dtype=np.uint8)
    parcel_cover[order[:n_cocoa]] = COCOA
    rest = order[n_cocoa:]
    rest = rest[np.isfinite(parcel_suit[rest])]
    parcel_cover[rest[rng.random(rest.size) < 0.45]] = CROPS
    return parcel_cover, np.isfinite(parcel_suit)


def _paint_roads(rng: np.random.Generator, shape: tuple[int, int], scale: float) -> np.ndarray:
    """Meandering roads crossing the region from west to east (boolean mask)."""
    rows = shape[0]
    road = np.zeros(shape, dtype=bool)
    for _ in range(max(2, int(round(2 * scale)))):
        start = (rng.uniform(0.2, 0.8) * rows, 0.0)
        path = fields.meandering_line(rng, shape, start, rng.uniform(-0.3, 0.3), 0.02)
        road |= fields.rasterise_path(path, shape, 2.0)
    return road


def _settle_along_roads(
    rng: np.random.Generator, parcels: np.ndarray, road: np.ndarray, farmable: np.ndarray
) -> np.ndarray:
    """Settlements strung along the roads: 12% of the farmable parcels next to a road.

    Returns:
        Boolean per parcel id: the parcel is a settlement.
    """
    n_parcels = len(farmable)
    dist_road = ndimage.distance_transform_edt(~road)
    near_road = np.bincount(parcels.ravel(), (dist_road < 3).ravel(), n_parcels) > 0
    return near_road & (rng.random(n_parcels) < 0.12) & farmable


def _cocoa_probability(
    rng: np.random.Generator,
    cover: np.ndarray,
    parcels: np.ndarray,
    parcel_cover: np.ndarray,
    no_cocoa: np.ndarray,
) -> np.ndarray:
    """A Kalischek-like cocoa-probability layer (float32, 0..1).

    Smooth and imperfect at farm edges, with some cocoa farms missed and some
    forest parcels taken for cocoa; 0 where ``no_cocoa`` (rivers and roads).
    """
    n_parcels = len(parcel_cover)
    prob = ndimage.gaussian_filter((cover == COCOA).astype(np.float32), 1.3)
    bias = np.zeros(n_parcels, dtype=np.float32)
    bias[(parcel_cover == COCOA) & (rng.random(n_parcels) < 0.06)] = -0.4
    bias[(parcel_cover == FOREST) & (rng.random(n_parcels) < 0.04)] = 0.75
    prob = prob + bias[parcels] + 0.1 * fields.gaussian_field(rng, cover.shape, 2.0)
    prob[no_cocoa] = 0.0
    return np.clip(prob, 0.0, 1.0).astype(np.float32)


def _mining_pressure(
    rngs: list[np.random.Generator], shape: tuple[int, int], dist_river: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Where mining starts and how it grows: clustered along rivers, a few inland pits.

    Args:
        rngs: Three streams: clusters, growth, inland pits.
        shape: Region shape.
        dist_river: Distance to the nearest river (px).

    Returns:
        ``(pressure, growth)``: the first year's mining score and the field
        that modulates its expansion.
    """
    cluster = fields.multiscale_field(rngs[0], shape, (25.0, 8.0), (1.0, 0.4))
    growth = fields.multiscale_field(rngs[1], shape, (20.0, 5.0), (1.0, 0.5))
    inland = fields.gaussian_field(rngs[2], shape, 6.0)
    pressure = np.exp(-dist_river / 30.0) * (1.2 + cluster) + 0.15 * (inland > 2.6)
    return pressure, growth


def _expand_mining(
    cfg: DemoRegionConfig,
    rng: np.random.Generator,
    pressure: np.ndarray,
    growth: np.ndarray,
    dist_river: np.ndarray,
    eligible: np.ndarray,
) -> tuple[dict[int, np.ndarray], np.ndarray]:
    """Mining of every year, expanding (partly into cocoa) from the first year's.

    Each year mines the ``mining_fraction`` (interpolated between the first and
    last year) of the region with the highest score; mined land stays mined,
    except the ``revegetated_fraction`` of the first year's, which regrows.

    Returns:
        ``(mining, revegetated)``: year -> boolean mask, and the regrown land.
    """
    shape = pressure.shape
    rows, cols = shape
    first, last = cfg.years[0], cfg.years[-1]
    mining: dict[int, np.ndarray] = {}
    prev: np.ndarray | None = None
    reveg_field = fields.gaussian_field(rng, shape, 4.0)
    revegetated = np.zeros(shape, dtype=bool)
    for year in cfg.years:
        t = (year - first) / (last - first)
        frac = cfg.mining_fraction_first + t * (
            cfg.mining_fraction_last - cfg.mining_fraction_first
        )
        score = pressure + t * 0.35 * np.exp(-dist_river / 80.0) * (1.0 + growth)
        allowed = eligible & ~revegetated
        thr = fields.threshold_for_fraction(
            score, frac * rows * cols / max(int(allowed.sum()), 1), where=allowed
        )
        mined = (score >= thr) & allowed
        if prev is not None:
            mined |= prev & allowed
        mining[year] = mined
        if prev is None and cfg.revegetated_fraction > 0:
            thr_r = fields.threshold_for_fraction(
                reveg_field, cfg.revegetated_fraction, where=mined
            )
            revegetated = mined & (reveg_field >= thr_r)
        prev = mined
    return mining, revegetated


def _mining_ponds(
    rng: np.random.Generator, dist_river: np.ndarray, mined: np.ndarray
) -> np.ndarray:
    """Where mined land is a turbid pond rather than a pit: 35% of ``mined``, near rivers."""
    pond_field = fields.gaussian_field(rng, mined.shape, 5.0) - 0.02 * dist_river
    return pond_field >= fields.threshold_for_fraction(pond_field, 0.35, where=mined)


def paint_bands(cfg: DemoRegionConfig, land: Landscape, year: int) -> tuple[np.ndarray, np.ndarray]:
    """Simulate the 13-band image and the mask of one year.

    Returns:
        ``(image, mask)``: float32 arrays (13, rows, cols) and the mask: (1, rows,
        cols) mining 0/1 for ``mask_layout: mining`` (as released), or (2, rows,
        cols) mining and cocoa probability for ``mining_cocoa``; without nodata yet.
    """
    shape = cfg.shape
    idx = cfg.years.index(year)
    rng = np.random.default_rng(np.random.SeedSequence([cfg.seed, year]))
    cover = land.cover_in(year)
    t = idx / (len(cfg.years) - 1)
    brightness = fields.gaussian_field(rng, shape, 4.0)
    fine = fields.gaussian_field(rng, shape, 0.7)
    crowns = fields.gaussian_field(rng, shape, 2.5)
    haze = 0.5 + t * 0.6 + 0.25 * fields.gaussian_field(rng, shape, 150.0)
    cv = CLASS_CV[cover]
    texture = TEXTURE[cover]
    forest_like = np.isin(cover, (FOREST, REGROWTH)).astype(np.float32)
    image = np.empty((len(cfg.band_names), *shape), dtype=np.float32)
    for b, name in enumerate(cfg.band_names):
        if name == "DEM":
            image[b] = land.dem + 1.5 * fields.gaussian_field(rng, shape, 1.0)
            continue
        lut = np.asarray(SIGNATURES[name], dtype=np.float32)
        mean = ndimage.gaussian_filter(lut[cover], 0.6)  # mixed pixels at edges
        own = fields.gaussian_field(rng, shape, 1.5)
        if name in ("VV", "VH"):
            image[b] = mean + 0.6 * brightness + 0.9 * own
            continue
        band = mean * (1.0 + cv * (0.6 * brightness + 0.6 * own))
        loading = TEXTURE_LOADING[name]
        band += loading * (texture * fine + 0.8 * forest_like * crowns * (1.0 - texture))
        band += HAZE.get(name, 0.0) * haze
        image[b] = np.clip(band, 1.0, 12000.0)
    mining = land.mining[year].astype(np.float32)
    if cfg.mask_layout == "mining":
        return image, mining[None]
    prob = land.cocoa_probability.copy()
    prob[land.mining[year]] = 0.0
    return image, np.stack([mining, prob])


def _tile_windows(cfg: DemoRegionConfig) -> list[tuple[str, slice, slice]]:
    rows, cols = cfg.shape
    out = []
    for ty in range(cfg.n_tiles_y):
        for tx in range(cfg.n_tiles_x):
            tile = f"{cfg.tile_id_start + ty * cfg.n_tiles_x + tx:04d}"
            r0, c0 = ty * cfg.tile_size, tx * cfg.tile_size
            out.append(
                (
                    tile,
                    slice(r0, min(rows, r0 + cfg.tile_size)),
                    slice(c0, min(cols, c0 + cfg.tile_size)),
                )
            )
    return out


def _disc_holes(rng: np.random.Generator, shape: tuple[int, int], n: int, r: tuple[float, float]):
    rows, cols = shape
    holes = np.zeros(shape, dtype=bool)
    rr, cc = np.ogrid[:rows, :cols]
    for _ in range(n):
        r0, c0 = rng.integers(0, rows), rng.integers(0, cols)
        radius = rng.uniform(*r)
        holes |= (rr - r0) ** 2 + (cc - c0) ** 2 <= radius**2
    return holes


def _add_nodata(
    cfg: DemoRegionConfig, rng: np.random.Generator, image: np.ndarray, mask: np.ndarray
) -> None:
    """Punch a few small nodata holes (missing L2A pixels) into a tile, in place."""
    holes = _disc_holes(rng, image.shape[1:], int(rng.integers(1, 4)), (1.0, 4.0))
    image[:, holes] = cfg.image_nodata
    if rng.random() < 0.5:
        mask[:, holes] = cfg.mask_nodata


def _summary(cfg: DemoRegionConfig, land: Landscape) -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = {}
    for year in cfg.years:
        cover = land.cover_in(year)
        mining = land.mining[year]
        cocoa = (land.cocoa_probability >= 0.65) & ~mining
        out[str(year)] = {
            "mining_fraction": round(float(mining.mean()), 4),
            "cocoa_label_fraction": round(float(cocoa.mean()), 4),
            **{
                f"cover_{name}": round(float((cover == i).mean()), 4)
                for i, name in enumerate(COVER_NAMES)
            },
        }
    return out


def region_bounds(cfg: DemoRegionConfig) -> tuple[float, float, float, float]:
    """(minx, miny, maxx, maxy) of the demo region in its CRS."""
    rows, cols = cfg.shape
    x0, y0 = cfg.transform.c, cfg.transform.f
    return (x0, y0 - rows * cfg.pixel_size, x0 + cols * cfg.pixel_size, y0)


def tile_rasters(
    cfg: DemoRegionConfig, land: Landscape
) -> tuple[dict[str, Raster], dict[str, Any]]:
    """Every tile of every year in the SmallMinesDS layout (partition key -> raster).

    Keys are paths under the tiles folder without the suffix, e.g.
    ``2016/IMAGE/IMG_GH_1000_2016`` and ``2016/MASK/MASK_GH_1000_2016``.

    Returns:
        The rasters, and facts for the stamp: the class fractions of the generator's truth.
    """
    crs = CRS.from_user_input(cfg.crs)
    windows = _tile_windows(cfg)
    mask_names = ["mining"] if cfg.mask_layout == "mining" else ["mining", "cocoa_probability"]
    mask_dtype = "uint8" if cfg.mask_layout == "mining" else "float32"
    out: dict[str, Raster] = {}
    for year in cfg.years:
        image, mask = paint_bands(cfg, land, year)
        rng = np.random.default_rng(np.random.SeedSequence([cfg.seed, year, 1]))
        for tile, rs, cs in tqdm(windows, desc=f"demo tiles {year}", leave=False):
            transform = cfg.transform @ Affine.translation(cs.start, rs.start)
            img = np.ascontiguousarray(image[:, rs, cs])
            msk = np.ascontiguousarray(mask[:, rs, cs])
            if rng.random() < cfg.nodata_tile_fraction:
                _add_nodata(cfg, rng, img, msk)
            name = {"tile": tile, "year": year}
            image_key = f"{year}/IMAGE/{cfg.image_template.format(**name)}"
            mask_key = f"{year}/MASK/{cfg.mask_template.format(**name)}"
            out[image_key.removesuffix(".tif")] = Raster(
                img, transform, crs, cfg.image_nodata, list(cfg.band_names)
            )
            out[mask_key.removesuffix(".tif")] = Raster(
                msk.astype(mask_dtype), transform, crs, cfg.mask_nodata, mask_names
            )
    return out, {"summary": _summary(cfg, land), "mask_layout": cfg.mask_layout}


def cocoa_layer_raster(cfg: DemoRegionConfig, land: Landscape) -> Raster:
    """The cocoa-probability layer: one raster in ``cocoa_layer.crs``, static in time.

    The landscape's probability (on the region's grid) is reprojected onto a
    grid of ``cocoa_layer.resolution`` in ``cocoa_layer.crs`` that extends
    ``margin_px`` beyond the region; outside the region and in a few small
    gaps it has no data, as national maps do.
    """
    from rasterio.warp import Resampling, reproject, transform_bounds

    c = cfg.cocoa_layer
    minx, miny, maxx, maxy = transform_bounds(cfg.crs, c.crs, *region_bounds(cfg))
    res = c.resolution
    pad = c.margin_px * res
    x0 = np.floor((minx - pad) / res) * res
    y0 = np.ceil((maxy + pad) / res) * res
    width = int(np.ceil((maxx + pad - x0) / res))
    height = int(np.ceil((y0 - (miny - pad)) / res))
    transform = Affine(res, 0, x0, 0, -res, y0)
    prob = np.full((height, width), np.nan, dtype=np.float32)
    reproject(
        land.cocoa_probability.astype(np.float32),
        prob,
        src_transform=cfg.transform,
        src_crs=cfg.crs,
        dst_transform=transform,
        dst_crs=c.crs,
        resampling=Resampling.bilinear,
        src_nodata=np.nan,
        dst_nodata=np.nan,
    )
    rng = np.random.default_rng(np.random.SeedSequence([cfg.seed, 7]))
    prob[_disc_holes(rng, prob.shape, c.n_gaps, (4.0, 12.0))] = np.nan
    scaled = prob * c.scale
    if c.dtype == "uint8":
        scaled = np.rint(scaled)
    data = np.where(np.isfinite(prob), scaled, c.nodata).astype(c.dtype)
    raster = Raster(data[None], transform, CRS.from_user_input(c.crs), c.nodata)
    raster.band_names = ["cocoa_probability"]
    raster.tags = {"scale": f"probability x {c.scale:g}", "source": "cocoa-threat demo"}
    return raster


# What each raw input of the demo depends on: the fields of ``demo`` it does NOT depend on.
_DISTRICT_FIELDS = {"seed", "districts", "districts_crs", "crs", "pixel_size", "center_x"}
_DISTRICT_FIELDS |= {
    "center_y",
    "n_tiles_x",
    "n_tiles_y",
    "tile_size",
    "edge_trim_x",
    "edge_trim_y",
}
INDEPENDENT_OF: dict[str, set[str]] = {
    "tiles": {"districts", "districts_crs", "mercury", "cocoa_layer"},
    "cocoa_layer": {"districts", "districts_crs", "mercury", "mask_layout", "nodata_tile_fraction"},
    "districts": set(DemoRegionConfig.model_fields) - _DISTRICT_FIELDS,
    "mercury_survey": {"districts", "districts_crs", "cocoa_layer", "mask_layout"},
}
PRODUCTS = tuple(INDEPENDENT_OF)
NEEDS_LANDSCAPE = ("tiles", "cocoa_layer", "mercury_survey")


def fingerprint(cfg: DemoRegionConfig, product: str) -> str:
    """A canonical hash of what a raw input of the demo depends on."""
    config = cfg.model_dump(mode="json", exclude={"regenerate", *INDEPENDENT_OF[product]})
    text = json.dumps(
        {"generator": GENERATOR_VERSION, "product": product, "config": config},
        sort_keys=True,
        separators=(",", ":"),
    )
    return hashlib.sha256(text.encode()).hexdigest()


def stale_products(cfg: DemoRegionConfig, recorded: dict[str, str | None]) -> dict[str, str]:
    """The raw inputs to (re)write: product -> fingerprint, for those whose recorded one differs.

    Args:
        cfg: The ``demo`` parameters (``regenerate`` rewrites everything).
        recorded: Product -> the fingerprint in its stamp (None: missing).
    """
    wanted = {p: fingerprint(cfg, p) for p in PRODUCTS}
    return {p: f for p, f in wanted.items() if cfg.regenerate or recorded.get(p) != f}


def build_land(cfg: DemoRegionConfig) -> Landscape:
    """The landscape of the demo region, with a log line of its size."""
    rows, cols = cfg.shape
    logger.info(
        "Generating the synthetic demo region: %d x %d tiles, %d x %d px (%.0f km2)",
        cfg.n_tiles_x,
        cfg.n_tiles_y,
        cols,
        rows,
        rows * cols * cfg.pixel_size**2 / 1e6,
    )
    return build_landscape(cfg)


def stamp(product: str, print_: str, facts: dict[str, Any] | None = None) -> dict[str, Any]:
    """The stamp recorded beside a raw input of the demo."""
    generator = f"cocoa-threat demo v{GENERATOR_VERSION}"
    return {"fingerprint": print_, "generator": generator, "product": product, **(facts or {})}


def district_frame(cfg: DemoRegionConfig) -> Any:
    """District boundaries (a GeoDataFrame in ``districts_crs``)."""
    from cocoa_threat.demo.districts import make_districts

    return make_districts(region_bounds(cfg), cfg.districts, cfg.crs, cfg.districts_crs, cfg.seed)


def survey_frame(cfg: DemoRegionConfig, land: Landscape) -> Any:
    """The mercury survey (a table with lon/lat, as field files come)."""
    if cfg.mercury is None:
        raise ValueError(
            "demo.mercury is null, so the demo has no mercury survey; give it parameters "
            "or point mercury_survey_raw (raw.mercury_survey) at a survey"
        )
    return make_mercury_survey(
        cfg.mercury,
        mining=land.mining[cfg.years[-1]],
        roads=land.cover == ROAD,
        transform=cfg.transform,
        region_crs=cfg.crs,
        seed=cfg.seed,
    )
