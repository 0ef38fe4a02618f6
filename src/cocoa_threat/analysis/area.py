"""Error-adjusted area estimation (Olofsson et al. 2014, Remote Sensing of Environment 148:42-57).

Good-practice estimator for a stratified sample where the strata are the map
classes: with ``W_i`` the mapped area share of map class ``i`` and ``n_ij`` the
sample counts (map class ``i``, reference class ``j``)::

    p_ij   = W_i * n_ij / n_i.
    p_.j   = sum_i p_ij                       (estimated area share of class j)
    A_j    = A_total * p_.j
    SE(p_.j) = sqrt( sum_i W_i^2 * (n_ij/n_i.) * (1 - n_ij/n_i.) / (n_i. - 1) )
    CI     = A_j +/- z * A_total * SE(p_.j)

User's accuracy ``p_ii / p_i.``, producer's accuracy ``p_jj / p_.j``.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
from scipy.stats import norm

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
    if empty.any():
        logger.warning(
            "No sample in mapped class(es) %s: their map area is taken as correct",
            [class_names[i] for i in np.flatnonzero(empty)],
        )
    share = np.divide(n, n_i[:, None], out=np.zeros_like(n), where=n_i[:, None] > 0)
    share[empty, np.flatnonzero(empty)] = 1.0
    p = weights[:, None] * share
    p_ref = p.sum(axis=0)
    denom = np.where(n_i > 1, n_i - 1, np.inf)
    var = ((weights**2)[:, None] * share * (1 - share) / denom[:, None]).sum(axis=0)
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
