"""Nodes of the reference-sample kit: draw a sample to label, read it back, adjust the areas.

The science is in :mod:`cocoa_threat.analysis.reference_sample` (design, draw,
validation, estimator) and :mod:`cocoa_threat.analysis.area` (the study's
stratified estimator).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import geopandas as gpd
import numpy as np
import pandas as pd
from PIL import Image

from cocoa_threat.analysis import reference_sample as kit
from cocoa_threat.geo.grid import RasterSource, same_grid_or_raise
from cocoa_threat.geo.raster import Raster
from cocoa_threat.params import LandUse
from cocoa_threat.params.reference_sample import ReferenceSampleParams
from cocoa_threat.params.study import PeriodParams
from cocoa_threat.params.transition import TransitionParams

logger = logging.getLogger(__name__)

CSV_COLUMNS = [c for c in kit.SAMPLE_COLUMNS if c not in ("row", "col")]
USER_LABELS = "reference_labels (data/01_raw/reference_labels.csv)"
DEMO_LABELS = "the tile labels (demo_labels_from: labels)"


def _strata(
    maps: dict[str, RasterSource],
    change_map: RasterSource,
    p: ReferenceSampleParams,
    transition: TransitionParams,
    land_use: LandUse,
) -> tuple[list[kit.StratumDef], Callable[..., np.ndarray], RasterSource]:
    """The strata of the sampled year's map and the window -> stratum-code reader."""
    year_map = maps[p.period]
    same_grid_or_raise(year_map, change_map, "reference_sample: year map and change map")
    year_class = transition.to_class if p.period == "after" else transition.from_class
    change = (
        (transition.from_class, transition.to_class, year_class, lambda w: change_map.read(w)[0])
        if p.change_stratum
        else None
    )
    strata, strata_of = kit.map_strata(
        land_use.classes,
        land_use.nodata,
        lambda w: year_map.read(w, fill=land_use.nodata)[0],
        change,
    )
    return strata, strata_of, year_map


def draw_sample(
    before_map: RasterSource,
    after_map: RasterSource,
    change_map: RasterSource,
    reference_sample: ReferenceSampleParams,
    transition: TransitionParams,
    land_use: LandUse,
) -> tuple[gpd.GeoDataFrame, pd.DataFrame, pd.DataFrame]:
    """A stratified random sample of pixels of one year's map, ready to label in QGIS.

    Returns:
        ``reference_sample`` (points, map CRS), ``reference_sample_csv`` (the same
        with lon/lat, ``reference_class`` empty) and ``reference_sample_design``
        (one row per stratum: pixels, area, points, inclusion probability).
    """
    p = reference_sample
    strata, strata_of, year_map = _strata(
        {"before": before_map, "after": after_map}, change_map, p, transition, land_use
    )
    grid = year_map.grid
    points, design = kit.stratified_draw(strata, strata_of, grid, p)
    frame = gpd.GeoDataFrame(
        points.drop(columns=["n_stratum"]),
        geometry=gpd.points_from_xy(points["x"], points["y"]),
        crs=grid.crs,
    )
    return frame, points[CSV_COLUMNS], design


def make_chips(
    reference_sample: gpd.GeoDataFrame,
    before_mosaic: RasterSource,
    after_mosaic: RasterSource,
    params: ReferenceSampleParams,
) -> dict[str, Callable[[], Image.Image]]:
    """A PNG per point: the input images of both years around it, its pixel outlined.

    Returns:
        ``reference_sample_chips``: ``point_<id>`` -> a lazy image (written one at a time).
    """
    c = params.chips
    if not c.enabled:
        return {}
    readers = []
    for mosaic in (before_mosaic, after_mosaic):
        names = list(mosaic.band_names)
        missing = [b for b in c.bands if b not in names]
        if missing:
            raise ValueError(
                f"reference_sample.chips.bands {missing} are not bands of {mosaic.path} "
                f"({names}); name three of them, or set chips.enabled: false"
            )
        idx = [names.index(b) + 1 for b in c.bands]
        read = kit.block_cached(
            lambda w, m=mosaic, i=idx: m.read(w, bands=i), params.block_size, c.size_px
        )
        readers.append((read, mosaic.nodata))

    def one(row: int, col: int) -> Callable[[], Image.Image]:
        args = (row, col, c.size_px, c.zoom, c.stretch_percentiles)
        return lambda: Image.fromarray(kit.chip(readers, *args))

    return {
        f"point_{int(r.id):05d}": one(int(r.row), int(r.col)) for r in reference_sample.itertuples()
    }


def demo_labels(
    reference_sample: gpd.GeoDataFrame,
    tile_manifest: pd.DataFrame,
    model_input: dict[str, Callable[[], Raster]],
    before: PeriodParams,
    after: PeriodParams,
    params: ReferenceSampleParams,
    land_use: LandUse,
) -> pd.DataFrame:
    """The sample labelled from the ingested tile labels (``demo_labels_from: labels``).

    Returns:
        ``reference_demo_labels`` (id, reference_class; "" where no labelled tile
        covers the point); no rows when the sample is to be labelled by hand.
    """
    if params.demo_labels_from == "none":
        return pd.DataFrame({"id": pd.Series(dtype="int64"), "reference_class": ""})
    year = (before if params.period == "before" else after).year
    tiles = tile_manifest[tile_manifest["year"].astype(int) == year]
    classes = kit.labels_at_points(
        reference_sample,
        tiles,
        lambda split, sample: model_input[f"{split}/{sample}_lbl"]().data[0],
        land_use.classes,
        land_use.nodata,
    )
    logger.info(
        "Reference sample labelled from the %d tile labels: %d of %d points covered",
        year,
        int((classes != "").sum()),
        len(classes),
    )
    return pd.DataFrame({"id": reference_sample["id"].to_numpy(), "reference_class": classes})


def read_labelled(
    reference_labels: pd.DataFrame | None,
    reference_demo_labels: pd.DataFrame,
    reference_sample: gpd.GeoDataFrame,
    land_use: LandUse,
) -> pd.DataFrame:
    """The labelled sample, checked: every point once, each with a known class.

    The user's file (``reference_labels``) comes first; without it, the demo's
    labels; without either, an empty table (the areas are then map areas).

    Returns:
        ``reference_sample_labelled``: the drawn points with their reference class
        and ``labelled_by`` (the file, or the tile labels).

    Raises:
        LabelError: Listing missing, unknown or duplicated ids and unknown classes.
    """
    sample = pd.DataFrame(reference_sample.drop(columns="geometry"))
    if reference_labels is not None:
        where, labels, allow = USER_LABELS, reference_labels, False
    elif len(reference_demo_labels):
        where, labels, allow = DEMO_LABELS, reference_demo_labels, True
    else:
        logger.warning(
            "No labelled reference sample: the areas are map areas, not adjusted. Label "
            "data/08_reporting/reference_sample.csv (reference_class) and save it as "
            "data/01_raw/reference_labels.csv (catalog: reference_labels)"
        )
        return sample.iloc[:0].assign(labelled_by="")
    half = land_use.pixel_size / 2
    table = kit.validate_labels(labels, sample, land_use.classes, where, allow, half)
    return table.assign(labelled_by=where)


def adjusted_areas(
    reference_sample_labelled: pd.DataFrame,
    reference_sample_design: pd.DataFrame,
    reference_sample: ReferenceSampleParams,
    land_use: LandUse,
) -> pd.DataFrame:
    """Error-adjusted class areas of the sampled year, or the map areas said to be such.

    Returns:
        ``reference_sample_areas``: per class map_ha, adjusted_ha, se_ha, the
        interval, df, n_points and ``source`` (where the area comes from).
    """
    p, design, labelled = reference_sample, reference_sample_design, reference_sample_labelled
    if labelled.empty:
        table = kit.map_areas(design, land_use.classes, p.confidence)
    else:
        table = kit.class_areas(labelled, design, land_use.classes, p.confidence, p.min_points)
        by = labelled["labelled_by"].iloc[0]
        if "tile labels" in by:
            table["source"] = table["source"].str.replace(")", ", labelled from the tile labels)")
    for r in table.to_dict("records"):
        logger.info(
            "%s %s: map %.1f ha, adjusted %.1f ha [%.1f, %.1f] - %s",
            p.period,
            r["class"],
            r["map_ha"],
            r["adjusted_ha"],
            r["ci_low_ha"],
            r["ci_high_ha"],
            r["source"],
        )
    return table.assign(period=p.period)
