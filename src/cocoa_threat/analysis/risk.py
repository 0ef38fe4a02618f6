"""Cocoa risk factors, each scaled 0-1, computed window by window with a halo.

* proximity: ``2 ** (-d / half_distance)`` of the distance ``d`` to the
  nearest current mining pixel, 0 beyond ``max_distance``;
* pressure: share of new mining (mined in the second map, not in the first)
  within ``radius`` (a disk), divided by ``saturation`` and capped at 1;
* mercury: ``log(C / background) / log(reference / background)``, clipped to 0-1;
* downstream: how far the highest mining pixel within ``radius`` (a square of
  +/- radius, so the running maximum is separable and fast) lies above the
  pixel, divided by ``drop_scale`` and capped at 1 (a DEM proxy for run-off and
  sediment from pits upslope; not a flow-routing model).

Every neighbourhood is bounded by a radius, so a window read with a halo of the
largest radius gives exactly the whole-array result.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import ndimage
from scipy.signal import fftconvolve

FACTORS = ("proximity", "pressure", "mercury", "downstream")


@dataclass(frozen=True)
class RiskSpec:
    """Factor settings in pixels and map units."""

    pixel_size: float
    mining: int
    half_distance_m: float
    max_distance_m: float
    pressure_radius_m: float
    pressure_saturation: float
    mercury_background: float
    mercury_reference: float
    downstream_radius_m: float
    downstream_drop_scale_m: float

    @property
    def halo(self) -> int:
        """Pixels of context needed around a window for exact results."""
        radius = max(self.max_distance_m, self.pressure_radius_m, self.downstream_radius_m)
        return int(np.ceil(radius * np.sqrt(2) / self.pixel_size)) + 1


def _disk(radius_m: float, pixel: float) -> np.ndarray:
    r = max(int(np.floor(radius_m / pixel)), 0)
    yy, xx = np.mgrid[-r : r + 1, -r : r + 1]
    return (xx**2 + yy**2) * pixel**2 <= radius_m**2


def risk_factors(
    before: np.ndarray, after: np.ndarray, mercury: np.ndarray, dem: np.ndarray, spec: RiskSpec
) -> dict[str, np.ndarray]:
    """The four factors (float32, 0-1) for every pixel of the arrays.

    Args:
        before: First land-use map (class codes).
        after: Second land-use map.
        mercury: Mercury surface (ng/m3).
        dem: Elevation (m).
        spec: Factor settings.

    Returns:
        Factor name -> array of the maps' shape.
    """
    px = spec.pixel_size
    mine = after == spec.mining
    if mine.any():
        dist = ndimage.distance_transform_edt(~mine) * px
    else:
        dist = np.full(after.shape, np.inf)
    proximity = np.where(dist <= spec.max_distance_m, 2.0 ** (-dist / spec.half_distance_m), 0.0)

    new = (mine & (before != spec.mining)).astype(np.float64)
    disk = _disk(spec.pressure_radius_m, px)
    # Counts of new-mining pixels in the disk: FFT convolution rounded to integers
    # is exact (the error is far below 0.5) and fast for large disks.
    counts = np.rint(fftconvolve(new, disk.astype(np.float64), mode="same")) if new.any() else new
    share = counts / disk.sum()
    pressure = np.clip(share / spec.pressure_saturation, 0.0, 1.0)

    ratio = np.log(np.maximum(mercury, 1e-6) / spec.mercury_background)
    merc = np.clip(ratio / np.log(spec.mercury_reference / spec.mercury_background), 0.0, 1.0)

    elev = np.where(mine, dem, -np.inf).astype(np.float64)
    size = 2 * int(np.floor(spec.downstream_radius_m / px)) + 1
    highest = ndimage.maximum_filter(elev, size=size, mode="constant", cval=-np.inf)
    drop = np.where(np.isfinite(highest), highest - dem, 0.0)
    downstream = np.clip(drop / spec.downstream_drop_scale_m, 0.0, 1.0)
    return {
        "proximity": proximity.astype(np.float32),
        "pressure": pressure.astype(np.float32),
        "mercury": merc.astype(np.float32),
        "downstream": downstream.astype(np.float32),
    }


def risk_score(factors: dict[str, np.ndarray], weights: dict[str, float]) -> np.ndarray:
    """Weighted sum of the factors (weights sum to 1, so the score is 0-1)."""
    return sum(np.float32(weights[name]) * factors[name] for name in FACTORS).astype(np.float32)


def perturbed_weights(
    weights: dict[str, float], change: float
) -> list[tuple[str, dict[str, float]]]:
    """Each weight moved by +/- ``change`` (relative), the others rescaled to keep the sum 1."""
    out = [("baseline", dict(weights))]
    for name in FACTORS:
        for sign in (+1, -1):
            new = weights[name] * (1 + sign * change)
            rest = 1.0 - weights[name]
            scale = (1.0 - new) / rest if rest > 0 else 0.0
            moved = {k: (new if k == name else v * scale) for k, v in weights.items()}
            out.append((f"{name} {'+' if sign > 0 else '-'}{change:.0%}", moved))
    return out


# --------------------------------------------------------------------------- #
# Windowed: the factors once, then the score, classes and tables from them
# --------------------------------------------------------------------------- #
def factor_producer(
    before: Any,
    after: Any,
    mercury: Any,
    dem: Any,
    spec: RiskSpec,
    nodata: int,
    dem_nodata: float,
    block: int,
) -> Any:
    """The four factors of every pixel (float32, one band each), window by window with a halo.

    The halo covers the largest neighbourhood, so a window gives exactly the
    whole-array result. Where the DEM has no data the downstream factor is 0;
    outside the mercury surface the concentration is the background.
    """
    from cocoa_threat.geo.cog import RasterProducer
    from cocoa_threat.geo.grid import expand, iter_windows, same_grid_or_raise

    for other, what in ((after, "land-use maps"), (mercury, "mercury surface"), (dem, "DEM")):
        same_grid_or_raise(before, other, f"Risk inputs ({what})")
    halo, grid = spec.halo, before.grid

    def blocks() -> Iterator[tuple[Any, np.ndarray]]:
        for window in iter_windows(grid.width, grid.height, block):
            big = expand(window, halo)
            a = before.read(big, bands=[1], fill=nodata)[0]
            b = after.read(big, bands=[1], fill=nodata)[0]
            hg = mercury.read(big, bands=[1], fill=spec.mercury_background)[0]
            z = dem.read(big, bands=[1], fill=dem_nodata)[0].astype(np.float64)
            z[(z == dem_nodata) | ~np.isfinite(z)] = np.nan
            factors = risk_factors(a, b, hg, np.nan_to_num(z, nan=-1e9), spec)
            h, w = int(window.height), int(window.width)
            crop = {k: v[halo : halo + h, halo : halo + w] for k, v in factors.items()}
            no_dem = np.isnan(z[halo : halo + h, halo : halo + w])
            crop["downstream"] = np.where(no_dem, 0.0, crop["downstream"]).astype(np.float32)
            yield window, np.stack([crop[k] for k in FACTORS])

    return RasterProducer(
        grid=grid,
        count=len(FACTORS),
        dtype="float32",
        nodata=None,
        blocks=blocks,
        band_names=list(FACTORS),
        tags={"halo_px": str(halo)},
    )


def classify(score: np.ndarray, breaks: list[float]) -> np.ndarray:
    """Risk class of each score (0 below the first break ...)."""
    return np.digitize(score, breaks, right=False).astype(np.uint8)


def cocoa_windows(
    factors: Any, land: Any, cocoa: int, block: int
) -> Iterator[tuple[Any, dict[str, np.ndarray], np.ndarray]]:
    """(window, factors of its cocoa pixels, cocoa mask) of every window holding cocoa."""
    from cocoa_threat.geo.grid import iter_windows, same_grid_or_raise

    same_grid_or_raise(land, factors, "Land-use map and risk factors")
    for window in iter_windows(land.grid.width, land.grid.height, block):
        sel = land.read(window, bands=[1])[0] == cocoa
        if not sel.any():
            continue
        bands = factors.read(window)
        yield window, {k: bands[i][sel] for i, k in enumerate(FACTORS)}, sel


def risk_counts(
    factors: Any,
    land: Any,
    districts: Any,
    scenarios: list[tuple[str, dict[str, float]]],
    cocoa: int,
    breaks: list[float],
    block: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Cocoa pixels per risk class: by district (first scenario) and by scenario.

    Returns:
        (districts + 1, classes) and (scenarios, classes) pixel counts.
    """
    from cocoa_threat.analysis.zonal import count_by_zone, zones_of

    n_c, n_d = len(breaks) + 1, len(districts) + 1
    by_district = np.zeros((n_d, n_c), dtype=np.int64)
    by_scenario = np.zeros((len(scenarios), n_c), dtype=np.int64)
    for window, picked, sel in cocoa_windows(factors, land, cocoa, block):
        for i, (_, weights) in enumerate(scenarios):
            cls = classify(risk_score(picked, weights), breaks)
            by_scenario[i] += np.bincount(cls, minlength=n_c)
            if i == 0:
                zones = zones_of(districts, land.grid, window)[sel]
                by_district += count_by_zone(zones, cls, n_d, n_c)
    return by_district, by_scenario


def score_producer(
    factors: Any, land: Any, weights: dict[str, float], cocoa: int, block: int
) -> Any:
    """The 0-1 risk score of every cocoa pixel (float32, -1 elsewhere)."""
    from cocoa_threat.geo.cog import RasterProducer
    from cocoa_threat.geo.grid import iter_windows, same_grid_or_raise

    same_grid_or_raise(land, factors, "Land-use map and risk factors")

    def blocks() -> Iterator[tuple[Any, np.ndarray]]:
        for window in iter_windows(land.grid.width, land.grid.height, block):
            sel = land.read(window, bands=[1])[0] == cocoa
            bands = factors.read(window)
            score = risk_score({k: bands[i] for i, k in enumerate(FACTORS)}, weights)
            yield window, np.where(sel, score, -1.0)[None].astype(np.float32)

    return RasterProducer(
        grid=land.grid,
        count=1,
        dtype="float32",
        nodata=-1.0,
        blocks=blocks,
        band_names=["risk_score"],
        tags={f"weight_{k}": str(v) for k, v in weights.items()},
    )


def class_producer(
    score: Any, breaks: list[float], nodata: int, block: int, colormap: Any, tags: dict[str, str]
) -> Any:
    """Risk classes of the scored (cocoa) pixels, ``nodata`` elsewhere."""
    from cocoa_threat.geo.cog import RasterProducer
    from cocoa_threat.geo.grid import iter_windows

    def blocks() -> Iterator[tuple[Any, np.ndarray]]:
        for window in iter_windows(score.grid.width, score.grid.height, block):
            s = score.read(window, bands=[1])[0]
            cls = np.where(s >= 0, classify(s, breaks), nodata).astype(np.uint8)
            yield window, cls[None]

    return RasterProducer(
        grid=score.grid,
        count=1,
        dtype="uint8",
        nodata=nodata,
        blocks=blocks,
        band_names=["risk_class"],
        colormap=colormap,
        tags=tags,
    )
