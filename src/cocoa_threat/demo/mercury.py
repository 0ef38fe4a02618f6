"""Demo survey of gaseous elemental mercury (GEM) in air, like a Lumex RA-915M campaign.

Points along roads and a few straight transects; log-normal concentrations over
the hemispheric background that rise near active mining, where amalgam is
burnt (plumes decaying with distance from burning sites). A few realistic
defects are planted: duplicates, values below the detection limit, negative
and missing values, and points outside the region.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from affine import Affine
from pyproj import Transformer

from cocoa_threat.params.demo import MercurySurveyConfig


def make_mercury_survey(
    cfg: MercurySurveyConfig,
    mining: np.ndarray,
    roads: np.ndarray,
    transform: Affine,
    region_crs: str,
    seed: int,
) -> pd.DataFrame:
    """Simulate the survey table.

    The steps share one random stream, in this order: points, concentrations,
    times, defects.

    Args:
        cfg: Survey parameters.
        mining: Boolean mining mask of the survey year (region grid).
        roads: Boolean road mask (region grid).
        transform: The region's affine transform.
        region_crs: The region's CRS.
        seed: Random seed.

    Returns:
        point_id, longitude/latitude (or x/y in ``cfg.crs``), concentration_ng_m3,
        time, instrument, height_m; with the planted defects.
    """
    rng = np.random.default_rng(np.random.SeedSequence([seed, 7]))
    rc = _survey_points(rng, cfg, roads)
    conc = _gem_concentrations(rng, cfg, rc, mining, pixel_m=abs(transform.a))
    table = _survey_table(rng, cfg, rc, conc, transform, region_crs)
    return _plant_defects(rng, table)


def _survey_points(
    rng: np.random.Generator, cfg: MercurySurveyConfig, roads: np.ndarray
) -> np.ndarray:
    """Where was measured: points along roads and a few straight transects.

    Returns:
        (n, 2) float (row, col) positions on the region grid.
    """
    rows, cols = roads.shape
    road_rc = np.argwhere(roads)
    pick = road_rc[
        rng.choice(len(road_rc), size=min(cfg.n_road_points, len(road_rc)), replace=False)
    ]
    points = [pick.astype(float) + rng.uniform(-0.5, 0.5, pick.shape)]
    for _ in range(cfg.n_transects):
        r0, c0 = rng.uniform(0.1, 0.9) * rows, rng.uniform(0.1, 0.9) * cols
        angle = rng.uniform(0, np.pi)
        steps = np.linspace(-0.3, 0.3, cfg.points_per_transect) * min(rows, cols)
        line = np.column_stack([r0 + steps * np.sin(angle), c0 + steps * np.cos(angle)])
        points.append(
            line[(line[:, 0] >= 0) & (line[:, 0] < rows) & (line[:, 1] >= 0) & (line[:, 1] < cols)]
        )
    return np.concatenate(points)


def _gem_concentrations(
    rng: np.random.Generator,
    cfg: MercurySurveyConfig,
    rc: np.ndarray,
    mining: np.ndarray,
    pixel_m: float,
) -> np.ndarray:
    """Measured GEM (ng/m3) at ``rc``: log-normal background plus plumes, with measurement noise.

    Burning sites sit inside active mining; their plumes decay exponentially
    with distance (``plume_length_m``).
    """
    mine_rc = np.argwhere(mining)
    sites = mine_rc[
        rng.choice(len(mine_rc), size=min(cfg.n_burning_sites, len(mine_rc)), replace=False)
    ]
    strength = cfg.site_median_ng_m3 * np.exp(cfg.site_log_sd * rng.standard_normal(len(sites)))
    dist_m = np.sqrt(((rc[:, None, :] - sites[None, :, :]) ** 2).sum(-1)) * pixel_m
    plume = (strength[None, :] * np.exp(-dist_m / cfg.plume_length_m)).sum(axis=1)
    background = cfg.background_ng_m3 * np.exp(cfg.background_log_sd * rng.standard_normal(len(rc)))
    return (background + plume) * np.exp(cfg.measurement_log_sd * rng.standard_normal(len(rc)))


def _survey_table(
    rng: np.random.Generator,
    cfg: MercurySurveyConfig,
    rc: np.ndarray,
    conc: np.ndarray,
    transform: Affine,
    region_crs: str,
) -> pd.DataFrame:
    """The field file: points in ``cfg.crs``, rounded values, times over four 10-hour days."""
    xs, ys = transform * (rc[:, 1] + 0.5, rc[:, 0] + 0.5)
    lon, lat = Transformer.from_crs(region_crs, cfg.crs, always_xy=True).transform(xs, ys)
    start = pd.Timestamp(cfg.survey_date) + pd.Timedelta(hours=8)
    times = start + pd.to_timedelta(np.sort(rng.uniform(0, 4 * 10 * 3600, len(rc))), unit="s")
    return pd.DataFrame(
        {
            "point_id": np.arange(1, len(rc) + 1),
            "longitude": np.round(lon, 7),
            "latitude": np.round(lat, 7),
            "concentration_ng_m3": np.round(conc, 2),
            "time": times.strftime("%Y-%m-%dT%H:%M:%S"),
            "instrument": cfg.instrument,
            "height_m": cfg.height_m,
        }
    )


def _plant_defects(rng: np.random.Generator, table: pd.DataFrame) -> pd.DataFrame:
    """Plant the defects of real field files.

    Missing, negative and below-detection values (in ``table``, in place),
    then three points outside the region and three duplicated rows appended.
    """
    n = len(table)
    table.loc[rng.choice(n, 3, replace=False), "concentration_ng_m3"] = np.nan
    table.loc[rng.choice(n, 2, replace=False), "concentration_ng_m3"] = -0.4
    table.loc[rng.choice(n, 6, replace=False), "concentration_ng_m3"] = 0.3  # below detection
    outside = table.sample(3, random_state=int(rng.integers(1 << 31))).copy()
    outside["longitude"] += 0.5
    outside["point_id"] = np.arange(n + 1, n + 4)
    duplicates = table.sample(3, random_state=int(rng.integers(1 << 31)))
    return pd.concat([table, outside, duplicates], ignore_index=True)
