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

from cocoa_threat.analysis.area import stratified_area_estimate
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
from cocoa_threat.models.metrics import confusion_matrix
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
def assess_map_accuracy(
    before_map: RasterSource,
    after_map: RasterSource,
    tile_manifest: pd.DataFrame,
    model_input: dict[str, Callable[[], Raster]],
    before_year: int,
    after_year: int,
    transition: dict[str, Any],
    land_use: dict[str, Any],
) -> dict[str, Any]:
    """Confusion matrices of the maps on the **test** tiles (never used in training).

    Per year: map class vs reference class. For the change: mapped
    ``from_class -> to_class`` vs reference ``from_class -> to_class`` on the
    test tiles present in both years.

    Returns:
        ``map_accuracy``: ``before`` / ``after`` / ``change`` confusion matrices
        (rows = map, columns = reference) and the number of test tiles.
    """
    p = transition_params(transition, land_use)
    check_maps_agree(before_map, after_map)
    check_maps_match_split(before_map, tile_manifest)
    k = len(p.classes)
    test = tile_manifest[tile_manifest["split"] == "test"]
    if test.empty:
        raise ValueError("The tile manifest has no test tiles; re-run the ingestion pipeline")
    out: dict[str, Any] = {"classes": p.classes, "map_rows_reference_columns": True}
    pairs: dict[str, dict[str, tuple[np.ndarray, np.ndarray]]] = {}
    for period, source, year in (
        ("before", before_map, before_year),
        ("after", after_map, after_year),
    ):
        cm = np.zeros((k, k), dtype=np.int64)
        for r in test[test["year"] == year].itertuples():
            ref = model_input[f"test/{r.sample}_lbl"]()
            window = (
                from_bounds(*ref.bounds, transform=source.grid.affine)
                .round_offsets()
                .round_lengths()
            )
            mapped = source.read(window, bands=[1], fill=p.nodata)[0]
            labels = ref.data[0]
            mapped = np.where(
                mapped < k, mapped, 0
            )  # map nodata only where the label is nodata too
            cm += confusion_matrix(labels, mapped, k, p.nodata)
            pairs.setdefault(r.tile_id, {})[period] = (labels, mapped)
        out[period] = cm.T.tolist()  # rows = map class (strata), columns = reference
    src, dst = p.classes.index(p.from_class), p.classes.index(p.to_class)
    change = np.zeros((2, 2), dtype=np.int64)  # [map not/yes, reference not/yes]
    n_both = 0
    for tile in pairs.values():
        if len(tile) < 2:
            continue
        n_both += 1
        (ref_a, map_a), (ref_b, map_b) = tile["before"], tile["after"]
        valid = (ref_a != p.nodata) & (ref_b != p.nodata)
        ref_conv = ((ref_a == src) & (ref_b == dst))[valid].astype(int)
        map_conv = ((map_a == src) & (map_b == dst))[valid].astype(int)
        change += np.bincount(map_conv * 2 + ref_conv, minlength=4).reshape(2, 2)
    out["change"] = change.tolist()
    out["n_test_tiles"] = int(test["tile_id"].nunique())
    out["n_test_tiles_both_years"] = n_both
    return out


def estimate_areas(
    map_class_areas: pd.DataFrame,
    transition_matrix: pd.DataFrame,
    map_accuracy: dict[str, Any],
    transition: dict[str, Any],
    land_use: dict[str, Any],
) -> pd.DataFrame:
    """Error-adjusted areas with confidence intervals (Olofsson et al. 2014).

    The map classes are the strata and the test-tile pixels the sample; for the
    change the strata are mapped ``from -> to`` conversion vs everything else.
    Test pixels come in whole tiles (a cluster sample), so the intervals are
    somewhat too narrow; see docs/methods.md.

    Returns:
        ``area_estimates``: quantity, period, class, map_ha, adjusted_ha, se_ha,
        ci_low_ha, ci_high_ha, users_accuracy, producers_accuracy, n_sample.
    """
    p = transition_params(transition, land_use)
    rows = []
    for period in ("before", "after"):
        mapped = map_class_areas[map_class_areas["period"] == period].set_index("class")
        est = stratified_area_estimate(
            np.asarray(map_accuracy[period]),
            mapped.loc[p.classes, "hectares"].to_numpy(),
            p.classes,
            p.confidence,
        )
        for r in est.itertuples():
            rows.append(_estimate_row(f"{r[1]} ({period})", period, r[1], r))
    conv = transition_matrix.set_index("from_class").loc[p.from_class, f"to_{p.to_class}_ha"]
    total = transition_matrix["total_ha"].sum()
    est = stratified_area_estimate(
        np.asarray(map_accuracy["change"]),
        np.array([total - conv, conv]),
        ["other", "conversion"],
        p.confidence,
    )
    r = next(est[est["class"] == "conversion"].itertuples())
    rows.append(
        _estimate_row(
            f"{p.from_class} -> {p.to_class}", "change", f"{p.from_class}->{p.to_class}", r
        )
    )
    table = pd.DataFrame(rows)
    last = table.iloc[-1]
    logger.info(
        "%s: mapped %.1f ha, adjusted %.1f ha (%.0f%% CI %.1f-%.1f ha)",
        last["quantity"],
        last["map_ha"],
        last["adjusted_ha"],
        100 * p.confidence,
        last["ci_low_ha"],
        last["ci_high_ha"],
    )
    return table


def _estimate_row(quantity: str, period: str, cls: str, r: Any) -> dict[str, Any]:
    return {
        "quantity": quantity,
        "period": period,
        "class": cls,
        "map_ha": r.map_area,
        "adjusted_ha": r.adjusted_area,
        "se_ha": r.se,
        "ci_low_ha": r.ci_low,
        "ci_high_ha": r.ci_high,
        "users_accuracy": r.users_accuracy,
        "producers_accuracy": r.producers_accuracy,
        "n_sample": r.n_sample,
    }


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
