"""Error-adjusted area estimation.

Two estimators:

* :func:`stratified_area_estimate`: Olofsson et al. 2014 (Remote Sensing of
  Environment 148:42-57) for a stratified random sample of *pixels* whose strata
  are the map classes. With ``W_i`` the mapped area share of map class ``i`` and
  ``n_ij`` the sample counts (map class ``i``, reference class ``j``)::

      p_ij   = W_i * n_ij / n_i.
      p_.j   = sum_i p_ij                       (estimated area share of class j)
      A_j    = A_total * p_.j
      SE(p_.j) = sqrt( sum_i W_i^2 * (n_ij/n_i.) * (1 - n_ij/n_i.) / (n_i. - 1) )
      CI     = A_j +/- z * A_total * SE(p_.j)

  It is right when the pixels are drawn independently. Our reference sample is
  whole tiles (clusters of strongly correlated pixels), for which its standard
  errors are many times too small.

* :func:`stratified_difference_estimate`: the estimator of a stratified random
  sample of *units* (any units: whole spatial blocks of tiles here, pixels or
  patches of a reference sample elsewhere), each with a mapped value ``m_u`` and
  a reference value ``y_u``. With ``N_h`` units in stratum ``h``, ``M_h`` their
  mapped total and ``d_u = y_u - m_u`` over the ``n_h`` sample units::

      A      = sum_h ( M_h + N_h * mean_h(d) )                (difference estimator)
      V(A)   = sum_h N_h^2 (1 - n_h/N_h) s_h^2(d) / n_h      (s_h^2 with n_h - 1)
      df     = V^2 / sum_h V_h^2 / (n_h - 1)                   (Satterthwaite)
      CI     = A +/- t(df) sqrt(V)

  It is unbiased under simple random sampling of units within strata, whatever
  the strata's sampling rates (each unit weighs ``N_h / n_h``); the variance is
  between units, so correlation inside a unit costs what it really costs. With
  the map classes as strata and pixels as units (``m`` constant in a stratum)
  it is Olofsson's estimator above: ``N_h mean_h(y)`` and
  ``N_h^2 p(1 - p) / (n_h - 1)``. A stratum with fewer than two sample units
  gives no interval (NaN and a warning naming it); a stratum whose every unit
  is in the sample is a census (no sampling error).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import norm
from scipy.stats import t as student_t

logger = logging.getLogger(__name__)


def stratified_area_estimate(
    sample_counts: np.ndarray,
    map_area: np.ndarray,
    class_names: list[str],
    confidence: float,
) -> pd.DataFrame:
    """Error-adjusted areas with confidence intervals.

    Args:
        sample_counts: (k, k) counts, rows = **map** class (strata), columns =
            reference class.
        map_area: Mapped area of each class (any unit; results use the same).
        class_names: Name of each class.
        confidence: Confidence level of the intervals.

    Returns:
        One row per class: map_area, adjusted_area, se, ci_low, ci_high,
        users_accuracy, producers_accuracy, n_sample (reference-class count)
        and n_stratum (map-class count); ``attrs["overall_accuracy"]`` holds
        the estimated overall accuracy.

    Raises:
        ValueError: On shapes that don't match.
    """
    n = np.asarray(sample_counts, dtype=np.float64)
    a = np.asarray(map_area, dtype=np.float64)
    k = len(class_names)
    if n.shape != (k, k) or a.shape != (k,):
        raise ValueError(f"need a {k} x {k} sample matrix and {k} map areas")
    total = a.sum()
    weights = a / total
    n_i = n.sum(axis=1)
    empty = (n_i == 0) & (weights > 0)
    thin = (n_i == 1) & (weights > 0)
    if empty.any() or thin.any():
        logger.warning(
            "Mapped class(es) %s have fewer than 2 sample pixels: no confidence interval "
            "for the classes they contribute to (their map area is taken as is)",
            [class_names[i] for i in np.flatnonzero(empty | thin)],
        )
    share = np.divide(n, n_i[:, None], out=np.zeros_like(n), where=n_i[:, None] > 0)
    share[empty, np.flatnonzero(empty)] = 1.0
    p = weights[:, None] * share
    p_ref = p.sum(axis=0)
    denom = np.where(n_i > 1, n_i - 1, np.nan)
    contrib = (weights**2)[:, None] * share * (1 - share) / denom[:, None]
    # A stratum without a variance estimate leaves NaN wherever it contributes area.
    unknown = (np.isnan(contrib) & (p > 0)).any(axis=0)
    var = np.where(unknown, np.nan, np.nansum(np.where(p > 0, contrib, 0.0), axis=0))
    se = np.sqrt(var) * total
    z = norm.ppf(0.5 + confidence / 2)
    adjusted = p_ref * total
    users = np.divide(np.diag(p), p.sum(axis=1), out=np.full(k, np.nan), where=p.sum(axis=1) > 0)
    producers = np.divide(np.diag(p), p_ref, out=np.full(k, np.nan), where=p_ref > 0)
    out = pd.DataFrame(
        {
            "class": class_names,
            "map_area": a,
            "adjusted_area": adjusted,
            "se": se,
            "ci_low": np.maximum(adjusted - z * se, 0.0),
            "ci_high": adjusted + z * se,
            "users_accuracy": users,
            "producers_accuracy": producers,
            "n_sample": n.sum(axis=0).astype(int),
            "n_stratum": n_i.astype(int),
        }
    )
    out.attrs["overall_accuracy"] = float(np.trace(p))
    return out


@dataclass(frozen=True)
class Stratum:
    """One stratum of sampling units for :func:`stratified_difference_estimate`.

    Attributes:
        name: For messages.
        n_units: Units of the stratum in the population (``N_h``).
        map_total: Mapped value of the quantity over all its units (``M_h``).
        y: Reference value of each sample unit.
        m: Mapped value of each sample unit (same units, same order).
    """

    name: str
    n_units: int
    map_total: float
    y: np.ndarray
    m: np.ndarray


@dataclass(frozen=True)
class DesignEstimate:
    """A total estimated from a sample of units, with its design-based uncertainty."""

    estimate: float
    se: float
    ci_low: float
    ci_high: float
    df: float
    n_units: int
    n_population_units: int
    n_eff: float
    ci_low_clipped: bool = False
    warnings: tuple[str, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class _Part:
    """One stratum's share of the estimate and of its variance (NaN: can't tell)."""

    estimate: float
    variance: float
    df: float
    warning: str | None = None


def _stratum_part(s: Stratum) -> _Part:
    """Difference estimate of one stratum and its between-unit variance with n_h - 1."""
    y, m = np.asarray(s.y, float), np.asarray(s.m, float)
    if y.shape != m.shape:
        raise ValueError(f"stratum {s.name}: y and m have different shapes")
    n = len(y)
    if n > s.n_units:
        raise ValueError(f"stratum {s.name}: {n} sample units but only {s.n_units} in all")
    if n == 0:
        note = f"stratum {s.name}: no sample unit, its map value is taken as is"
        return _Part(s.map_total, np.nan if s.n_units else 0.0, np.nan, note if s.n_units else None)
    d = y - m
    estimate = s.map_total + s.n_units * d.mean()
    if n == s.n_units:
        return _Part(estimate, 0.0, np.nan)  # a census of the stratum: no sampling error
    if n == 1:
        note = f"stratum {s.name}: one sample unit, too few for a variance between units"
        return _Part(estimate, np.nan, np.nan, note)
    variance = s.n_units**2 * (1 - n / s.n_units) * d.var(ddof=1) / n
    return _Part(estimate, float(variance), n - 1.0)


def satterthwaite_df(variances: np.ndarray, dfs: np.ndarray) -> float:
    """Welch-Satterthwaite degrees of freedom of a sum of independent variance estimates.

    Terms with zero variance (censuses, strata without any error) carry no
    weight; with no variance at all the result is NaN.
    """
    v, k = np.asarray(variances, float), np.asarray(dfs, float)
    keep = v > 0
    if not keep.any():
        return float("nan")
    return float(v[keep].sum() ** 2 / (v[keep] ** 2 / k[keep]).sum())


def stratified_difference_estimate(
    strata: list[Stratum],
    confidence: float,
    total_area: float | None = None,
    min_units: int = 2,
) -> DesignEstimate:
    """Difference estimator of a total from a stratified random sample of units.

    Args:
        strata: The strata (one is fine): population size, mapped total and the
            sample units' reference and mapped values.
        confidence: Confidence level of the interval (t with Satterthwaite df).
        total_area: Size of the population in the quantity's unit (for the
            effective sample size).
        min_units: Fewest sample units in all for an interval (at least 2).

    Returns:
        The estimate, its standard error and interval (NaN where the design
        can't support one, with the reason in ``warnings``; the lower bound
        clipped at 0 and flagged), the Satterthwaite df, the number of sample and
        population units, and the effective sample size: how many independently
        drawn pixels would give the same precision.
    """
    parts = [_stratum_part(s) for s in strata]
    warnings = [p.warning for p in parts if p.warning]
    estimate = float(sum(p.estimate for p in parts))
    variances = np.array([p.variance for p in parts])
    n_units = sum(len(s.y) for s in strata)
    sampled = any(len(s.y) < s.n_units for s in strata)
    if sampled and n_units < max(min_units, 2):
        warnings.append(f"only {n_units} sample units in all (needs {max(min_units, 2)})")
    elif sampled and np.nansum(variances) == 0 and not np.isnan(variances).any():
        warnings.append(f"no variation among the {n_units} sample units: the error can't be told")
    var = np.nan if warnings else float(variances.sum())
    dof = satterthwaite_df(variances, np.array([p.df for p in parts])) if var > 0 else np.nan
    for w in warnings:
        logger.warning("Area estimate: %s; no confidence interval", w)
    return _with_interval(estimate, var, dof, confidence, total_area, warnings, n_units, strata)


def _with_interval(
    estimate: float,
    var: float,
    dof: float,
    confidence: float,
    total_area: float | None,
    warnings: list[str],
    n_units: int,
    strata: list[Stratum],
) -> DesignEstimate:
    """The t interval (lower bound clipped at 0, flagged) and the effective sample size."""
    se = float(np.sqrt(var)) if np.isfinite(var) else np.nan
    low = high = n_eff = np.nan
    if var == 0:  # a census: no sampling error
        low, high, n_eff = estimate, estimate, np.inf
    elif np.isfinite(var):
        q = float(student_t.ppf(0.5 + confidence / 2, dof))
        low, high = estimate - q * se, estimate + q * se
        n_eff = np.inf
        if total_area:
            p = min(max(estimate / total_area, 0.0), 1.0)
            n_eff = p * (1 - p) / (var / total_area**2)
    return DesignEstimate(
        estimate=estimate,
        se=se,
        ci_low=float(max(low, 0.0)) if np.isfinite(low) else float(low),
        ci_high=float(high),
        df=float(dof),
        n_units=n_units,
        n_population_units=sum(s.n_units for s in strata),
        n_eff=float(n_eff),
        ci_low_clipped=bool(np.isfinite(low) and low < 0),
        warnings=tuple(warnings),
    )


POPULATIONS = ("non-training tiles", "whole region")
COLUMNS = [
    "quantity",
    "population",
    "period",
    "class",
    "map_ha",
    "adjusted_ha",
    "se_ha",
    "ci_low_ha",
    "ci_high_ha",
    "ci_low_clipped",
    "census_ha",
    "census_in_ci",
    "confidence",
    "df",
    "n_units",
    "n_population_units",
    "n_strata",
    "n_eff",
    "note",
]


def sampling_units(tiles: pd.DataFrame, unit: str) -> pd.DataFrame:
    """Mapped, reference and tile hectares summed per sampling unit, with its split and stratum.

    Raises:
        ValueError: When a unit holds tiles of several splits or strata.
    """
    missing = {unit, "split", "stratum"} - set(tiles.columns)
    if missing:
        raise ValueError(
            f"tile_areas lacks {sorted(missing)} (the test sample's design); re-run the "
            f"ingestion and transition pipelines"
        )
    for column in ("split", "stratum"):
        mixed = tiles.groupby(unit)[column].nunique()
        if (mixed > 1).any():
            raise ValueError(
                f"Sampling units {sorted(mixed[mixed > 1].index)[:5]} hold tiles of several "
                f"{column}s; the split must assign whole {unit}s"
            )
    return tiles.groupby(unit).agg(
        map_ha=("map_ha", "sum"),
        ref_ha=("ref_ha", "sum"),
        tile_ha=("tile_ha", "sum"),
        split=("split", "first"),
        stratum=("stratum", "first"),
    )


def design_strata(units: pd.DataFrame, sample_split: str = "test") -> list[Stratum]:
    """The strata of the non-training units, each with its sample (the ``sample_split`` units)."""
    population = units[units["split"] != "train"]
    strata = []
    for name, group in population.groupby("stratum", sort=True):
        sample = group[group["split"] == sample_split]
        strata.append(
            Stratum(
                f"stratum {name}",
                len(group),
                float(group["map_ha"].sum()),
                sample["ref_ha"].to_numpy(),
                sample["map_ha"].to_numpy(),
            )
        )
    return strata


def _population_rows(est: DesignEstimate, units: pd.DataFrame, base: dict[str, Any]) -> list[dict]:
    """The estimate over the non-training tiles, and over the whole region (training tiles
    added at their labelled area, known exactly)."""
    train = units["split"] == "train"
    rows = []
    for population, members, shift in (
        (POPULATIONS[0], units[~train], 0.0),
        (POPULATIONS[1], units, float(units.loc[train, "ref_ha"].sum())),
    ):
        low, high, census = est.ci_low + shift, est.ci_high + shift, float(members["ref_ha"].sum())
        rows.append(
            {
                **base,
                "population": population,
                "map_ha": float(members["map_ha"].sum()),
                "adjusted_ha": est.estimate + shift,
                "ci_low_ha": low,
                "ci_high_ha": high,
                "census_ha": census,
                "census_in_ci": bool(low <= census <= high) if np.isfinite(low) else None,
                "n_population_units": len(members),
            }
        )
    return rows


def area_table(tiles: pd.DataFrame, confidence: float, unit: str, min_units: int) -> pd.DataFrame:
    """Areas estimated from the test sample, beside the mapped areas and the label census.

    The sampling units are the test split's ``unit`` (spatial blocks of tiles,
    drawn as wholes by stratified random sampling). The map over training tiles
    was fitted to their labels, so the test sample speaks only for the tiles the
    model never fitted (validation, test and any unlabelled tiles): the
    stratified difference estimator runs over those (``non-training tiles``;
    in each stratum the test units are a simple random sample of its
    non-training units). The ``whole region`` adds the training tiles at their
    labelled area, which is known exactly; its interval is the non-training part's.

    Args:
        tiles: One row per tile and quantity: tile_id, the ``unit`` column,
            split, stratum, quantity, period, class, map_ha (mapped area over the
            whole tile), ref_ha (labelled reference area), tile_ha.
        confidence: Confidence level of the intervals.
        unit: The column of the sampling unit (``block`` or ``tile_id``).
        min_units: Fewest test units for an interval.

    Returns:
        One row per quantity and population: map_ha, adjusted_ha, se_ha,
        ci_low_ha, ci_high_ha, ci_low_clipped (the lower bound was below 0 and
        is cut there), census_ha (labels of every tile of the population),
        census_in_ci, confidence, df, n_units (test units),
        n_population_units, n_strata, n_eff and note.
    """
    rows = []
    for quantity, g in tiles.groupby("quantity", sort=False):
        units = sampling_units(g, unit)
        strata = design_strata(units)
        total = float(units.loc[units["split"] != "train", "tile_ha"].sum())
        est = stratified_difference_estimate(strata, confidence, total, min_units)
        base = {
            "quantity": quantity,
            "period": g["period"].iloc[0],
            "class": g["class"].iloc[0],
            "se_ha": est.se,
            "ci_low_clipped": est.ci_low_clipped,
            "confidence": confidence,
            "df": est.df,
            "n_units": est.n_units,
            "n_strata": len(strata),
            "n_eff": est.n_eff,
            "note": "; ".join(est.warnings),
        }
        rows += _population_rows(est, units, base)
    return pd.DataFrame(rows)[COLUMNS]
