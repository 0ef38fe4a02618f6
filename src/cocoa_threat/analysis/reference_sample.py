"""A reference-sample kit: honest areas for a year without labels.

From a class map (and its change map) this module draws a stratified random
sample of pixels, reads the labelled sample back and estimates class areas
with their design-based intervals (Olofsson et al. 2014, Remote Sensing of
Environment 148:42-57, "Good practices for estimating area and assessing
accuracy of land change").

* **Strata**: the map classes, plus the mapped conversion (e.g. cocoa -> mining)
  as a stratum of its own (rare and the one that matters most).
* **Sample size** (Olofsson 2014, eq. 13): ``n = (sum_h W_h S_h / S(O))^2`` with
  ``W_h`` the stratum's area share, ``S_h = sqrt(U_h (1 - U_h))`` from a guessed
  user's accuracy ``U_h`` and ``S(O)`` the target standard error of the overall
  accuracy.
* **Allocation**: proportional to area, with at least ``min_per_stratum`` points
  in every stratum (never more than it has pixels); the points taken by the rare
  strata come off the large ones.
* **Draw**: ``n_h`` distinct pixels uniformly at random inside each stratum, by a
  seeded generator; the map is read window by window twice (count, then pick), so
  memory stays flat whatever its size. Each point's inclusion probability is
  ``n_h / N_h``.
* **Estimator**: the study's stratified estimator
  (:func:`~cocoa_threat.analysis.area.stratified_difference_estimate`) with the
  pixels as units: ``A_j = sum_h N_h a * mean_h(1[ref = j])`` (``a`` the pixel
  area), ``V = sum_h N_h^2 a^2 (1 - n_h/N_h) s_h^2 / n_h`` (Olofsson's variance
  with the finite-population correction) and a t interval with Satterthwaite's
  degrees of freedom.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from rasterio.windows import Window

from cocoa_threat.analysis.area import Stratum, stratified_difference_estimate
from cocoa_threat.geo.grid import GridSpec, iter_windows, window_transform

logger = logging.getLogger(__name__)

OUTSIDE = -1  # stratum code of pixels outside every stratum (nodata)
SAMPLE_COLUMNS = [
    "id",
    "stratum",
    "map_class",
    "reference_class",
    "x",
    "y",
    "lon",
    "lat",
    "inclusion_probability",
    "row",
    "col",
]
AREA_COLUMNS = [
    "class",
    "map_ha",
    "adjusted_ha",
    "se_ha",
    "ci_low_ha",
    "ci_high_ha",
    "ci_low_clipped",
    "confidence",
    "df",
    "n_points",
    "n_strata",
    "source",
    "note",
]
MAP_AREA_SOURCE = "map area (no reference sample for this year: not adjusted)"


def adjusted_source(n_points: int) -> str:
    """How an error-adjusted area says where it comes from."""
    return f"error-adjusted (reference sample of {n_points} points)"


@dataclass(frozen=True)
class StratumDef:
    """One stratum of the design: its name and the map class its pixels carry."""

    name: str
    map_class: str


# ---- sample size and allocation ------------------------------------------------------
def sample_size(weights: np.ndarray, users_accuracy: np.ndarray, target_se: float) -> int:
    """Olofsson et al. 2014, eq. 13: the points for a target SE of the overall accuracy.

    Args:
        weights: Area share of each stratum (sums to 1).
        users_accuracy: Guessed user's accuracy of each stratum.
        target_se: Target standard error of the overall accuracy (e.g. 0.01).

    Returns:
        ``ceil((sum W_h S_h / target_se)^2)``.

    Raises:
        ValueError: On a target SE that is not positive or accuracies outside [0, 1].
    """
    w, u = np.asarray(weights, float), np.asarray(users_accuracy, float)
    if target_se <= 0:
        raise ValueError(f"target standard error must be > 0, got {target_se}")
    if ((u < 0) | (u > 1)).any():
        raise ValueError(f"user's accuracies must be in [0, 1], got {u.tolist()}")
    s = np.sqrt(u * (1 - u))
    return max(1, math.ceil((float((w * s).sum()) / target_se) ** 2))


def class_share_se(weights: np.ndarray, class_share: np.ndarray, allocation: np.ndarray) -> float:
    """SE of a class's area share under a stratified design: ``sqrt(sum W_h^2 p_h (1-p_h) / n_h)``.

    Args:
        weights: Area share of each stratum.
        class_share: Guessed share of the class in each stratum's reference (``p_h``).
        allocation: Points per stratum.
    """
    w, p, n = (np.asarray(a, float) for a in (weights, class_share, allocation))
    terms = np.divide(w**2 * p * (1 - p), n, out=np.full(len(w), np.inf), where=n > 0)
    terms[(w == 0) | (p * (1 - p) == 0)] = 0.0
    return float(np.sqrt(terms.sum()))


def sample_size_for_class(
    n_pixels: np.ndarray,
    class_share: np.ndarray,
    target_se: float,
    min_per_stratum: int,
    max_points: int,
) -> int:
    """Fewest points whose allocation (:func:`allocate`) gives a class's area share ``target_se``.

    The allocation's minima count: the search is over the total ``n``. Returns
    ``max_points`` when even that misses the target (logged).
    """
    size = np.asarray(n_pixels, dtype=np.int64)
    w = size / max(int(size.sum()), 1)

    def se(n: int) -> float:
        return class_share_se(w, class_share, allocate(n, size, min_per_stratum))

    if se(max_points) > target_se:
        logger.warning(
            "Even %d points give the class an SE of %.4f > target %.4f: taking %d",
            max_points,
            se(max_points),
            target_se,
            max_points,
        )
        return max_points
    low, high = 1, max_points
    while low < high:
        mid = (low + high) // 2
        low, high = (low, mid) if se(mid) <= target_se else (mid + 1, high)
    return low


def _round_to(total: int, shares: np.ndarray) -> np.ndarray:
    """Integers summing to ``total`` in proportion to ``shares`` (largest remainder)."""
    if total <= 0 or shares.sum() <= 0:
        return np.zeros(len(shares), dtype=np.int64)
    exact = total * shares / shares.sum()
    out = np.floor(exact).astype(np.int64)
    order = np.argsort(-(exact - out), kind="stable")
    out[order[: total - int(out.sum())]] += 1
    return out


def allocate(n: int, n_pixels: np.ndarray, min_per_stratum: int) -> np.ndarray:
    """Proportional allocation with a minimum per stratum (Olofsson 2014, section 5.1.2).

    Strata whose proportional share is below ``min_per_stratum`` get the minimum
    (or all their pixels if they have fewer); the rest of ``n`` is shared among the
    others in proportion to their size. When the minima alone exceed ``n``, every
    stratum gets its minimum and the sample is larger than ``n``.

    Args:
        n: Total points wanted.
        n_pixels: Pixels of each stratum (``N_h``); empty strata get no point.
        min_per_stratum: Fewest points in a stratum.

    Returns:
        Points per stratum (int64), each at most ``N_h``.
    """
    size = np.asarray(n_pixels, dtype=np.int64)
    floor = np.minimum(size, min_per_stratum)
    fixed = size == 0
    alloc = np.zeros(len(size), dtype=np.int64)
    while True:
        free = ~fixed
        rest = n - int(floor[fixed].sum())
        alloc[free] = _round_to(max(rest, 0), size[free].astype(float))
        alloc[fixed] = floor[fixed]
        low = free & (alloc < floor)
        if not low.any():
            break
        fixed |= low
    return np.minimum(alloc, size)


# ---- drawing ---------------------------------------------------------------------------
def count_strata(
    strata_of: Callable[[Window], np.ndarray], grid: GridSpec, n_strata: int, block: int
) -> tuple[list[Window], np.ndarray]:
    """Pixels of each stratum in each window (first pass).

    Args:
        strata_of: Window -> int array of stratum codes (``OUTSIDE`` for none).
        grid: The map's grid.
        n_strata: Number of strata.
        block: Window size (px).

    Returns:
        The windows and a (windows, strata) int64 count matrix.
    """
    windows = list(iter_windows(grid.width, grid.height, block))
    counts = np.zeros((len(windows), n_strata), dtype=np.int64)
    for i, window in enumerate(windows):
        codes = strata_of(window).ravel()
        codes = codes[(codes >= 0) & (codes < n_strata)]
        counts[i] = np.bincount(codes, minlength=n_strata)
    return windows, counts


def draw_pixels(
    strata_of: Callable[[Window], np.ndarray],
    grid: GridSpec,
    allocation: np.ndarray,
    block: int,
    rng: np.random.Generator,
    counted: tuple[list[Window], np.ndarray] | None = None,
) -> pd.DataFrame:
    """``allocation[h]`` distinct pixels drawn uniformly at random in each stratum ``h``.

    Each stratum's pixels are numbered in window order (row-major inside a
    window); distinct numbers are drawn without replacement and found in a
    second windowed pass.

    Returns:
        One row per point: stratum (code), row, col, n_stratum (``N_h``) and
        inclusion_probability (``n_h / N_h``), window by window.

    Raises:
        ValueError: When a stratum has fewer pixels than points asked.
    """
    alloc = np.asarray(allocation, dtype=np.int64)
    windows, counts = counted or count_strata(strata_of, grid, len(alloc), block)
    total = counts.sum(axis=0)
    if (alloc > total).any():
        bad = np.flatnonzero(alloc > total).tolist()
        raise ValueError(f"strata {bad} have fewer pixels {total[bad]} than points {alloc[bad]}")
    ends = np.cumsum(counts, axis=0)
    wanted: dict[int, list[tuple[int, np.ndarray]]] = {}
    for h in np.flatnonzero(alloc):
        ranks = np.sort(rng.choice(int(total[h]), size=int(alloc[h]), replace=False))
        where = np.searchsorted(ends[:, h], ranks, side="right")
        for w in np.unique(where):
            local = ranks[where == w] - (ends[w, h] - counts[w, h])
            wanted.setdefault(int(w), []).append((int(h), local))
    rows = []
    for w, picks in sorted(wanted.items()):
        window = windows[w]
        codes = strata_of(window).ravel()
        for h, local in picks:
            flat = np.flatnonzero(codes == h)[local]
            r, c = np.divmod(flat, int(window.width))
            rows.append(
                pd.DataFrame(
                    {"stratum": h, "row": r + int(window.row_off), "col": c + int(window.col_off)}
                )
            )
    frame = pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(columns=["stratum"])
    # In window order, row by row: neighbouring ids lie near each other (labelling goes
    # across the map once, and the chips read each window once).
    frame["block"] = (frame["row"] // block) * len(windows) + frame["col"] // block
    frame = frame.sort_values(["block", "row", "col"]).drop(columns="block")
    frame = frame.reset_index(drop=True)
    frame["n_stratum"] = total[frame["stratum"].to_numpy(int)]
    frame["inclusion_probability"] = alloc[frame["stratum"].to_numpy(int)] / frame["n_stratum"]
    return frame


def point_table(pixels: pd.DataFrame, grid: GridSpec, strata: list[StratumDef]) -> pd.DataFrame:
    """The drawn pixels as points ready to label: ids, names, map and geographic coordinates.

    Returns:
        :data:`SAMPLE_COLUMNS` plus n_stratum; ``reference_class`` empty.
    """
    from pyproj import Transformer

    t = window_transform(grid, Window(0, 0, grid.width, grid.height))
    x, y = t * (pixels["col"].to_numpy(float) + 0.5, pixels["row"].to_numpy(float) + 0.5)
    lon, lat = Transformer.from_crs(grid.crs, "EPSG:4326", always_xy=True).transform(x, y)
    codes = pixels["stratum"].to_numpy(int)
    out = pd.DataFrame(
        {
            "id": np.arange(1, len(pixels) + 1),
            "stratum": [strata[h].name for h in codes],
            "map_class": [strata[h].map_class for h in codes],
            "reference_class": "",
            "x": x,
            "y": y,
            "lon": lon,
            "lat": lat,
            "inclusion_probability": pixels["inclusion_probability"].to_numpy(float),
            "row": pixels["row"].to_numpy(int),
            "col": pixels["col"].to_numpy(int),
            "n_stratum": pixels["n_stratum"].to_numpy(int),
        }
    )
    return out


def design_table(
    strata: list[StratumDef],
    n_pixels: np.ndarray,
    allocation: np.ndarray,
    users_accuracy: np.ndarray,
    pixel_ha: float,
) -> pd.DataFrame:
    """One row per stratum: what the estimator needs (N_h, its map class) and the plan."""
    n_pix = np.asarray(n_pixels, dtype=np.int64)
    alloc = np.asarray(allocation, dtype=np.int64)
    return pd.DataFrame(
        {
            "stratum": [s.name for s in strata],
            "map_class": [s.map_class for s in strata],
            "n_pixels": n_pix,
            "area_ha": n_pix * pixel_ha,
            "weight": n_pix / max(int(n_pix.sum()), 1),
            "expected_users_accuracy": np.asarray(users_accuracy, float),
            "n_points": alloc,
            "inclusion_probability": np.divide(
                alloc, n_pix, out=np.zeros(len(alloc)), where=n_pix > 0
            ),
            "pixel_ha": pixel_ha,
        }
    )


# ---- reading the labels back -----------------------------------------------------------
class LabelError(ValueError):
    """A labelled sample that can't be used as it is (the message lists every problem)."""


def _ids(values: pd.Series, limit: int = 20) -> str:
    items = [str(v) for v in values.tolist()]
    more = f" ... and {len(items) - limit} more" if len(items) > limit else ""
    return ", ".join(items[:limit]) + more


# Labels whose x/y are not the drawn point's (see :func:`misplaced_ids`).
MISPLACED = (
    "points not where the drawn sample has them (labels of another draw? "
    "draw again or label this one)"
)


def duplicated_ids(table: pd.DataFrame) -> pd.Series:
    """Ids labelled more than once (each listed once)."""
    return table.loc[table["id"].duplicated(keep=False), "id"].drop_duplicates()


def ids_not_drawn(table: pd.DataFrame, sample: pd.DataFrame) -> pd.Series:
    """Ids of the labels that are not in the drawn sample."""
    return table.loc[~table["id"].isin(sample["id"]), "id"]


def unknown_classes(table: pd.DataFrame, classes: list[str]) -> pd.Series:
    """Ids (with their class, ``"4 ('forest')"``) labelled with a class not in ``classes``."""
    blank = table["reference_class"] == ""
    bad = ~blank & ~table["reference_class"].isin(classes)
    if not bad.any():
        return pd.Series(dtype=object)
    return table[bad].apply(lambda r: f"{r['id']} ({r['reference_class']!r})", axis=1)


def misplaced_ids(
    xy: pd.DataFrame, table: pd.DataFrame, sample: pd.DataFrame, tolerance: float
) -> pd.Series:
    """Ids whose ``x``/``y`` are off the drawn point: labels of another draw.

    ``xy`` holds the rows of ``table``; off means farther than ``tolerance`` (map units)
    in x or y from the drawn point (ids not drawn are left to :func:`ids_not_drawn`).
    """
    xy = xy.apply(pd.to_numeric, errors="coerce")
    drawn = sample.set_index("id").reindex(table["id"])[["x", "y"]].to_numpy(float)
    off = (np.abs(xy.to_numpy(float) - drawn) > tolerance).any(axis=1)
    off &= ~np.isnan(drawn).any(axis=1)
    return table.loc[off, "id"]


def unlabelled_ids(table: pd.DataFrame) -> pd.Series:
    """Ids without a reference class."""
    return table.loc[table["reference_class"] == "", "id"]


def absent_ids(table: pd.DataFrame, sample: pd.DataFrame) -> pd.Series:
    """Ids of the drawn sample missing from the labels."""
    return sample.loc[~sample["id"].isin(table["id"]), "id"]


def _label_columns(labelled: pd.DataFrame, where: str) -> pd.DataFrame:
    """The ``id`` and ``reference_class`` of a labelled table, classes stripped ("" if none)."""
    missing_cols = {"id", "reference_class"} - set(labelled.columns)
    if missing_cols:
        raise LabelError(
            f"{where}: no column(s) {sorted(missing_cols)}; label the sample's CSV or "
            f"GeoPackage and keep its 'id' column, writing each point's class in "
            f"'reference_class'"
        )
    table = labelled[["id", "reference_class"]].copy()
    table["reference_class"] = table["reference_class"].fillna("").astype(str).str.strip()
    return table


def validate_labels(
    labelled: pd.DataFrame,
    sample: pd.DataFrame,
    classes: list[str],
    where: str,
    allow_missing: bool = False,
    xy_tolerance: float | None = None,
) -> pd.DataFrame:
    """Check a labelled sample against the drawn one: every point once, with a known class.

    Args:
        labelled: The labelled table (at least ``id`` and ``reference_class``).
        sample: The drawn sample (``id``, ``stratum``, ``map_class`` ...).
        classes: The known classes (``land_use.classes``).
        where: The file, for messages.
        allow_missing: Points absent or unlabelled are dropped (non-response in
            their stratum) instead of refused; only the demo's labeller uses it.
        xy_tolerance: Where the file keeps ``x`` and ``y``, points farther than this
            (map units) from the drawn point are refused (labels of another draw).

    Returns:
        The drawn sample's rows that are labelled, with their ``reference_class``.

    Raises:
        LabelError: Listing every problem with the offending ids.
    """
    table = _label_columns(labelled, where)
    ids = pd.to_numeric(table["id"], errors="coerce")
    found = [("ids that are not numbers", table.loc[ids.isna(), "id"])]
    table = table[ids.notna()].assign(id=ids[ids.notna()].astype(np.int64))
    found += [
        ("ids labelled more than once", duplicated_ids(table)),
        ("ids not in the drawn sample", ids_not_drawn(table, sample)),
        (f"unknown classes (known: {classes}) at ids", unknown_classes(table, classes)),
    ]
    if xy_tolerance is not None and {"x", "y"} <= set(labelled.columns):
        xy = labelled.loc[ids.notna(), ["x", "y"]]
        found.append((MISPLACED, misplaced_ids(xy, table, sample, xy_tolerance)))
    if not allow_missing:
        found.append(("ids without a reference_class", unlabelled_ids(table)))
        found.append(("ids of the drawn sample missing from the file", absent_ids(table, sample)))
    problems = [f"{what}: {_ids(bad)}" for what, bad in found if len(bad)]
    if problems:
        raise LabelError(
            f"{where}: the labelled sample can't be used ({len(problems)} problem(s)):\n- "
            + "\n- ".join(problems)
            + "\nFix the file (one row per point of the drawn sample, reference_class one of "
            f"{classes}) and run again."
        )
    return _labelled_rows(table, sample, where)


def _labelled_rows(table: pd.DataFrame, sample: pd.DataFrame, where: str) -> pd.DataFrame:
    """The drawn points that have a label, with it; the others logged as non-response."""
    good = table[table["reference_class"] != ""].drop_duplicates("id")
    dropped = len(sample) - len(good)
    if dropped:
        logger.warning(
            "%s: %d of %d points have no label; left out as non-response within their stratum",
            where,
            dropped,
            len(sample),
        )
    return sample.drop(columns=["reference_class"], errors="ignore").merge(good, on="id")


# ---- the estimator ------------------------------------------------------------------------
def class_areas(
    labelled: pd.DataFrame,
    design: pd.DataFrame,
    classes: list[str],
    confidence: float,
    min_points: int = 2,
) -> pd.DataFrame:
    """Error-adjusted area of every class for the sample's year, with its interval.

    The study's stratified estimator
    (:func:`~cocoa_threat.analysis.area.stratified_difference_estimate`) with
    pixels as units: in stratum ``h`` every unit's mapped value for class ``j`` is
    ``a`` if the stratum's map class is ``j`` (else 0) and its reference value is
    ``a * 1[reference = j]``.

    Args:
        labelled: Validated labelled sample (``stratum``, ``reference_class``).
        design: The design table (stratum, map_class, n_pixels, pixel_ha).
        classes: The classes to estimate.
        confidence: Confidence level of the intervals.
        min_points: Fewest labelled points for an interval.

    Returns:
        One row per class: :data:`AREA_COLUMNS`.
    """
    pixel_ha = float(design["pixel_ha"].iloc[0])
    total_ha = float(design["n_pixels"].sum()) * pixel_ha
    n = len(labelled)
    by_stratum = {name: g for name, g in labelled.groupby("stratum")}
    rows = []
    for cls in classes:
        strata = []
        for d in design.itertuples():
            g = by_stratum.get(d.stratum, labelled.iloc[:0])
            mapped = pixel_ha if d.map_class == cls else 0.0
            y = pixel_ha * (g["reference_class"].to_numpy() == cls)
            strata.append(
                Stratum(d.stratum, int(d.n_pixels), mapped * d.n_pixels, y, np.full(len(y), mapped))
            )
        est = stratified_difference_estimate(strata, confidence, total_ha, min_points)
        map_ha = float(design.loc[design["map_class"] == cls, "area_ha"].sum())
        rows.append(
            {
                "class": cls,
                "map_ha": map_ha,
                "adjusted_ha": est.estimate,
                "se_ha": est.se,
                "ci_low_ha": est.ci_low,
                "ci_high_ha": est.ci_high,
                "ci_low_clipped": est.ci_low_clipped,
                "confidence": confidence,
                "df": est.df,
                "n_points": n,
                "n_strata": len(strata),
                "source": adjusted_source(n),
                "note": "; ".join(est.warnings),
            }
        )
    return pd.DataFrame(rows)[AREA_COLUMNS]


def map_areas(design: pd.DataFrame, classes: list[str], confidence: float) -> pd.DataFrame:
    """The mapped areas, said to be such (no reference sample for this year)."""
    rows = [
        {
            "class": cls,
            "map_ha": float(design.loc[design["map_class"] == cls, "area_ha"].sum()),
            "adjusted_ha": np.nan,
            "se_ha": np.nan,
            "ci_low_ha": np.nan,
            "ci_high_ha": np.nan,
            "ci_low_clipped": False,
            "confidence": confidence,
            "df": np.nan,
            "n_points": 0,
            "n_strata": len(design),
            "source": MAP_AREA_SOURCE,
            "note": "",
        }
        for cls in classes
    ]
    return pd.DataFrame(rows)[AREA_COLUMNS]


def design_se(truth: pd.DataFrame, design: pd.DataFrame, cls: str) -> float:
    """The design's true standard error (ha) of a class's estimated area.

    ``sqrt(sum_h N_h^2 (1 - n_h/N_h) S_h^2 / n_h)`` with ``S_h^2`` the population
    variance (``N_h - 1``) of ``a * 1[reference = cls]`` in stratum ``h``.

    Args:
        truth: One row per stratum: ``stratum`` and ``n_class`` (its pixels whose
            reference is ``cls``).
        design: The design table.
        cls: Unused except in messages; kept for clarity.
    """
    a = float(design["pixel_ha"].iloc[0])
    merged = design.merge(truth, on="stratum")
    big_n, n, k = (merged[c].to_numpy(float) for c in ("n_pixels", "n_points", "n_class"))
    p = k / big_n
    s2 = a**2 * p * (1 - p) * big_n / np.maximum(big_n - 1, 1)
    var = np.where(n > 0, big_n**2 * (1 - n / big_n) * s2 / np.maximum(n, 1), 0.0)
    logger.debug("design SE of %s: %s", cls, var)
    return float(np.sqrt(var.sum()))


# ---- strata of the study's maps ----------------------------------------------------------
def map_strata(
    classes: list[str],
    nodata: int,
    class_map: Callable[[Window], np.ndarray],
    change: tuple[str, str, str, Callable[[Window], np.ndarray]] | None = None,
) -> tuple[list[StratumDef], Callable[[Window], np.ndarray]]:
    """The strata of a class map: one per class, and the mapped conversion as its own.

    Args:
        classes: Class names (a class's code is its position).
        nodata: The maps' nodata code (outside every stratum).
        class_map: Window -> the year's class codes.
        change: (from_class, to_class, map class of its pixels in this year, window ->
            change codes ``from * 10 + to``); None for the map classes alone.

    Returns:
        The strata and the window -> stratum-code function.
    """
    strata = [StratumDef(c, c) for c in classes]
    k = len(classes)
    code = None
    if change is not None:
        source, target, year_class, _ = change
        code = classes.index(source) * 10 + classes.index(target)
        strata.append(StratumDef(f"{source} -> {target}", year_class))

    def strata_of(window: Window) -> np.ndarray:
        values = class_map(window).astype(np.int16)
        out = np.where((values >= 0) & (values < k) & (values != nodata), values, OUTSIDE)
        if change is not None:
            out = np.where((change[3](window) == code) & (out != OUTSIDE), k, out)
        return out.astype(np.int16)

    return strata, strata_of


# ---- labelling aids: image chips and the demo's labeller ---------------------------------
def _stretch(
    bands: np.ndarray, nodata: float | None, percentiles: tuple[float, float]
) -> np.ndarray:
    """(3, r, c) values -> (r, c, 3) uint8, stretched between the chip's percentiles.

    One stretch for the three bands keeps their balance (true colour stays true).
    """
    data = bands.astype(np.float64)
    valid = np.isfinite(data) & (data != nodata if nodata is not None else True)
    out = np.zeros(data.shape, dtype=np.uint8)
    if valid.any():
        lo, hi = np.percentile(data[valid], percentiles)
        scaled = (data - lo) / (hi - lo if hi > lo else 1.0)
        out = np.where(valid, np.clip(scaled * 255, 0, 255), 0).astype(np.uint8)
    return np.moveaxis(out, 0, -1)


def block_cached(
    read: Callable[[Window], np.ndarray], block: int, margin: int
) -> Callable[[Window], np.ndarray]:
    """``read`` through a one-window cache: a window of ``block`` px plus ``margin`` around.

    Chips of points in the same block (ids in window order) then cost one read.
    """
    cache: dict[tuple[int, int], tuple[Window, np.ndarray]] = {}

    def cached(window: Window) -> np.ndarray:
        key = (
            int(window.row_off + window.height // 2) // block,
            int(window.col_off + window.width // 2) // block,
        )
        if key not in cache:
            outer = Window(
                key[1] * block - margin,
                key[0] * block - margin,
                block + 2 * margin,
                block + 2 * margin,
            )
            cache.clear()
            cache[key] = (outer, read(outer))
        outer, data = cache[key]
        r, c = int(window.row_off - outer.row_off), int(window.col_off - outer.col_off)
        return data[..., r : r + int(window.height), c : c + int(window.width)]

    return cached


def chip(
    images: list[tuple[Callable[[Window], np.ndarray], float | None]],
    row: int,
    col: int,
    size: int,
    zoom: int,
    percentiles: tuple[float, float],
) -> np.ndarray:
    """RGB chips of several dates side by side, the point's pixel outlined in each.

    Args:
        images: Per date: window -> (3, size, size) band values, and its nodata.
        row: The point's row in the map grid.
        col: The point's column.
        size: Chip side (map pixels).
        zoom: Each map pixel drawn as zoom x zoom.
        percentiles: The stretch.

    Returns:
        (rows, cols, 3) uint8.
    """
    half = size // 2
    window = Window(col - half, row - half, size, size)
    panels = []
    for read, nodata in images:
        rgb = _stretch(read(window), nodata, percentiles)
        big = np.repeat(np.repeat(rgb, zoom, axis=0), zoom, axis=1)
        a, b = half * zoom - 1, (half + 1) * zoom
        big[[a, b], a : b + 1] = big[a : b + 1, [a, b]] = (255, 0, 255)
        panels.append(big)
        panels.append(np.full((big.shape[0], zoom, 3), 255, dtype=np.uint8))
    return np.concatenate(panels[:-1], axis=1)


def labels_at_points(
    points: pd.DataFrame,
    tiles: pd.DataFrame,
    label_of: Callable[[str, str], np.ndarray],
    classes: list[str],
    nodata: int,
) -> pd.Series:
    """The class of each point read from labelled tiles ("" where none covers it).

    Args:
        points: ``x``, ``y`` in the tiles' CRS.
        tiles: One row per tile of the year: split, sample, minx, miny, maxx, maxy,
            width, height.
        label_of: (split, sample) -> the tile's label array.
        classes: Class names by code.
        nodata: The labels' nodata code.

    Returns:
        The reference class of each point (index of ``points``).
    """
    out = pd.Series("", index=points.index, dtype=object)
    x, y = points["x"].to_numpy(float), points["y"].to_numpy(float)
    for tile in tiles.itertuples():
        inside = (x >= tile.minx) & (x < tile.maxx) & (y > tile.miny) & (y <= tile.maxy)
        inside &= out.to_numpy() == ""
        if not inside.any():
            continue
        labels = label_of(tile.split, tile.sample)
        px_w = (tile.maxx - tile.minx) / tile.width
        px_h = (tile.maxy - tile.miny) / tile.height
        cols = ((x[inside] - tile.minx) // px_w).astype(int)
        rows = ((tile.maxy - y[inside]) // px_h).astype(int)
        ok = (rows < labels.shape[0]) & (cols < labels.shape[1])
        codes = np.full(len(rows), nodata)
        codes[ok] = labels[rows[ok], cols[ok]]
        named = [classes[c] if 0 <= c < len(classes) and c != nodata else "" for c in codes]
        out[points.index[inside]] = named
    return out


def guessed_accuracies(
    strata: list[StratumDef], guesses: dict[str, float], default: float
) -> np.ndarray:
    """The guessed user's accuracy of each stratum (``default`` where none is given).

    Guesses for strata this map doesn't have (a class of another study) are
    logged, not refused: the same conf serves a two-class study.
    """
    names = [s.name for s in strata]
    unused = sorted(set(guesses) - set(names))
    if unused:
        logger.warning(
            "reference_sample.expected_users_accuracy: %s are not strata of this map (%s); ignored",
            unused,
            names,
        )
    return np.array([guesses.get(n, default) for n in names], dtype=float)


def planned_size(
    strata: list[StratumDef], n_pixels: np.ndarray, users_accuracy: np.ndarray, params: Any
) -> int:
    """The sample size the parameters ask for (``reference_sample``: target, target_se ...).

    ``target: overall``: Olofsson's eq. 13. A class name: the fewest points whose
    allocation gives that class's area share the target SE, guessing its share as
    the user's accuracy in strata mapped as the class and ``expected_share_elsewhere``
    in the others.

    Raises:
        ValueError: When the target is neither ``overall`` nor a class of the strata.
    """
    p = params
    size = np.asarray(n_pixels, dtype=np.int64)
    if p.target == "overall":
        weights = size / max(int(size.sum()), 1)
        return min(sample_size(weights, users_accuracy, p.target_se), p.max_points)
    classes = sorted({s.map_class for s in strata})
    if p.target not in classes:
        raise ValueError(
            f"reference_sample.target: {p.target!r} is neither 'overall' nor a class of the "
            f"map {classes}"
        )
    share = np.where(
        [s.map_class == p.target for s in strata], users_accuracy, p.expected_share_elsewhere
    )
    return sample_size_for_class(size, share, p.target_se, p.min_per_stratum, p.max_points)


def stratified_draw(
    strata: list[StratumDef],
    strata_of: Callable[[Window], np.ndarray],
    grid: GridSpec,
    params: Any,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Size, allocate and draw the sample the parameters ask for (``reference_sample``).

    Args:
        strata: The strata (:func:`map_strata`).
        strata_of: Window -> stratum code of each pixel (:func:`map_strata`).
        grid: The map's grid.
        params: The ``reference_sample`` parameters (target, seed, block_size ...).

    Returns:
        The points (:func:`point_table`) and the design (:func:`design_table`).
    """
    p = params
    counted = count_strata(strata_of, grid, len(strata), p.block_size)
    n_pixels = counted[1].sum(axis=0)
    users = guessed_accuracies(strata, p.expected_users_accuracy, p.default_users_accuracy)
    n = planned_size(strata, n_pixels, users, p)
    alloc = allocate(n, n_pixels, p.min_per_stratum)
    rng = np.random.default_rng(p.seed)
    pixels = draw_pixels(strata_of, grid, alloc, p.block_size, rng, counted)
    points = point_table(pixels, grid, strata)
    design = design_table(strata, n_pixels, alloc, users, grid.hectares(1))
    logger.info(
        "Reference sample of the %s map: %d points (%d for an SE of %.3f of the %s), %s",
        p.period,
        len(points),
        n,
        p.target_se,
        "overall accuracy" if p.target == "overall" else f"area share of {p.target}",
        ", ".join(f"{s.name} {k}" for s, k in zip(strata, alloc, strict=True)),
    )
    return points, design
