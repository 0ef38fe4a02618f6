"""Cocoa risk factors, each scaled 0-1, computed window by window with a halo.

* proximity: ``2 ** (-d / half_distance)`` of the distance ``d`` to the
  nearest current mining pixel, 0 beyond ``max_distance``;
* pressure: share of new mining (mined in the second map, and mapped as
  something else, not nodata, in the first) within ``radius`` (a disk), divided
  by ``saturation`` and capped at 1;
* mercury: ``log(C / background) / log(reference / background)``, clipped to 0-1
  (0 where the surface does not cover the pixel: no evidence);
* downstream: ``2 ** (-d / half_distance)`` of the flow distance ``d`` from the
  nearest mining pixel upstream, along D8 flow paths on the DEM
  (:mod:`cocoa_threat.analysis.flow`), 0 beyond ``max_distance`` and where no
  mining drains to the pixel (run-off and sediment from pits go downhill only).

Every neighbourhood is bounded (a radius, or a flow distance), so a window read
with a halo of :attr:`RiskSpec.halo` pixels gives exactly the whole-array result.
Nodata in either map is never mining.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import ndimage
from scipy.signal import fftconvolve

from cocoa_threat.analysis.flow import d8_directions, flow_distance_from, flow_halo
from cocoa_threat.errors import NonFiniteError
from cocoa_threat.params import LandUse
from cocoa_threat.params.risk import FACTORS, RiskParams


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
    downstream_half_distance_m: float
    downstream_max_distance_m: float
    nodata: int = 255

    @classmethod
    def of(cls, p: RiskParams, land_use: LandUse) -> RiskSpec:
        """The factor settings of ``risk`` on the maps of ``land_use``."""
        return cls(
            pixel_size=land_use.pixel_size,
            mining=land_use.mining,
            half_distance_m=p.proximity.half_distance_m,
            max_distance_m=p.proximity.max_distance_m,
            pressure_radius_m=p.pressure.radius_m,
            pressure_saturation=p.pressure.saturation,
            mercury_background=p.mercury.background_ng_m3,
            mercury_reference=p.mercury.reference_ng_m3,
            downstream_half_distance_m=p.downstream.half_distance_m,
            downstream_max_distance_m=p.downstream.max_distance_m,
            nodata=land_use.nodata,
        )

    @property
    def halo(self) -> int:
        """Pixels of context needed around a window for exact results."""
        radius = max(self.max_distance_m, self.pressure_radius_m)
        disk = int(np.ceil(radius * np.sqrt(2) / self.pixel_size)) + 1
        return max(disk, flow_halo(self.downstream_max_distance_m, self.pixel_size))


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

    mapped_before = (before != spec.mining) & (before != spec.nodata)
    new = (mine & mapped_before).astype(np.float64)
    disk = _disk(spec.pressure_radius_m, px)
    # Counts of new-mining pixels in the disk: FFT convolution rounded to integers
    # is exact (the error is far below 0.5) and fast for large disks.
    counts = np.rint(fftconvolve(new, disk.astype(np.float64), mode="same")) if new.any() else new
    share = counts / disk.sum()
    pressure = np.clip(share / spec.pressure_saturation, 0.0, 1.0)

    with np.errstate(invalid="ignore"):
        ratio = np.log(np.maximum(mercury, 1e-6) / spec.mercury_background)
        merc = np.clip(ratio / np.log(spec.mercury_reference / spec.mercury_background), 0.0, 1.0)
    merc = np.where(np.isfinite(mercury), merc, 0.0)

    flow = flow_distance_from(mine, d8_directions(dem, px), px, spec.downstream_max_distance_m)
    downstream = np.where(np.isfinite(flow), 2.0 ** (-flow / spec.downstream_half_distance_m), 0.0)
    return {
        "proximity": proximity.astype(np.float32),
        "pressure": pressure.astype(np.float32),
        "mercury": merc.astype(np.float32),
        "downstream": downstream.astype(np.float32),
    }


def risk_score(factors: dict[str, np.ndarray], weights: dict[str, float]) -> np.ndarray:
    """Weighted sum of the factors (weights sum to 1, so the score is 0-1).

    Raises:
        NonFiniteError: If a factor or weight is NaN or infinite (a NaN score would
            otherwise fall into the top risk class), naming it.
    """
    score = sum(np.float32(weights[name]) * factors[name] for name in FACTORS).astype(np.float32)
    if not np.isfinite(score).all():
        bad = [
            n for n in FACTORS if not (np.isfinite(weights[n]) and np.isfinite(factors[n]).all())
        ]
        raise NonFiniteError(
            f"The risk score is not finite on {int((~np.isfinite(score)).sum())} pixel(s): "
            f"factor(s) {bad} hold NaN or infinities; check risk.weights and the rasters they "
            f"come from (risk_factors, mercury_surface, dem_mosaic, the land-use maps)"
        )
    return score


@dataclass(frozen=True)
class Scenario:
    """One set of risk settings of the sensitivity analysis.

    Attributes:
        group: ``baseline``, ``weight``, ``class break`` or ``distance``.
        label: E.g. ``proximity +20%``.
        weights: Factor weights (sum 1).
        breaks: Class breaks of the score.
        spec: Factor settings (differs from the baseline's only in ``distance`` scenarios).
    """

    group: str
    label: str
    weights: dict[str, float]
    breaks: list[float]
    spec: RiskSpec


# The factor settings varied by the sensitivity analysis (distances and the saturation).
DISTANCE_FIELDS = {
    "proximity half distance": "half_distance_m",
    "proximity max distance": "max_distance_m",
    "pressure radius": "pressure_radius_m",
    "pressure saturation": "pressure_saturation",
    "downstream half distance": "downstream_half_distance_m",
    "downstream max distance": "downstream_max_distance_m",
}


def perturbed_weights(
    weights: dict[str, float], change: float
) -> list[tuple[str, dict[str, float]]]:
    """Each weight moved by +/- ``change`` (relative), the others rescaled to keep the sum 1."""
    out = []
    for name in FACTORS:
        for sign in (+1, -1):
            new = weights[name] * (1 + sign * change)
            rest = 1.0 - weights[name]
            scale = (1.0 - new) / rest if rest > 0 else 0.0
            moved = {k: (new if k == name else v * scale) for k, v in weights.items()}
            out.append((f"{name} {'+' if sign > 0 else '-'}{change:.0%}", moved))
    return out


def sensitivity_scenarios(
    weights: dict[str, float],
    breaks: list[float],
    spec: RiskSpec,
    change: float,
    distances: bool = True,
) -> list[Scenario]:
    """The baseline and every setting moved by +/- ``change``, one at a time.

    Weights (the others rescaled), each class break (kept in order and within
    0-1) and, with ``distances``, each distance of the factors and the pressure
    saturation (capped at 1).
    """
    import dataclasses

    out = [Scenario("baseline", "baseline", dict(weights), list(breaks), spec)]
    for label, moved in perturbed_weights(weights, change):
        out.append(Scenario("weight", f"weight {label}", moved, list(breaks), spec))
    for i, b in enumerate(breaks):
        for sign in (+1, -1):
            low = breaks[i - 1] if i else 0.0
            high = breaks[i + 1] if i + 1 < len(breaks) else 1.0
            new = float(np.clip(b * (1 + sign * change), low + 1e-6, high - 1e-6))
            label = f"break {i + 1} ({b:g}) {'+' if sign > 0 else '-'}{change:.0%}"
            moved_breaks = [*breaks[:i], new, *breaks[i + 1 :]]
            out.append(Scenario("class break", label, dict(weights), moved_breaks, spec))
    if distances:
        for name, field in DISTANCE_FIELDS.items():
            for sign in (+1, -1):
                value = getattr(spec, field) * (1 + sign * change)
                if field == "pressure_saturation":
                    value = min(value, 1.0)
                moved_spec = dataclasses.replace(spec, **{field: value})
                label = f"{name} {'+' if sign > 0 else '-'}{change:.0%}"
                out.append(Scenario("distance", label, dict(weights), list(breaks), moved_spec))
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
    dem_nodata: float,
    block: int,
) -> Any:
    """The four factors of every pixel (float32, one band each), window by window with a halo.

    The halo covers the largest neighbourhood, so a window gives exactly the
    whole-array result. Where the DEM has no data water does not flow (the
    downstream factor is 0 there); where the mercury surface has no value (beyond
    its coverage) the mercury factor is 0.
    """
    from cocoa_threat.geo.cog import RasterProducer
    from cocoa_threat.geo.grid import expand, iter_windows, same_grid_or_raise

    for other, what in ((after, "land-use maps"), (mercury, "mercury surface"), (dem, "DEM")):
        same_grid_or_raise(before, other, f"Risk inputs ({what})")
    halo, grid, nodata = spec.halo, before.grid, spec.nodata

    def blocks() -> Iterator[tuple[Any, np.ndarray]]:
        for window in iter_windows(grid.width, grid.height, block):
            big = expand(window, halo)
            a = before.read(big, bands=[1], fill=nodata)[0]
            b = after.read(big, bands=[1], fill=nodata)[0]
            hg = mercury.read(big, bands=[1], fill=np.nan)[0].astype(np.float64)
            if mercury.nodata is not None and np.isfinite(mercury.nodata):
                hg[hg == mercury.nodata] = np.nan
            z = dem.read(big, bands=[1], fill=dem_nodata)[0].astype(np.float64)
            z[(z == dem_nodata) | ~np.isfinite(z)] = np.nan
            factors = risk_factors(a, b, hg, z, spec)
            h, w = int(window.height), int(window.width)
            yield window, np.stack([factors[k][halo : halo + h, halo : halo + w] for k in FACTORS])

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
    scenarios: list[Scenario],
    cocoa: int,
    block: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Cocoa pixels per risk class: by district (first scenario) and by scenario.

    The scenarios share the factors (weights and class breaks differ). With
    ``districts`` None, only the counts by scenario.

    Returns:
        (districts + 1, classes) and (scenarios, classes) pixel counts.
    """
    from cocoa_threat.analysis.zonal import count_by_zone, zones_of

    n_c = len(scenarios[0].breaks) + 1
    n_d = 0 if districts is None else len(districts) + 1
    by_district = np.zeros((n_d, n_c), dtype=np.int64)
    by_scenario = np.zeros((len(scenarios), n_c), dtype=np.int64)
    for window, picked, sel in cocoa_windows(factors, land, cocoa, block):
        for i, scenario in enumerate(scenarios):
            cls = classify(risk_score(picked, scenario.weights), scenario.breaks)
            by_scenario[i] += np.bincount(cls, minlength=n_c)
            if i == 0 and districts is not None:
                zones = zones_of(districts, land.grid, window)[sel]
                by_district += count_by_zone(zones, cls, n_d, n_c)
    return by_district, by_scenario


def sensitivity_table(
    scenarios: list[Scenario], counts: np.ndarray, labels: list[str], ha_per_pixel: float
) -> Any:
    """One row per scenario: what moved, hectares per class and the change against the first.

    ``upper_classes_ha`` sums the upper half of the classes (e.g. high and very high).
    """
    import pandas as pd

    upper = slice(len(labels) // 2, None)
    ha = counts * ha_per_pixel
    rows = []
    for scenario, values in zip(scenarios, ha, strict=True):
        row: dict[str, Any] = {"group": scenario.group, "scenario": scenario.label}
        row |= {f"w_{k}": scenario.weights[k] for k in FACTORS}
        row["class_breaks"] = " ".join(f"{b:.3g}" for b in scenario.breaks)
        for name, field in DISTANCE_FIELDS.items():
            row[name.replace(" ", "_")] = getattr(scenario.spec, field)
        for label, value, ref in zip(labels, values, ha[0], strict=True):
            row[f"{label}_ha"] = float(value)
            row[f"{label}_change_ha"] = float(value - ref)
        row["upper_classes_ha"] = float(values[upper].sum())
        row["upper_classes_change_ha"] = float(values[upper].sum() - ha[0][upper].sum())
        rows.append(row)
    return pd.DataFrame(rows)


def recomputed_counts(
    inputs: tuple[Any, Any, Any, Any],
    scenarios: list[Scenario],
    cocoa: int,
    dem_nodata: float,
    block: int,
) -> np.ndarray:
    """Cocoa pixels per risk class for scenarios whose factor settings differ (recomputed).

    Args:
        inputs: The first and second land-use maps, the mercury surface and the DEM.
        scenarios: Scenarios with their own :class:`RiskSpec`.
        cocoa: Cocoa class code.
        dem_nodata: DEM nodata value.
        block: Window size.

    Returns:
        (scenarios, classes) pixel counts.
    """
    n_c = len(scenarios[0].breaks) + 1 if scenarios else 0
    out = np.zeros((len(scenarios), n_c), dtype=np.int64)
    for i, scenario in enumerate(scenarios):
        producer = factor_producer(*inputs, scenario.spec, dem_nodata, block)
        for window, bands in producer.blocks():
            sel = inputs[1].read(window, bands=[1])[0] == cocoa
            if sel.any():
                picked = {k: bands[j][sel] for j, k in enumerate(FACTORS)}
                cls = classify(risk_score(picked, scenario.weights), scenario.breaks)
                out[i] += np.bincount(cls, minlength=n_c)
    return out


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
