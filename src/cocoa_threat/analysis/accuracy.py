"""Map against reference, tile by tile: what the area estimators and the census need.

A tile is the smallest unit of the reference sample (its pixels are strongly
correlated), so everything is kept per tile: mapped and reference pixel counts
of each class and of the conversion of interest, and the tile's confusion
matrices. Sums over any set of tiles (a test sample, a bootstrap resample, the
census) are then cheap.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cocoa_threat.analysis.metrics import confusion_matrix


@dataclass(frozen=True)
class TilePair:
    """Map and reference labels of one tile in both years (same shape, the tile's extent)."""

    map_before: np.ndarray
    map_after: np.ndarray
    ref_before: np.ndarray
    ref_after: np.ndarray


def conversion_quantity(source: str, target: str) -> str:
    """Name of a conversion in the tables, e.g. ``cocoa -> mining``."""
    return f"{source} -> {target}"


def class_quantity(name: str, period: str) -> str:
    """Name of a class area in the tables, e.g. ``mining (after)``."""
    return f"{name} ({period})"


def measure_tile(
    tile: TilePair, classes: list[str], nodata: int, source: str, target: str
) -> tuple[list[dict[str, object]], dict[str, list[list[int]]]]:
    """Pixel counts and confusion matrices of one tile.

    Args:
        tile: Map and reference of the tile in both years.
        classes: Class names (code = position).
        nodata: No-data / no-label value.
        source: The conversion's from-class.
        target: Its to-class.

    Returns:
        Rows (quantity, period, class, map_px, ref_px, labelled_px, tile_px) and
        the confusion matrices (rows = map, columns = reference) ``before``,
        ``after`` and ``change`` (2 x 2: not converted / converted).
    """
    rows: list[dict[str, object]] = []
    matrices: dict[str, list[list[int]]] = {}
    for period, mapped, ref in (
        ("before", tile.map_before, tile.ref_before),
        ("after", tile.map_after, tile.ref_after),
    ):
        period_rows, matrices[period] = _measure_period(period, mapped, ref, classes, nodata)
        rows += period_rows
    change_row, matrices["change"] = _measure_conversion(tile, classes, nodata, source, target)
    rows.append(change_row)
    return rows, matrices


def _measure_period(
    period: str, mapped: np.ndarray, ref: np.ndarray, classes: list[str], nodata: int
) -> tuple[list[dict[str, object]], list[list[int]]]:
    """One row per class and the confusion matrix (rows = map) of one year of a tile."""
    k = len(classes)
    labelled = ref != nodata
    map_counts = np.bincount(mapped[mapped < k].ravel(), minlength=k)
    ref_counts = np.bincount(ref[labelled].ravel(), minlength=k)
    rows: list[dict[str, object]] = [
        {
            "quantity": class_quantity(name, period),
            "period": period,
            "class": name,
            "map_px": int(map_counts[code]),
            "ref_px": int(ref_counts[code]),
            "labelled_px": int(labelled.sum()),
            "tile_px": int(mapped.size),
        }
        for code, name in enumerate(classes)
    ]
    comparable = np.where(mapped < k, mapped, 0)  # map nodata: only where labels are too
    return rows, confusion_matrix(ref, comparable, k, nodata).T.tolist()


def _measure_conversion(
    tile: TilePair, classes: list[str], nodata: int, source: str, target: str
) -> tuple[dict[str, object], list[list[int]]]:
    """The row of the conversion ``source -> target`` and its 2 x 2 matrix (rows = map).

    Only pixels labelled in both years count as reference.
    """
    src, dst = classes.index(source), classes.index(target)
    labelled = (tile.ref_before != nodata) & (tile.ref_after != nodata)
    map_conv = (tile.map_before == src) & (tile.map_after == dst)
    ref_conv = (tile.ref_before == src) & (tile.ref_after == dst) & labelled
    row: dict[str, object] = {
        "quantity": conversion_quantity(source, target),
        "period": "change",
        "class": f"{source}->{target}",
        "map_px": int(map_conv.sum()),
        "ref_px": int(ref_conv.sum()),
        "labelled_px": int(labelled.sum()),
        "tile_px": int(map_conv.size),
    }
    change = np.bincount(
        map_conv[labelled].astype(int) * 2 + ref_conv[labelled].astype(int), minlength=4
    )
    return row, change.reshape(2, 2).tolist()
