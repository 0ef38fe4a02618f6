"""Nodes of the transition pipeline: where mining replaced cocoa, and how much."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from typing import Any

import geopandas as gpd
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.colors import to_rgba
from matplotlib.figure import Figure
from rasterio import features
from rasterio.windows import Window, from_bounds
from scipy import ndimage
from shapely.geometry import box, shape
from shapely.validation import explain_validity

from cocoa_threat.analysis.accuracy import TilePair, conversion_quantity, measure_tile
from cocoa_threat.analysis.area import POPULATIONS, area_table
from cocoa_threat.datasets.raw import require
from cocoa_threat.geo.cog import RasterProducer
from cocoa_threat.geo.colours import colour_table
from cocoa_threat.geo.grid import (
    RasterSource,
    iter_windows,
    rasterize_window,
    read_all,
    same_grid_or_raise,
)
from cocoa_threat.geo.raster import Raster
from cocoa_threat.pipelines.transition.params import TransitionSpec, transition_params
from cocoa_threat.reporting.maps import plot_class_raster
from cocoa_threat.smallminesds.splits import split_fingerprint

logger = logging.getLogger(__name__)


# --------------------------------------------------------------------------- #
# Districts
# --------------------------------------------------------------------------- #
def prepare_districts(
    districts_raw: gpd.GeoDataFrame,
    before_map: RasterSource,
    transition: dict[str, Any],
    land_use: dict[str, Any],
) -> gpd.GeoDataFrame:
    """Check district boundaries and reproject them to the maps' CRS.

    Args:
        districts_raw: Boundaries in any CRS.
        before_map: A yearly map (for its CRS and extent).
        transition: The ``transition`` parameters.

    Returns:
        ``districts``: one row per district (``district``, geometry) in the map CRS.

    Raises:
        ValueError: Missing name column or CRS, invalid geometries (each named),
            or no overlap with the maps.
    """
    p = transition_params(transition, land_use)
    districts_raw = require(districts_raw, "districts_raw (district boundaries)")
    col = p.district_name_column
    if col not in districts_raw.columns:
        raise ValueError(
            f"The district file has no column '{col}' (columns: {list(districts_raw.columns)}); "
            f"set transition.district_name_column"
        )
    if districts_raw.crs is None:
        raise ValueError("The district file has no CRS; give it one (e.g. in QGIS) and re-run")
    invalid = districts_raw[~districts_raw.geometry.is_valid | districts_raw.geometry.isna()]
    if len(invalid):
        details = "; ".join(
            f"{name}: {explain_validity(geom) if geom is not None else 'no geometry'}"
            for name, geom in zip(invalid[col], invalid.geometry, strict=True)
        )
        raise ValueError(
            f"Invalid district geometries ({details}); repair them (e.g. QGIS 'Fix "
            f"geometries') and re-run"
        )
    districts = (
        districts_raw[[col, "geometry"]]
        .rename(columns={col: "district"})
        .to_crs(before_map.grid.crs)
        .dissolve(by="district", as_index=False)
    )
    extent = box(*before_map.grid.bounds)
    overlap = districts.geometry.intersection(extent).area
    if float(overlap.sum()) <= 0:
        b = districts.total_bounds
        raise ValueError(
            f"The district boundaries (bounds {b.round(1).tolist()} in {before_map.grid.crs}) "
            f"do not overlap the maps ({[round(v, 1) for v in before_map.grid.bounds]}); "
            f"check the district file and its CRS"
        )
    outside = districts.loc[overlap <= 0, "district"].tolist()
    if outside:
        logger.warning("Districts outside the mapped area: %s", outside)
    return districts


# --------------------------------------------------------------------------- #
# Windowed passes
# --------------------------------------------------------------------------- #
def check_maps_agree(before: RasterSource, after: RasterSource) -> None:
    """Refuse two yearly maps made by different models or on different splits.

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


def _paired_windows(
    before: RasterSource, after: RasterSource, block: int
) -> Iterator[tuple[Window, np.ndarray, np.ndarray]]:
    check_maps_agree(before, after)
    for window in iter_windows(before.grid.width, before.grid.height, block):
        yield window, before.read(window, bands=[1])[0], after.read(window, bands=[1])[0]


def compute_transitions(
    before_map: RasterSource,
    after_map: RasterSource,
    districts: gpd.GeoDataFrame,
    transition: dict[str, Any],
    land_use: dict[str, Any],
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Transition matrix, per-district transitions and mapped class areas, in one windowed pass.

    Args:
        before_map: Land use of the first date.
        after_map: Land use of the second date.
        districts: Output of :func:`prepare_districts`.
        transition: The ``transition`` parameters.

    Returns:
        ``transition_matrix`` (one row per from-class: hectares to each class and
        percent of the from-class), ``transition_by_district`` (district, from,
        to, hectares, percent of the district's mapped area) and
        ``map_class_areas`` (period, class, pixels, hectares).
    """
    p = transition_params(transition, land_use)
    k = len(p.classes)
    n_d = len(districts) + 1  # 0 = outside every district
    counts = np.zeros((n_d, k, k), dtype=np.int64)
    per_year = np.zeros((2, k), dtype=np.int64)
    for window, a, b in _paired_windows(before_map, after_map, p.block_size):
        d = rasterize_window(districts.geometry, before_map.grid, window)
        both = (a < k) & (b < k)
        flat = (d[both] * k + a[both]) * k + b[both]
        counts += np.bincount(flat, minlength=n_d * k * k).reshape(n_d, k, k)
        per_year[0] += np.bincount(a[a < k], minlength=k)
        per_year[1] += np.bincount(b[b < k], minlength=k)
    total = counts.sum(axis=0)
    ha = before_map.grid.hectares(total)
    matrix = pd.DataFrame({"from_class": p.classes})
    for j, c in enumerate(p.classes):
        matrix[f"to_{c}_ha"] = ha[:, j]
    matrix["total_ha"] = ha.sum(axis=1)
    for j, c in enumerate(p.classes):
        matrix[f"to_{c}_pct"] = 100 * ha[:, j] / np.maximum(ha.sum(axis=1), 1e-12)
    names = [p.outside_label, *districts["district"].tolist()]
    rows = []
    for di, name in enumerate(names):
        area = before_map.grid.hectares(counts[di].sum())
        if area == 0:
            continue
        for i, src in enumerate(p.classes):
            for j, dst in enumerate(p.classes):
                value = before_map.grid.hectares(counts[di, i, j])
                rows.append(
                    {
                        "district": name,
                        "from_class": src,
                        "to_class": dst,
                        "hectares": value,
                        "percent_of_district": 100 * value / area,
                    }
                )
    by_district = pd.DataFrame(rows)
    areas = pd.DataFrame(
        [
            {
                "period": period,
                "class": c,
                "pixels": int(per_year[y, i]),
                "hectares": before_map.grid.hectares(per_year[y, i]),
            }
            for y, period in enumerate(("before", "after"))
            for i, c in enumerate(p.classes)
        ]
    )
    conv = matrix.set_index("from_class").loc[p.from_class, f"to_{p.to_class}_ha"]
    logger.info("Mapped %s -> %s: %.1f ha", p.from_class, p.to_class, conv)
    return matrix, by_district, areas


def make_change_map(
    before_map: RasterSource,
    after_map: RasterSource,
    transition: dict[str, Any],
    land_use: dict[str, Any],
) -> RasterProducer:
    """Change raster coding each transition as ``from * 10 + to`` (e.g. 21 cocoa -> mining).

    Returns:
        A lazy uint8 raster (255 nodata, colour table) written by the catalog as a COG.
    """
    p = transition_params(transition, land_use)
    k = len(p.classes)
    check_maps_agree(before_map, after_map)

    def blocks() -> Iterator[tuple[Window, np.ndarray, dict[str, np.ndarray]]]:
        for window, a, b in _paired_windows(before_map, after_map, p.block_size):
            code = (a.astype(np.uint16) * 10 + b).astype(np.uint8)
            code[(a >= k) | (b >= k)] = p.nodata
            yield window, code[None], {}

    return RasterProducer(
        grid=before_map.grid,
        count=1,
        dtype="uint8",
        nodata=p.nodata,
        blocks=blocks,
        band_names=["transition"],
        colormap=colour_table(_change_colours(p), p.nodata),
        tags={f"code_{p.code(a, b)}": f"{a} -> {b}" for a in p.classes for b in p.classes},
    )


def _change_colours(p: TransitionSpec) -> dict[int, str | tuple[float, ...]]:
    out: dict[int, str | tuple[float, ...]] = {}
    for a in p.classes:
        for b in p.classes:
            if a == b:
                r, g, bl, _ = to_rgba(p.colours[a])
                out[p.code(a, b)] = (0.55 + 0.45 * r, 0.55 + 0.45 * g, 0.55 + 0.45 * bl, 1.0)
            else:
                out[p.code(a, b)] = p.colours[b]
    out[p.code(p.from_class, p.to_class)] = p.conversion_colour
    return out


# --------------------------------------------------------------------------- #
# Conversion polygons
# --------------------------------------------------------------------------- #
def extract_conversion_polygons(
    before_map: RasterSource,
    after_map: RasterSource,
    districts: gpd.GeoDataFrame,
    transition: dict[str, Any],
    land_use: dict[str, Any],
) -> gpd.GeoDataFrame:
    """One polygon per connected patch of cocoa converted to mining (8-connected).

    Patches smaller than ``transition.min_mapping_unit_ha`` are dropped. The
    boolean conversion mask (1 byte per pixel) is held whole so patches are
    never cut at window borders.

    Returns:
        ``cocoa_to_mining``: patch_id, area_ha, n_pixels, district (largest
        overlap), geometry in the maps' CRS.
    """
    p = transition_params(transition, land_use)
    check_maps_agree(before_map, after_map)
    src, dst = p.classes.index(p.from_class), p.classes.index(p.to_class)
    mask = (read_all(before_map) == src) & (read_all(after_map) == dst)
    labels, n = ndimage.label(mask, structure=np.ones((3, 3), dtype=bool))
    sizes = np.bincount(labels.ravel(), minlength=n + 1)
    min_px = p.min_mapping_unit_ha / before_map.grid.hectares(1)
    keep = np.flatnonzero(sizes >= max(min_px, 1))
    keep = keep[keep > 0]
    kept = np.isin(labels, keep)
    geoms: dict[int, list[Any]] = {}
    for geom, value in features.shapes(
        labels.astype(np.int32), mask=kept, connectivity=8, transform=before_map.grid.affine
    ):
        geoms.setdefault(int(value), []).append(shape(geom))
    rows = []
    for pid, parts in sorted(geoms.items()):
        rows.append(
            {
                "patch_id": pid,
                "n_pixels": int(sizes[pid]),
                "area_ha": float(before_map.grid.hectares(sizes[pid])),
                "geometry": gpd.GeoSeries(parts).union_all(),
            }
        )
    frame = gpd.GeoDataFrame(
        rows or {"patch_id": [], "n_pixels": [], "area_ha": [], "geometry": []},
        geometry="geometry",
        crs=before_map.grid.crs,
    )
    frame["district"] = _majority_district(frame, districts, p.outside_label)
    logger.info(
        "%d %s -> %s patches >= %.2f ha (%d smaller ones dropped), %.1f ha in all",
        len(frame),
        p.from_class,
        p.to_class,
        p.min_mapping_unit_ha,
        n - len(frame),
        frame["area_ha"].sum() if len(frame) else 0.0,
    )
    return frame


def _majority_district(
    patches: gpd.GeoDataFrame, districts: gpd.GeoDataFrame, outside: str
) -> list[str]:
    names = []
    for geom in patches.geometry:
        overlap = districts.geometry.intersection(geom).area
        names.append(
            districts["district"].iloc[int(overlap.argmax())] if overlap.max() > 0 else outside
        )
    return names


# --------------------------------------------------------------------------- #
# Accuracy and error-adjusted areas
# --------------------------------------------------------------------------- #
def measure_tiles(
    before_map: RasterSource,
    after_map: RasterSource,
    tile_manifest: pd.DataFrame,
    model_input: dict[str, Callable[[], Raster]],
    before_year: int,
    after_year: int,
    transition: dict[str, Any],
    land_use: dict[str, Any],
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Map against reference labels on every tile, in both years.

    Returns:
        ``tile_areas`` (one row per tile and quantity: mapped and labelled
        reference hectares, the tile's block and split) and ``map_accuracy``
        (confusion matrices, rows = map, columns = reference, summed over the
        **test** tiles, and per tile).
    """
    p = transition_params(transition, land_use)
    check_maps_agree(before_map, after_map)
    check_maps_match_split(before_map, tile_manifest)
    grid = before_map.grid
    by_year = {int(y): g.set_index("tile_id") for y, g in tile_manifest.groupby("year")}
    if before_year not in by_year or after_year not in by_year:
        raise ValueError(
            f"The tile manifest has years {sorted(by_year)}, not {before_year} and "
            f"{after_year} (before.year / after.year)"
        )
    first, second = by_year[before_year], by_year[after_year]
    both = first.index.intersection(second.index)
    if len(both) < len(first.index.union(second.index)):
        logger.warning(
            "%d tile(s) are not in both years and are left out of the accuracy and areas",
            len(first.index.union(second.index)) - len(both),
        )
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
            map_before=before_map.read(window, bands=[1], fill=p.nodata)[0],
            map_after=after_map.read(window, bands=[1], fill=p.nodata)[0],
            ref_before=model_input[f"{a['split']}/{a['sample']}_lbl"]().data[0][:h, :w],
            ref_after=model_input[f"{b['split']}/{b['sample']}_lbl"]().data[0][:h, :w],
        )
        counts, matrices = measure_tile(pair, p.classes, p.nodata, p.from_class, p.to_class)
        per_tile[str(tile)] = {"split": a["split"], "block": str(a["block"]), **matrices}
        for r in counts:
            rows.append(
                {
                    "tile_id": str(tile),
                    "block": str(a["block"]),
                    "split": a["split"],
                    **r,
                    "map_ha": grid.hectares(r["map_px"]),
                    "ref_ha": grid.hectares(r["ref_px"]),
                    "tile_ha": grid.hectares(r["tile_px"]),
                }
            )
    test = [t for t in per_tile.values() if t["split"] == "test"]
    if not test:
        raise ValueError("The tile manifest has no test tiles; re-run the ingestion pipeline")
    accuracy: dict[str, Any] = {"classes": p.classes, "map_rows_reference_columns": True}
    for key in ("before", "after", "change"):
        accuracy[key] = np.sum([t[key] for t in test], axis=0).tolist()
    accuracy["n_test_tiles"] = len(test)
    accuracy["n_test_blocks"] = len({t["block"] for t in test})
    accuracy["tiles"] = per_tile
    return pd.DataFrame(rows), accuracy


def _accuracies(cm: np.ndarray, index: int) -> tuple[float, float]:
    """Pixel-level user's and producer's accuracy of a class on the test tiles."""
    cm = np.asarray(cm, dtype=float)
    row, col = cm[index].sum(), cm[:, index].sum()
    users = cm[index, index] / row if row else np.nan
    producers = cm[index, index] / col if col else np.nan
    return float(users), float(producers)


def estimate_areas(
    tile_areas: pd.DataFrame,
    map_accuracy: dict[str, Any],
    transition: dict[str, Any],
    land_use: dict[str, Any],
) -> pd.DataFrame:
    """Areas adjusted with the test sample, with intervals that hold for whole blocks of tiles.

    The test tiles come as whole spatial blocks (``transition.sampling_unit``),
    so the block is the sampling unit: a difference estimator with a
    between-block variance (:func:`~cocoa_threat.analysis.area.area_table`)
    over the tiles the model never fitted, and the training tiles at their
    labelled area for the whole region. The label census is beside every
    estimate; where labels cover every tile (always on the demo) it is the
    truth the intervals must hold. User's and producer's accuracies are
    pixel-level on the test tiles (descriptive).

    Returns:
        ``area_estimates``: see :func:`~cocoa_threat.analysis.area.area_table`,
        plus users_accuracy and producers_accuracy.
    """
    p = transition_params(transition, land_use)
    table = area_table(tile_areas, p.confidence, p.sampling_unit, p.min_test_units)
    users, producers = [], []
    for r in table.to_dict("records"):
        if r["period"] == "change":
            ua, pa = _accuracies(map_accuracy["change"], 1)
        else:
            ua, pa = _accuracies(map_accuracy[r["period"]], p.classes.index(r["class"]))
        users.append(ua)
        producers.append(pa)
    table["users_accuracy"], table["producers_accuracy"] = users, producers
    conv = table[
        (table["quantity"] == conversion_quantity(p.from_class, p.to_class))
        & (table["population"] == POPULATIONS[1])
    ].iloc[0]
    logger.info(
        "%s: mapped %.1f ha, adjusted %.1f ha (%.0f%% CI %.1f-%.1f ha, %d test %ss), "
        "label census %.1f ha",
        conv["quantity"],
        conv["map_ha"],
        conv["adjusted_ha"],
        100 * p.confidence,
        conv["ci_low_ha"],
        conv["ci_high_ha"],
        conv["n_units"],
        p.sampling_unit,
        conv["census_ha"],
    )
    return table


# --------------------------------------------------------------------------- #
# Figures
# --------------------------------------------------------------------------- #
def plot_change_map(
    change_map: RasterSource,
    districts: gpd.GeoDataFrame,
    transition: dict[str, Any],
    land_use: dict[str, Any],
) -> Figure:
    """Quicklook of the change map: stable classes pale, changes strong."""
    p = transition_params(transition, land_use)
    colours = _change_colours(p)
    codes = [p.code(a, b) for a in p.classes for b in p.classes]
    labels = [f"{a} (stable)" if a == b else f"{a} -> {b}" for a in p.classes for b in p.classes]
    return plot_class_raster(
        change_map,
        values=codes,
        labels=labels,
        colours=[colours[c] for c in codes],
        title="Land-use change",
        districts=districts,
        max_size=p.quicklook_max_size,
        nodata=p.nodata,
    )


def plot_transitions(
    transition_by_district: pd.DataFrame, transition: dict[str, Any], land_use: dict[str, Any]
) -> Figure:
    """Bar chart of the changes (hectares) per district."""
    p = transition_params(transition, land_use)
    changes = transition_by_district[
        transition_by_district["from_class"] != transition_by_district["to_class"]
    ].copy()
    changes["transition"] = changes["from_class"] + " -> " + changes["to_class"]
    table = changes.pivot_table(
        index="district", columns="transition", values="hectares", aggfunc="sum"
    )
    colours = _change_colours(p)
    fig, ax = plt.subplots(figsize=(9, 4.5))
    order = [
        f"{a} -> {b}" for a in p.classes for b in p.classes if a != b and f"{a} -> {b}" in table
    ]
    table[order].plot.barh(
        stacked=True,
        ax=ax,
        color=[colours[p.code(*t.split(" -> "))] for t in order],
        edgecolor="black",
        linewidth=0.3,
    )
    ax.set_xlabel("hectares")
    ax.set_ylabel("")
    ax.set_title("Land-use changes by district")
    ax.legend(fontsize=8, bbox_to_anchor=(1.01, 1), loc="upper left", frameon=False)
    fig.tight_layout()
    return fig
