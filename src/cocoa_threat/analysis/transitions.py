"""Land-use change between two maps: codes, counts, conversion patches, map vs labels per tile.

The change map codes each pixel as ``from * 10 + to`` (class codes of
``land_use.classes``), e.g. 21 = cocoa -> mining.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from affine import Affine
from matplotlib.colors import to_rgba
from rasterio import features
from rasterio.windows import Window, from_bounds
from scipy import ndimage
from shapely.affinity import affine_transform
from shapely.geometry import shape

from cocoa_threat.analysis.accuracy import TilePair, measure_tile
from cocoa_threat.analysis.zonal import zone_table, zones_of
from cocoa_threat.geo.cog import RasterProducer
from cocoa_threat.geo.colours import colour_table
from cocoa_threat.geo.compute import ComputeSettings, map_windows, sum_windows, window_producer
from cocoa_threat.geo.grid import RasterSource, iter_windows, same_grid_or_raise
from cocoa_threat.params import LandUse
from cocoa_threat.params.transition import TransitionParams
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

    @classmethod
    def of(cls, p: TransitionParams, land_use: LandUse) -> ChangeScheme:
        """The classes of ``land_use`` and the conversion of ``transition``."""
        return cls(
            classes=land_use.classes,
            colours=land_use.colours,
            nodata=land_use.nodata,
            from_class=p.from_class,
            to_class=p.to_class,
            conversion_colour=p.conversion_colour,
        )

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


def _read_pair(window: Window, before: RasterSource, after: RasterSource) -> tuple[Any, Any]:
    return before.read(window, bands=[1])[0], after.read(window, bands=[1])[0]


def transition_window(
    window: Window, before: RasterSource, after: RasterSource, districts: Any, k: int
) -> tuple[np.ndarray, np.ndarray]:
    """One window's pixel counts: (zones, from * k + to) and (2 years, classes), int64.

    One histogram of (zone, from, to) with every code >= k (nodata) as k gives both.
    """
    a, b = _read_pair(window, before, after)
    n_d, k1 = len(districts) + 1, k + 1
    index = zones_of(districts, before.grid, window).astype(np.intp)
    index *= k1
    index += np.minimum(a, k)
    index *= k1
    index += np.minimum(b, k)
    hist = np.bincount(index.ravel(), minlength=n_d * k1 * k1).reshape(n_d, k1, k1)
    counts = hist[:, :k, :k].reshape(n_d, k * k)
    per_year = np.stack([hist[:, :k, :].sum(axis=(0, 2)), hist[:, :, :k].sum(axis=(0, 1))])
    return counts.astype(np.int64), per_year.astype(np.int64)


def transition_tables(
    before: RasterSource,
    after: RasterSource,
    districts: gpd.GeoDataFrame,
    scheme: ChangeScheme,
    outside_label: str,
    block: int,
    compute: ComputeSettings | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Transition matrix, transitions by district and mapped class areas, in one windowed pass.

    Windows run here or on Dask (``compute``); their int64 pixel counts are summed
    and turned into hectares at the end.

    Returns:
        ``(matrix, by_district, areas)``: one row per from-class (hectares to
        each class, percent of the from-class); district, from, to, hectares,
        percent of the district's mapped area; period, class, pixels, hectares.
    """
    check_maps_agree(before, after)
    k, n_d = scheme.k, len(districts) + 1
    counts, per_year = sum_windows(
        partial(transition_window, before=before, after=after, districts=districts, k=k),
        iter_windows(before.grid.width, before.grid.height, block),
        (np.zeros((n_d, k * k), np.int64), np.zeros((2, k), np.int64)),
        compute,
        what="transition window",
        grid=before.grid,
    )
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


def change_window(
    window: Window, before: RasterSource, after: RasterSource, k: int, nodata: int
) -> np.ndarray:
    """One window of the change map, (1, rows, cols) uint8."""
    return change_codes(*_read_pair(window, before, after), k, nodata)[None]


def change_producer(
    before: RasterSource,
    after: RasterSource,
    scheme: ChangeScheme,
    block: int,
    compute: ComputeSettings | None,
) -> RasterProducer:
    """The change map (``from * 10 + to``, nodata, colour table), window by window."""
    check_maps_agree(before, after)
    return window_producer(
        partial(change_window, before=before, after=after, k=scheme.k, nodata=scheme.nodata),
        before.grid,
        block,
        compute,
        what="change-map window",
        count=1,
        dtype="uint8",
        nodata=scheme.nodata,
        band_names=["transition"],
        colormap=colour_table(scheme.colour_of_codes(), scheme.nodata),
        tags={f"code_{scheme.code(a, b)}": f"{a} -> {b}" for a, b in scheme.pairs()},
    )


# --------------------------------------------------------------------------- #
# Conversion patches
# --------------------------------------------------------------------------- #
@dataclass
class PatchPieces:
    """The conversion patches of one window (8-connected, labelled within the window).

    Attributes:
        first: Per local label (0: none), the raster-order index ``row * width + col``
            of its first pixel in the whole raster.
        sizes: Pixels per local label.
        touching: Whether each label touches the window's edge (it may go on next door).
        shapes: Polygons (pixel coordinates of the whole raster) of the labels that
            touch the edge or reach the mapping unit.
        edges: Labels along the top, bottom, left and right edges.
    """

    first: np.ndarray
    sizes: np.ndarray
    touching: np.ndarray
    shapes: dict[int, list[Any]]
    edges: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]


def patch_window(
    window: Window,
    before: RasterSource,
    after: RasterSource,
    codes: tuple[int, int],
    min_px: float,
) -> PatchPieces:
    """Label one window's conversion pixels and outline the patches that matter."""
    a, b = _read_pair(window, before, after)
    labels, n = ndimage.label((a == codes[0]) & (b == codes[1]), structure=np.ones((3, 3), bool))
    sizes = np.bincount(labels.ravel(), minlength=n + 1).astype(np.int64)
    flat = np.flatnonzero(labels)
    _, at = np.unique(labels.ravel()[flat], return_index=True)
    rows, cols = np.divmod(flat[at], labels.shape[1])
    first = np.zeros(n + 1, np.int64)
    first[1:] = (rows + int(window.row_off)) * before.grid.width + cols + int(window.col_off)
    edges = (labels[0], labels[-1], labels[:, 0], labels[:, -1])
    touching = np.zeros(n + 1, bool)
    touching[np.concatenate(edges)] = True
    touching[0] = False
    keep = touching | (sizes >= max(min_px, 1))
    keep[0] = False
    shapes: dict[int, list[Any]] = {}
    pixel_space = Affine(1, 0, window.col_off, 0, 1, window.row_off)
    for geom, value in features.shapes(
        labels.astype(np.int32), mask=keep[labels], connectivity=8, transform=pixel_space
    ):
        shapes.setdefault(int(value), []).append(shape(geom))
    return PatchPieces(first, sizes, touching, shapes, tuple(e.copy() for e in edges))


def _edge_pairs(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(label in a, label in b) of 8-neighbours across an edge (a and b face each other)."""
    n, out = len(a), []
    for d in (-1, 0, 1):
        x, y = a[max(0, -d) : n - max(0, d)], b[max(0, d) : n - max(0, -d)]
        ok = (x > 0) & (y > 0)
        out.append(np.column_stack([x[ok], y[ok]]))
    return np.vstack(out).astype(np.int64)


@dataclass
class _PatchMerger:
    """Joins the windows' pieces into whole patches (in window order, as they arrive)."""

    block: int
    min_px: float
    next_id: int = 0
    edges: dict[tuple[int, int], tuple[int, tuple[np.ndarray, ...]]] = field(default_factory=dict)
    links: list[np.ndarray] = field(default_factory=list)
    firsts: list[np.ndarray] = field(default_factory=list)  # of the windows' inner patches
    whole: list[tuple[int, int, list[Any]]] = field(default_factory=list)
    crossing: dict[int, tuple[int, int, list[Any]]] = field(default_factory=dict)

    def add(self, window: Window, piece: PatchPieces) -> None:
        """Take one window's pieces; link them to the windows above and to the left."""
        i, j = int(window.row_off) // self.block, int(window.col_off) // self.block
        base, self.next_id = self.next_id, self.next_id + len(piece.sizes)
        self.edges[(i, j)] = (base, piece.edges)
        top, _, left, _ = piece.edges
        for (di, dj), mine, theirs in (
            ((0, -1), left, lambda e: e[3]),  # left neighbour's right column
            ((-1, 0), top, lambda e: e[1]),  # upper neighbour's bottom row
            ((-1, -1), top[:1], lambda e: e[1][-1:]),  # corners
            ((-1, 1), top[-1:], lambda e: e[1][:1]),
        ):
            if (i + di, j + dj) in self.edges:
                other, their_edges = self.edges[(i + di, j + dj)]
                pairs = _edge_pairs(theirs(their_edges), mine)
                self.links.append(np.column_stack([pairs[:, 0] + other, pairs[:, 1] + base]))
        inner = ~piece.touching
        inner[0] = False
        self.firsts.append(piece.first[inner])
        for label, parts in piece.shapes.items():
            entry = (int(piece.first[label]), int(piece.sizes[label]), parts)
            if piece.touching[label]:
                self.crossing[base + label] = entry
            else:
                self.whole.append(entry)

    def patches(self) -> tuple[list[tuple[int, int, list[Any]]], np.ndarray]:
        """Every patch (first pixel, size, pieces) and the first pixels of all patches."""
        from scipy.sparse import coo_matrix
        from scipy.sparse.csgraph import connected_components

        ids = np.array(sorted(self.crossing), dtype=np.int64)
        pairs = np.vstack([np.empty((0, 2), np.int64), *self.links])
        index = np.searchsorted(ids, pairs)
        graph = coo_matrix((np.ones(len(index)), (index[:, 0], index[:, 1])), (len(ids), len(ids)))
        _, component = connected_components(graph, directed=False)
        merged: dict[int, tuple[int, int, list[Any]]] = {}
        for gid, c in zip(ids, component, strict=True):
            first, size, parts = self.crossing[int(gid)]
            old = merged.get(int(c), (first, 0, []))
            merged[int(c)] = (min(old[0], first), old[1] + size, old[2] + parts)
        joined = list(merged.values())
        firsts = np.concatenate([*self.firsts, [p[0] for p in joined]]).astype(np.int64)
        return self.whole + [p for p in joined if p[1] >= max(self.min_px, 1)], np.sort(firsts)


def conversion_patches(
    before: RasterSource,
    after: RasterSource,
    scheme: ChangeScheme,
    min_mapping_unit_ha: float,
    block: int,
    compute: ComputeSettings | None = None,
) -> tuple[gpd.GeoDataFrame, int]:
    """One polygon per 8-connected patch of the conversion, at least the mapping unit.

    Windows are labelled and outlined on their own (here or on Dask); patches that
    cross window edges are joined by their pixels along the edges, so the result is
    that of the whole raster at once: the same patches, numbered in raster order as
    :func:`scipy.ndimage.label` numbers them.

    Returns:
        The patches (patch_id, n_pixels, area_ha, geometry in the maps' CRS) and
        the number of patches before the mapping unit.
    """
    check_maps_agree(before, after)
    codes = (scheme.classes.index(scheme.from_class), scheme.classes.index(scheme.to_class))
    min_px = min_mapping_unit_ha / before.grid.hectares(1)
    merger = _PatchMerger(block, min_px)
    work = partial(patch_window, before=before, after=after, codes=codes, min_px=min_px)
    windows = iter_windows(before.grid.width, before.grid.height, block)
    for window, piece in map_windows(work, windows, compute, what="patch window", grid=before.grid):
        merger.add(window, piece)
    kept, firsts = merger.patches()
    a, b, c, d, e, f = tuple(before.grid.affine)[:6]
    rows = [
        {
            "patch_id": int(np.searchsorted(firsts, first)) + 1,
            "n_pixels": size,
            "area_ha": float(before.grid.hectares(size)),
            "geometry": affine_transform(gpd.GeoSeries(parts).union_all(), [a, b, d, e, c, f]),
        }
        for first, size, parts in sorted(kept, key=lambda p: p[0])
    ]
    frame = gpd.GeoDataFrame(
        rows or {"patch_id": [], "n_pixels": [], "area_ha": [], "geometry": []},
        geometry="geometry",
        crs=before.grid.crs,
    )
    return frame, len(firsts)


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
