"""Land-use change between two maps: codes, counts, conversion patches, map vs labels per tile.

The change map codes each pixel as ``from * 10 + to`` (class codes of
``land_use.classes``), e.g. 21 = cocoa -> mining.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from matplotlib.colors import to_rgba
from rasterio import features
from rasterio.windows import Window, from_bounds
from scipy import ndimage
from shapely.geometry import shape

from cocoa_threat.analysis.accuracy import TilePair, measure_tile
from cocoa_threat.analysis.zonal import count_by_zone, zone_table, zones_of
from cocoa_threat.geo.grid import RasterSource, iter_windows, read_all, same_grid_or_raise
from cocoa_threat.smallminesds.splits import split_fingerprint

logger = logging.getLogger(__name__)

PERIODS = ("before", "after")


@dataclass(frozen=True)
class ChangeScheme:
    """The classes of the two maps and the conversion of interest."""

    classes: list[str]
    colours: dict[str, str]
    nodata: int
    from_class: str
    to_class: str
    conversion_colour: str

    @property
    def k(self) -> int:
        """Number of classes."""
        return len(self.classes)

    def code(self, source: str, target: str) -> int:
        """Change-map code of a from -> to transition (``from * 10 + to``)."""
        return self.classes.index(source) * 10 + self.classes.index(target)

    def pairs(self) -> list[tuple[str, str]]:
        """Every (from, to) pair, in code order."""
        return [(a, b) for a in self.classes for b in self.classes]

    def colour_of_codes(self) -> dict[int, Any]:
        """Stable classes pale, changes in the colour of the new class, the conversion its own."""
        out: dict[int, Any] = {}
        for a, b in self.pairs():
            if a == b:
                r, g, bl, _ = to_rgba(self.colours[a])
                out[self.code(a, b)] = (0.55 + 0.45 * r, 0.55 + 0.45 * g, 0.55 + 0.45 * bl, 1.0)
            else:
                out[self.code(a, b)] = self.colours[b]
        out[self.code(self.from_class, self.to_class)] = self.conversion_colour
        return out

    def labels(self) -> dict[int, str]:
        """Legend label of every code."""
        return {
            self.code(a, b): f"{a} (stable)" if a == b else f"{a} -> {b}" for a, b in self.pairs()
        }


# --------------------------------------------------------------------------- #
# Consistency of the two maps
# --------------------------------------------------------------------------- #
def check_maps_agree(before: RasterSource, after: RasterSource) -> None:
    """Refuse two yearly maps on different grids, made by different models or splits.

    Raises:
        ValueError: Naming both versions and what to re-run.
    """
    same_grid_or_raise(before, after, "Land-use maps of the two years")
    for tag, what in (("model_version", "model versions"), ("split_hash", "splits")):
        a, b = before.tags.get(tag), after.tags.get(tag)
        if a != b:
            raise ValueError(
                f"The two land-use maps come from different {what}: {before.path} has "
                f"{tag} {a}, {after.path} has {b}. Re-run `kedro run --pipeline=inference` "
                f"so both years are mapped by the same model."
            )


def check_maps_match_split(land_use_map: RasterSource, tile_manifest: pd.DataFrame) -> None:
    """Refuse maps from a model trained on another split of the tiles than the current one."""
    current = split_fingerprint(tile_manifest)
    made = land_use_map.tags.get("split_hash")
    if made != current:
        raise ValueError(
            f"{land_use_map.path} was made by a model trained on split {made}, but the tiles "
            f"are now split as {current}: its accuracy on the test tiles would be "
            f"meaningless. Retrain (`kedro run --pipeline=training`) and re-run inference, "
            f"or re-run ingestion with the split the model was trained on."
        )


def paired_windows(
    before: RasterSource, after: RasterSource, block: int
) -> Iterator[tuple[Window, np.ndarray, np.ndarray]]:
    """Both maps, window by window (after checking they agree)."""
    check_maps_agree(before, after)
    for window in iter_windows(before.grid.width, before.grid.height, block):
        yield window, before.read(window, bands=[1])[0], after.read(window, bands=[1])[0]


# --------------------------------------------------------------------------- #
# Counts and tables
# --------------------------------------------------------------------------- #
def transition_tables(
    before: RasterSource,
    after: RasterSource,
    districts: gpd.GeoDataFrame,
    scheme: ChangeScheme,
    outside_label: str,
    block: int,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Transition matrix, transitions by district and mapped class areas, in one windowed pass.

    Returns:
        ``(matrix, by_district, areas)``: one row per from-class (hectares to
        each class, percent of the from-class); district, from, to, hectares,
        percent of the district's mapped area; period, class, pixels, hectares.
    """
    k = scheme.k
    n_d = len(districts) + 1
    counts = np.zeros((n_d, k * k), dtype=np.int64)
    per_year = np.zeros((2, k), dtype=np.int64)
    for window, a, b in paired_windows(before, after, block):
        both = (a < k) & (b < k)
        zones = zones_of(districts, before.grid, window)
        counts += count_by_zone(zones[both], a[both] * k + b[both], n_d, k * k)
        per_year[0] += np.bincount(a[a < k], minlength=k)
        per_year[1] += np.bincount(b[b < k], minlength=k)
    ha = before.grid.hectares(counts.sum(axis=0).reshape(k, k))
    matrix = pd.DataFrame({"from_class": scheme.classes})
    for j, c in enumerate(scheme.classes):
        matrix[f"to_{c}_ha"] = ha[:, j]
    matrix["total_ha"] = ha.sum(axis=1)
    for j, c in enumerate(scheme.classes):
        matrix[f"to_{c}_pct"] = 100 * ha[:, j] / np.maximum(ha.sum(axis=1), 1e-12)
    by_district = zone_table(
        counts,
        [outside_label, *districts["district"].tolist()],
        [{"from_class": a, "to_class": b} for a, b in scheme.pairs()],
        before.grid.hectares(1),
        "hectares",
        "percent_of_district",
    )
    areas = pd.DataFrame(
        [
            {
                "period": period,
                "class": c,
                "pixels": int(per_year[y, i]),
                "hectares": before.grid.hectares(per_year[y, i]),
            }
            for y, period in enumerate(PERIODS)
            for i, c in enumerate(scheme.classes)
        ]
    )
    return matrix, by_district, areas


def change_codes(a: np.ndarray, b: np.ndarray, k: int, nodata: int) -> np.ndarray:
    """uint8 ``from * 10 + to`` of two class arrays; nodata where either has no class."""
    code = (a.astype(np.uint16) * 10 + b).astype(np.uint8)
    code[(a >= k) | (b >= k)] = nodata
    return code


# --------------------------------------------------------------------------- #
# Conversion patches
# --------------------------------------------------------------------------- #
def conversion_patches(
    before: RasterSource, after: RasterSource, scheme: ChangeScheme, min_mapping_unit_ha: float
) -> tuple[gpd.GeoDataFrame, int]:
    """One polygon per 8-connected patch of the conversion, at least the mapping unit.

    The boolean conversion mask (1 byte per pixel) is held whole so patches are
    never cut at window borders.

    Returns:
        The patches (patch_id, n_pixels, area_ha, geometry in the maps' CRS) and
        the number of patches before the mapping unit.
    """
    check_maps_agree(before, after)
    src, dst = scheme.classes.index(scheme.from_class), scheme.classes.index(scheme.to_class)
    mask = (read_all(before) == src) & (read_all(after) == dst)
    labels, n = ndimage.label(mask, structure=np.ones((3, 3), dtype=bool))
    sizes = np.bincount(labels.ravel(), minlength=n + 1)
    min_px = min_mapping_unit_ha / before.grid.hectares(1)
    keep = np.flatnonzero(sizes >= max(min_px, 1))
    kept = np.isin(labels, keep[keep > 0])
    geoms: dict[int, list[Any]] = {}
    for geom, value in features.shapes(
        labels.astype(np.int32), mask=kept, connectivity=8, transform=before.grid.affine
    ):
        geoms.setdefault(int(value), []).append(shape(geom))
    rows = [
        {
            "patch_id": pid,
            "n_pixels": int(sizes[pid]),
            "area_ha": float(before.grid.hectares(sizes[pid])),
            "geometry": gpd.GeoSeries(parts).union_all(),
        }
        for pid, parts in sorted(geoms.items())
    ]
    frame = gpd.GeoDataFrame(
        rows or {"patch_id": [], "n_pixels": [], "area_ha": [], "geometry": []},
        geometry="geometry",
        crs=before.grid.crs,
    )
    return frame, n


# --------------------------------------------------------------------------- #
# Map against labels, tile by tile
# --------------------------------------------------------------------------- #
def tile_measures(
    before: RasterSource,
    after: RasterSource,
    manifest: pd.DataFrame,
    labels_of: Callable[[str, str], np.ndarray],
    years: tuple[int, int],
    scheme: ChangeScheme,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Mapped and labelled areas of every tile in both years, and its confusion matrices.

    Args:
        before: First map.
        after: Second map.
        manifest: The tile manifest (tile_id, year, split, block, stratum, sample, extent).
        labels_of: (split, sample) -> the tile's label array (uint8, padded).
        years: The two years.
        scheme: Classes and the conversion.

    Returns:
        ``tile_areas`` (one row per tile and quantity, with its block, split and
        stratum) and ``map_accuracy``
        (confusion matrices, rows = map, columns = reference, summed over the
        test tiles, and per tile).
    """
    check_maps_agree(before, after)
    check_maps_match_split(before, manifest)
    if "stratum" not in manifest:
        raise ValueError(
            "The tile manifest has no 'stratum' column (the test sample's design); "
            "re-run the ingestion pipeline"
        )
    grid = before.grid
    by_year = {int(y): g.set_index("tile_id") for y, g in manifest.groupby("year")}
    if any(y not in by_year for y in years):
        raise ValueError(
            f"The tile manifest has years {sorted(by_year)}, not {years[0]} and {years[1]} "
            f"(before.year / after.year)"
        )
    first, second = by_year[years[0]], by_year[years[1]]
    both = first.index.intersection(second.index)
    missing = len(first.index.union(second.index)) - len(both)
    if missing:
        logger.warning("%d tile(s) are not in both years: left out of accuracy and areas", missing)
    rows, per_tile = [], {}
    for tile in both:
        a, b = first.loc[tile], second.loc[tile]
        h, w = int(a["height"]), int(a["width"])
        window = (
            from_bounds(a["minx"], a["miny"], a["maxx"], a["maxy"], transform=grid.affine)
            .round_offsets()
            .round_lengths()
        )
        pair = TilePair(
            map_before=before.read(window, bands=[1], fill=scheme.nodata)[0],
            map_after=after.read(window, bands=[1], fill=scheme.nodata)[0],
            ref_before=labels_of(a["split"], a["sample"])[:h, :w],
            ref_after=labels_of(b["split"], b["sample"])[:h, :w],
        )
        counts, matrices = measure_tile(
            pair, scheme.classes, scheme.nodata, scheme.from_class, scheme.to_class
        )
        per_tile[str(tile)] = {"split": a["split"], "block": str(a["block"]), **matrices}
        rows += [
            {
                "tile_id": str(tile),
                "block": str(a["block"]),
                "split": a["split"],
                "stratum": str(a["stratum"]),
                **r,
                "map_ha": grid.hectares(r["map_px"]),
                "ref_ha": grid.hectares(r["ref_px"]),
                "tile_ha": grid.hectares(r["tile_px"]),
            }
            for r in counts
        ]
    test = [t for t in per_tile.values() if t["split"] == "test"]
    if not test:
        raise ValueError("The tile manifest has no test tiles; re-run the ingestion pipeline")
    accuracy: dict[str, Any] = {"classes": scheme.classes, "map_rows_reference_columns": True}
    for key in (*PERIODS, "change"):
        accuracy[key] = np.sum([t[key] for t in test], axis=0).tolist()
    accuracy["n_test_tiles"] = len(test)
    accuracy["n_test_blocks"] = len({t["block"] for t in test})
    accuracy["tiles"] = per_tile
    return pd.DataFrame(rows), accuracy


def pixel_accuracies(cm: Any, index: int) -> tuple[float, float]:
    """Pixel-level user's and producer's accuracy of a class (rows = map)."""
    cm = np.asarray(cm, dtype=float)
    row, col = cm[index].sum(), cm[:, index].sum()
    return (
        float(cm[index, index] / row) if row else float("nan"),
        float(cm[index, index] / col) if col else float("nan"),
    )
