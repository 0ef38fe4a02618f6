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

from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np
from scipy import ndimage
from scipy.signal import fftconvolve

from cocoa_threat.analysis.flow import d8_directions, flow_distance_from, flow_halo
from cocoa_threat.errors import NonFiniteError
from cocoa_threat.geo.compute import ComputeSettings
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
        # A pixel within distance r of another is within r / pixel rows and columns of it.
        radius = max(self.max_distance_m, self.pressure_radius_m)
        disk = int(np.ceil(radius / self.pixel_size)) + 1
        return max(disk, flow_halo(self.downstream_max_distance_m, self.pixel_size))


def _disk(radius_m: float, pixel: float) -> np.ndarray:
    r = max(int(np.floor(radius_m / pixel)), 0)
    yy, xx = np.mgrid[-r : r + 1, -r : r + 1]
    return (xx**2 + yy**2) * pixel**2 <= radius_m**2


def mining_distance(mine: np.ndarray, pixel: float) -> np.ndarray:
    """Distance (map units, float64) of every pixel to the nearest mining pixel; inf if none."""
    if mine.any():
        return ndimage.distance_transform_edt(~mine) * pixel
    return np.full(mine.shape, np.inf)


def proximity_factor(distance: np.ndarray, spec: RiskSpec) -> np.ndarray:
    """``2 ** (-d / half_distance)`` of the distance to mining, 0 beyond ``max_distance``."""
    return np.where(
        distance <= spec.max_distance_m, 2.0 ** (-distance / spec.half_distance_m), 0.0
    ).astype(np.float32)


def new_mining_counts(
    before: np.ndarray, after: np.ndarray, spec: RiskSpec
) -> tuple[np.ndarray, int]:
    """New-mining pixels within ``pressure_radius_m`` of every pixel, and the disk's size."""
    mapped_before = (before != spec.mining) & (before != spec.nodata)
    new = ((after == spec.mining) & mapped_before).astype(np.float64)
    disk = _disk(spec.pressure_radius_m, spec.pixel_size)
    # FFT convolution rounded to integers is exact (the error is far below 0.5) and
    # fast for large disks.
    counts = np.rint(fftconvolve(new, disk.astype(np.float64), mode="same")) if new.any() else new
    return counts, int(disk.sum())


def pressure_factor(counts: np.ndarray, disk_size: int, spec: RiskSpec) -> np.ndarray:
    """Share of new mining in the disk over ``pressure_saturation``, capped at 1."""
    return np.clip(counts / disk_size / spec.pressure_saturation, 0.0, 1.0).astype(np.float32)


def mercury_factor(mercury: np.ndarray, spec: RiskSpec) -> np.ndarray:
    """``log(C / background) / log(reference / background)`` in 0-1; 0 where C is NaN."""
    with np.errstate(invalid="ignore"):
        ratio = np.log(np.maximum(mercury, 1e-6) / spec.mercury_background)
        merc = np.clip(ratio / np.log(spec.mercury_reference / spec.mercury_background), 0.0, 1.0)
    return np.where(np.isfinite(mercury), merc, 0.0).astype(np.float32)


def flow_distance(mine: np.ndarray, dem: np.ndarray, spec: RiskSpec, limit: float) -> np.ndarray:
    """Flow distance from the nearest mining pixel upstream (inf beyond ``limit``)."""
    directions = d8_directions(dem, spec.pixel_size)
    return flow_distance_from(mine, directions, spec.pixel_size, limit)


def downstream_factor(flow: np.ndarray, spec: RiskSpec) -> np.ndarray:
    """``2 ** (-d / half_distance)`` of the flow distance, 0 beyond ``max_distance``.

    ``flow`` may have been followed further than this spec's ``max_distance``
    (distances within it are the same whatever the limit).
    """
    return np.where(
        flow <= spec.downstream_max_distance_m,
        2.0 ** (-flow / spec.downstream_half_distance_m),
        0.0,
    ).astype(np.float32)


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
    mine = after == spec.mining
    counts, disk_size = new_mining_counts(before, after, spec)
    flow = flow_distance(mine, dem, spec, spec.downstream_max_distance_m)
    return {
        "proximity": proximity_factor(mining_distance(mine, spec.pixel_size), spec),
        "pressure": pressure_factor(counts, disk_size, spec),
        "mercury": mercury_factor(mercury, spec),
        "downstream": downstream_factor(flow, spec),
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
# Windowed: the factors once, then the score, classes and tables from them. Each
# window is a pure function run by cocoa_threat.geo.compute (here or on Dask).
# --------------------------------------------------------------------------- #
@dataclass(frozen=True)
class RiskInputs:
    """The rasters the factors come from (every worker reads them by window)."""

    before: Any
    after: Any
    mercury: Any
    dem: Any
    dem_nodata: float

    def check(self) -> None:
        """Fail unless every input is on the grid of the first map."""
        from cocoa_threat.geo.grid import same_grid_or_raise

        for other, what in (
            (self.after, "land-use maps"),
            (self.mercury, "mercury surface"),
            (self.dem, "DEM"),
        ):
            same_grid_or_raise(self.before, other, f"Risk inputs ({what})")

    def read(self, window: Any, halo: int, nodata: int) -> tuple[np.ndarray, ...]:
        """Both maps, mercury (NaN: none) and elevation (NaN: none) of a window and its halo."""
        from cocoa_threat.geo.grid import expand

        big = expand(window, halo)
        a = self.before.read(big, bands=[1], fill=nodata)[0]
        b = self.after.read(big, bands=[1], fill=nodata)[0]
        hg = self.mercury.read(big, bands=[1], fill=np.nan)[0].astype(np.float64)
        if self.mercury.nodata is not None and np.isfinite(self.mercury.nodata):
            hg[hg == self.mercury.nodata] = np.nan
        z = self.dem.read(big, bands=[1], fill=self.dem_nodata)[0].astype(np.float64)
        z[(z == self.dem_nodata) | ~np.isfinite(z)] = np.nan
        return a, b, hg, z


def _core(window: Any, halo: int) -> tuple[slice, slice]:
    return slice(halo, halo + int(window.height)), slice(halo, halo + int(window.width))


def factor_window(window: Any, inputs: RiskInputs, spec: RiskSpec) -> np.ndarray:
    """The four factors of one window, (4, rows, cols) float32, from the window and its halo."""
    factors = risk_factors(*inputs.read(window, spec.halo, spec.nodata), spec)
    core = _core(window, spec.halo)
    return np.stack([factors[k][core] for k in FACTORS])


def factor_producer(
    inputs: RiskInputs, spec: RiskSpec, block: int, compute: ComputeSettings | None = None
) -> Any:
    """The four factors of every pixel (float32, one band each), window by window with a halo.

    The halo covers the largest neighbourhood, so a window gives exactly the
    whole-array result. Where the DEM has no data water does not flow (the
    downstream factor is 0 there); where the mercury surface has no value (beyond
    its coverage) the mercury factor is 0. Windows run here or on Dask (``compute``).
    """
    from cocoa_threat.geo.compute import window_producer

    inputs.check()
    return window_producer(
        partial(factor_window, inputs=inputs, spec=spec),
        inputs.before.grid,
        block,
        compute,
        what="risk factors window",
        count=len(FACTORS),
        dtype="float32",
        nodata=None,
        band_names=list(FACTORS),
        tags={"halo_px": str(spec.halo)},
    )


def classify(score: np.ndarray, breaks: list[float]) -> np.ndarray:
    """Risk class of each score (0 below the first break ...)."""
    return np.digitize(score, breaks, right=False).astype(np.uint8)


def _cocoa(window: Any, land: Any, factors: Any, cocoa: int) -> tuple[np.ndarray, dict | None]:
    """A window's cocoa mask and the stored factors of its cocoa pixels (None: no cocoa)."""
    sel = land.read(window, bands=[1])[0] == cocoa
    if not sel.any():
        return sel, None
    bands = factors.read(window)
    return sel, {k: bands[i][sel] for i, k in enumerate(FACTORS)}


def district_window(
    window: Any, factors: Any, land: Any, districts: Any, scenario: Scenario, cocoa: int
) -> tuple[np.ndarray]:
    """One window's cocoa pixels per (zone, risk class), int64."""
    from cocoa_threat.analysis.zonal import count_by_zone, zones_of

    n_d, n_c = len(districts) + 1, len(scenario.breaks) + 1
    sel, picked = _cocoa(window, land, factors, cocoa)
    if picked is None:
        return (np.zeros((n_d, n_c), np.int64),)
    cls = classify(risk_score(picked, scenario.weights), scenario.breaks)
    return (count_by_zone(zones_of(districts, land.grid, window)[sel], cls, n_d, n_c),)


def risk_counts(
    factors: Any,
    land: Any,
    districts: Any,
    scenario: Scenario,
    cocoa: int,
    block: int,
    compute: ComputeSettings | None = None,
) -> np.ndarray:
    """(districts + 1, classes) cocoa pixels per risk class and zone (0: outside), int64."""
    from cocoa_threat.geo.compute import sum_windows
    from cocoa_threat.geo.grid import iter_windows, same_grid_or_raise

    same_grid_or_raise(land, factors, "Land-use map and risk factors")
    (counts,) = sum_windows(
        partial(
            district_window,
            factors=factors,
            land=land,
            districts=districts,
            scenario=scenario,
            cocoa=cocoa,
        ),
        iter_windows(land.grid.width, land.grid.height, block),
        (np.zeros((len(districts) + 1, len(scenario.breaks) + 1), np.int64),),
        compute,
        what="risk by district window",
        grid=land.grid,
    )
    return counts


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


# --------------------------------------------------------------------------- #
# Sensitivity: one pass; each case recomputes only the factor it moves
# --------------------------------------------------------------------------- #
# The settings each factor depends on.
FACTOR_FIELDS = {
    "proximity": ("half_distance_m", "max_distance_m"),
    "pressure": ("pressure_radius_m", "pressure_saturation"),
    "mercury": ("mercury_background", "mercury_reference"),
    "downstream": ("downstream_half_distance_m", "downstream_max_distance_m"),
}


def moved_factors(base: RiskSpec, spec: RiskSpec) -> list[str]:
    """The factors whose settings differ between two specs (all, if shared ones differ)."""
    import dataclasses

    own = {f for fields in FACTOR_FIELDS.values() for f in fields}
    shared = [f.name for f in dataclasses.fields(RiskSpec) if f.name not in own]
    if any(getattr(base, f) != getattr(spec, f) for f in shared):
        return list(FACTORS)
    return [
        name
        for name, fields in FACTOR_FIELDS.items()
        if any(getattr(base, f) != getattr(spec, f) for f in fields)
    ]


class _Shared:
    """What the moved factors of one window share: one distance transform, one flow
    routing (followed as far as the furthest case), one count per pressure radius."""

    def __init__(self, arrays: tuple[np.ndarray, ...], specs: list[RiskSpec]) -> None:
        self.before, self.after, self.mercury, self.dem = arrays
        self.mine = self.after == specs[0].mining
        self.flow_limit = max(s.downstream_max_distance_m for s in specs)
        self._distance: np.ndarray | None = None
        self._flow: np.ndarray | None = None
        self._counts: dict[float, tuple[np.ndarray, int]] = {}

    def factor(self, name: str, spec: RiskSpec) -> np.ndarray:
        """One factor of ``spec`` for the window and its halo."""
        if name == "proximity":
            if self._distance is None:
                self._distance = mining_distance(self.mine, spec.pixel_size)
            return proximity_factor(self._distance, spec)
        if name == "pressure":
            if spec.pressure_radius_m not in self._counts:
                self._counts[spec.pressure_radius_m] = new_mining_counts(
                    self.before, self.after, spec
                )
            return pressure_factor(*self._counts[spec.pressure_radius_m], spec)
        if name == "mercury":
            return mercury_factor(self.mercury, spec)
        if self._flow is None:
            self._flow = flow_distance(self.mine, self.dem, spec, self.flow_limit)
        return downstream_factor(self._flow, spec)


def sensitivity_window(
    window: Any,
    factors: Any,
    inputs: RiskInputs,
    scenarios: list[Scenario],
    base: RiskSpec,
    cocoa: int,
) -> tuple[np.ndarray]:
    """Cocoa pixels per risk class of every scenario in one window, (scenarios, classes) int64.

    The factors a scenario does not move are the stored ones (``risk_factors``); the
    ones it moves are recomputed from the inputs, with the halo of the widest case.
    """
    out = np.zeros((len(scenarios), len(scenarios[0].breaks) + 1), np.int64)
    sel, stored = _cocoa(window, inputs.after, factors, cocoa)
    if stored is None:
        return (out,)
    moved = [moved_factors(base, sc.spec) for sc in scenarios]
    specs = [sc.spec for sc, names in zip(scenarios, moved, strict=True) if names]
    shared = None
    if specs:
        halo = max(s.halo for s in specs)
        shared, core = _Shared(inputs.read(window, halo, base.nodata), specs), _core(window, halo)
    for i, (scenario, names) in enumerate(zip(scenarios, moved, strict=True)):
        picked = dict(stored)
        for name in names:
            picked[name] = shared.factor(name, scenario.spec)[core][sel]  # type: ignore[union-attr]
        cls = classify(risk_score(picked, scenario.weights), scenario.breaks)
        out[i] = np.bincount(cls, minlength=out.shape[1])
    return (out,)


def sensitivity_counts(
    factors: Any,
    inputs: RiskInputs,
    scenarios: list[Scenario],
    base: RiskSpec,
    cocoa: int,
    block: int,
    compute: ComputeSettings | None = None,
) -> np.ndarray:
    """Cocoa pixels per risk class of every scenario, (scenarios, classes) int64, in one pass.

    Args:
        factors: The stored factors of ``base`` (``risk_factors``).
        inputs: The rasters the factors come from (for the factors a scenario moves).
        scenarios: From :func:`sensitivity_scenarios`.
        base: The factor settings the stored factors were computed with.
        cocoa: Cocoa class code.
        block: Window size.
        compute: The ``compute`` parameters (windows here or on Dask).
    """
    from cocoa_threat.geo.compute import sum_windows
    from cocoa_threat.geo.grid import iter_windows, same_grid_or_raise

    inputs.check()
    same_grid_or_raise(inputs.after, factors, "Land-use map and risk factors")
    grid = inputs.after.grid
    (counts,) = sum_windows(
        partial(
            sensitivity_window,
            factors=factors,
            inputs=inputs,
            scenarios=scenarios,
            base=base,
            cocoa=cocoa,
        ),
        iter_windows(grid.width, grid.height, block),
        (np.zeros((len(scenarios), len(scenarios[0].breaks) + 1), np.int64),),
        compute,
        what="risk sensitivity window",
        grid=grid,
    )
    return counts


# --------------------------------------------------------------------------- #
# Score and classes
# --------------------------------------------------------------------------- #
def score_window(
    window: Any, factors: Any, land: Any, weights: dict[str, float], cocoa: int
) -> np.ndarray:
    """The score of one window's cocoa pixels, -1 elsewhere, (1, rows, cols) float32."""
    sel = land.read(window, bands=[1])[0] == cocoa
    bands = factors.read(window)
    score = risk_score({k: bands[i] for i, k in enumerate(FACTORS)}, weights)
    return np.where(sel, score, -1.0)[None].astype(np.float32)


def score_producer(
    factors: Any,
    land: Any,
    weights: dict[str, float],
    cocoa: int,
    block: int,
    compute: ComputeSettings | None = None,
) -> Any:
    """The 0-1 risk score of every cocoa pixel (float32, -1 elsewhere)."""
    from cocoa_threat.geo.compute import window_producer
    from cocoa_threat.geo.grid import same_grid_or_raise

    same_grid_or_raise(land, factors, "Land-use map and risk factors")
    return window_producer(
        partial(score_window, factors=factors, land=land, weights=weights, cocoa=cocoa),
        land.grid,
        block,
        compute,
        what="risk score window",
        count=1,
        dtype="float32",
        nodata=-1.0,
        band_names=["risk_score"],
        tags={f"weight_{k}": str(v) for k, v in weights.items()},
    )


def class_window(window: Any, score: Any, breaks: list[float], nodata: int) -> np.ndarray:
    """Risk classes of one window's scored pixels, ``nodata`` elsewhere, (1, rows, cols)."""
    s = score.read(window, bands=[1])[0]
    return np.where(s >= 0, classify(s, breaks), nodata).astype(np.uint8)[None]


def class_producer(
    score: Any,
    breaks: list[float],
    nodata: int,
    block: int,
    colormap: Any,
    tags: dict[str, str],
    compute: ComputeSettings | None = None,
) -> Any:
    """Risk classes of the scored (cocoa) pixels, ``nodata`` elsewhere."""
    from cocoa_threat.geo.compute import window_producer

    return window_producer(
        partial(class_window, score=score, breaks=breaks, nodata=nodata),
        score.grid,
        block,
        compute,
        what="risk class window",
        count=1,
        dtype="uint8",
        nodata=nodata,
        band_names=["risk_class"],
        colormap=colormap,
        tags=tags,
    )
