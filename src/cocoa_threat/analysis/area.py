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

* :func:`stratified_difference_estimate`: the estimator that matches how the
  sample is drawn: whole spatial blocks of tiles (the sampling units), possibly
  in strata. With ``M_h`` the mapped area of stratum ``h`` (all its ``N_h``
  units) and ``d_u = y_u - m_u`` the reference minus the mapped area of sample
  unit ``u`` (``n_h`` of them)::

      A      = sum_h ( M_h + N_h * mean_h(d) )                (difference estimator)
      V(A)   = sum_h N_h^2 (1 - n_h/N_h) s_h^2(d) / n_h      (between-unit variance)
      CI     = A +/- t(df) sqrt(V)

  The degrees of freedom count the units that really carry the variance
  (:func:`effective_df`), combined over strata by Satterthwaite.

  It is unbiased under random sampling of units within strata; the variance is
  between units, so correlation inside a unit costs what it really costs. A
  stratum that has fewer than two sample units, or no variation among them,
  gives no interval (NaN and a warning naming it), never a zero variance; a
  stratum whose every unit is in the sample is a census (no sampling error).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.stats import norm
from scipy.stats import t as student_t

logger = logging.getLogger(__name__)


def stratified_area_estimate(
    sample_counts: np.ndarray,
    map_area: np.ndarray,
    class_names: list[str],
    confidence: float = 0.95,
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


def effective_df(d: np.ndarray) -> float:
    """Degrees of freedom of a sample variance, from how evenly the units carry it.

    ``n_eff = (sum r^2)^2 / sum r^4`` of the residuals ``r = d - mean(d)`` is the
    number of units that effectively make the variance (``n`` when all
    contribute alike, near 1 when one unit carries it all, as when only one or
    two test tiles hold any mining); the variance then has ``n_eff - 1`` degrees
    of freedom, at most ``n - 1`` and at least 1. It is the "effective number of
    clusters" of cluster-robust inference (Carter, Schnepel and Steigerwald
    2017, Review of Economics and Statistics 99:698-709), and keeps a skewed,
    zero-heavy sample of blocks from passing for ``n`` independent draws.
    """
    r2 = (np.asarray(d, float) - np.mean(d)) ** 2
    if r2.sum() == 0:
        return 1.0
    n_eff = r2.sum() ** 2 / (r2**2).sum()
    return float(max(1.0, min(len(d) - 1.0, n_eff - 1.0)))


@dataclass(frozen=True)
class Stratum:
    """One stratum of sampling units for :func:`stratified_difference_estimate`.

    Attributes:
        name: For messages.
        n_units: Units of the stratum in the population (``N_h``).
        map_total: Mapped area of the quantity over all its units (``M_h``).
        y: Reference area of each sample unit.
        m: Mapped area of each sample unit (same units, same order).
    """

    name: str
    n_units: int
    map_total: float
    y: np.ndarray
    m: np.ndarray


@dataclass(frozen=True)
class DesignEstimate:
    """An area estimated from a sample of units, with its design-based uncertainty."""

    estimate: float
    se: float
    ci_low: float
    ci_high: float
    df: float
    n_units: int
    n_population_units: int
    n_eff: float
    warnings: tuple[str, ...] = field(default_factory=tuple)


def stratified_difference_estimate(
    strata: list[Stratum],
    confidence: float = 0.95,
    total_area: float | None = None,
    min_units: int = 2,
) -> DesignEstimate:
    """Difference estimator of an area from sampled units, with a between-unit variance.

    Args:
        strata: The strata (one is fine): population size, mapped total and the
            sample units' reference and mapped areas.
        confidence: Confidence level of the interval (t with Satterthwaite df).
        total_area: Area of the population (for the effective sample size).
        min_units: Fewest sample units a stratum needs for an interval (at least 2).

    Returns:
        The estimate, its standard error and interval (NaN where the design
        can't support one, with the reason in ``warnings``), the number of
        sample and population units, and the effective sample size: how many
        independently drawn pixels would give the same precision.
    """
    estimate, var, dof_terms, warnings = 0.0, 0.0, [], []
    n_total = n_pop = 0
    for s in strata:
        y, m = np.asarray(s.y, float), np.asarray(s.m, float)
        if y.shape != m.shape:
            raise ValueError(f"stratum {s.name}: y and m have different shapes")
        n = len(y)
        if n > s.n_units:
            raise ValueError(f"stratum {s.name}: {n} sample units but only {s.n_units} in all")
        n_total, n_pop = n_total + n, n_pop + s.n_units
        if n == 0:
            if s.n_units:
                estimate += s.map_total
                var = np.nan
                warnings.append(f"stratum {s.name}: no sample unit, its map area is taken as is")
            continue
        d = y - m
        estimate += s.map_total + s.n_units * d.mean()
        if n == s.n_units:
            continue  # a census of the stratum: no sampling error
        if n < max(min_units, 2):
            var = np.nan
            what = "one sample unit" if n == 1 else f"only {n} sample units"
            warnings.append(
                f"stratum {s.name}: {what}, too few for a variance between units "
                f"(needs {max(min_units, 2)})"
            )
            continue
        s2 = d.var(ddof=1)
        if s2 == 0:
            var = np.nan
            warnings.append(
                f"stratum {s.name}: no variation among its {n} sample units, so the "
                f"sample can't tell the error"
            )
            continue
        v = s.n_units**2 * (1 - n / s.n_units) * s2 / n
        var += v
        dof_terms.append((v, effective_df(d)))
    if np.isnan(var):
        se = low = high = dof = n_eff = np.nan
    else:
        se = float(np.sqrt(var))
        num = sum(v for v, _ in dof_terms)
        den = sum(v**2 / k for v, k in dof_terms)
        dof = float(num**2 / den) if den > 0 else np.inf
        q = float(student_t.ppf(0.5 + confidence / 2, dof)) if np.isfinite(dof) else 0.0
        low, high = max(estimate - q * se, 0.0), estimate + q * se
        n_eff = np.inf
        if total_area and var > 0:
            p = min(max(estimate / total_area, 0.0), 1.0)
            n_eff = p * (1 - p) / (var / total_area**2)
    for w in warnings:
        logger.warning("Area estimate: %s; no confidence interval", w)
    return DesignEstimate(
        estimate=float(estimate),
        se=float(se),
        ci_low=float(low),
        ci_high=float(high),
        df=float(dof),
        n_units=n_total,
        n_population_units=n_pop,
        n_eff=float(n_eff),
        warnings=tuple(warnings),
    )


POPULATIONS = ("non-training tiles", "whole region")


def area_table(
    tiles: pd.DataFrame, confidence: float = 0.95, unit: str = "block", min_units: int = 3
) -> pd.DataFrame:
    """Areas estimated from the test sample, beside the mapped areas and the label census.

    The sampling units are the test split's ``unit`` (spatial blocks of tiles,
    drawn as wholes). The map over training tiles was fitted to their labels,
    so the test sample speaks only for the tiles the model never fitted
    (validation, test and any unlabelled tiles): the difference estimator runs
    over those (``non-training tiles``). The ``whole region`` adds the training
    tiles at their labelled area, which is known exactly; its interval is the
    non-training part's.

    Args:
        tiles: One row per tile and quantity: tile_id, the ``unit`` column,
            split, quantity, period, class, map_ha (mapped area over the whole
            tile), ref_ha (labelled reference area), tile_ha.
        confidence: Confidence level of the intervals.
        unit: The column of the sampling unit (``block`` or ``tile_id``).
        min_units: Fewest test units for an interval.

    Returns:
        One row per quantity and population: map_ha, adjusted_ha, se_ha,
        ci_low_ha, ci_high_ha, df, n_units (test units), n_population_units,
        n_eff, census_ha (labels of every tile of the population), census_in_ci.
    """
    rows = []
    for quantity, g in tiles.groupby("quantity", sort=False):
        units = g.groupby(unit).agg(
            map_ha=("map_ha", "sum"),
            ref_ha=("ref_ha", "sum"),
            tile_ha=("tile_ha", "sum"),
            split=("split", "first"),
        )
        mixed = g.groupby(unit)["split"].nunique()
        if (mixed > 1).any():
            raise ValueError(
                f"Sampling units {sorted(mixed[mixed > 1].index)[:5]} hold tiles of several "
                f"splits; the split must assign whole {unit}s"
            )
        train = units[units["split"] == "train"]
        nontrain = units[units["split"] != "train"]
        sample = nontrain[nontrain["split"] == "test"]
        est = stratified_difference_estimate(
            [
                Stratum(
                    f"non-training {unit}s",
                    len(nontrain),
                    float(nontrain["map_ha"].sum()),
                    sample["ref_ha"].to_numpy(),
                    sample["map_ha"].to_numpy(),
                )
            ],
            confidence,
            total_area=float(nontrain["tile_ha"].sum()),
            min_units=min_units,
        )
        base = {
            "quantity": quantity,
            "period": g["period"].iloc[0],
            "class": g["class"].iloc[0],
            "se_ha": est.se,
            "df": est.df,
            "n_units": est.n_units,
            "n_eff": est.n_eff,
            "note": "; ".join(est.warnings),
        }
        offset = float(train["ref_ha"].sum())
        for population, map_ha, census, shift, n_pop in (
            (
                POPULATIONS[0],
                nontrain["map_ha"].sum(),
                nontrain["ref_ha"].sum(),
                0.0,
                len(nontrain),
            ),
            (POPULATIONS[1], units["map_ha"].sum(), units["ref_ha"].sum(), offset, len(units)),
        ):
            low, high = est.ci_low + shift, est.ci_high + shift
            rows.append(
                {
                    **base,
                    "population": population,
                    "map_ha": float(map_ha),
                    "adjusted_ha": est.estimate + shift,
                    "ci_low_ha": low,
                    "ci_high_ha": high,
                    "n_population_units": n_pop,
                    "census_ha": float(census),
                    "census_in_ci": bool(low <= census <= high) if np.isfinite(low) else None,
                }
            )
    columns = [
        "quantity",
        "population",
        "period",
        "class",
        "map_ha",
        "adjusted_ha",
        "se_ha",
        "ci_low_ha",
        "ci_high_ha",
        "census_ha",
        "census_in_ci",
        "df",
        "n_units",
        "n_population_units",
        "n_eff",
        "note",
    ]
    return pd.DataFrame(rows)[columns]
