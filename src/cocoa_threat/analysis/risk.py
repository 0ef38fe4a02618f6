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

from dataclasses import dataclass

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
