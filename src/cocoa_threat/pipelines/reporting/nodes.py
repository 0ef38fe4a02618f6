"""Nodes of the reporting pipeline: the report, section by section, and the interactive map.

Each section node gathers what one section of the report shows from the
catalog into a small typed context (:mod:`cocoa_threat.rendering.sections`);
:func:`assemble_report` renders them. The map is built from typed layers, one
node per group of layers.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from cocoa_threat.analysis.zonal import mean_by_zone
from cocoa_threat.geo.grid import RasterSource
from cocoa_threat.geo.raster import Raster
from cocoa_threat.params import LandUse
from cocoa_threat.params.economics import EconomicsParams
from cocoa_threat.params.ingestion import IngestionParams
from cocoa_threat.params.mercury import MercuryParams
from cocoa_threat.params.reporting import ReportingParams
from cocoa_threat.params.risk import RiskParams
from cocoa_threat.params.study import PeriodParams
from cocoa_threat.params.training import ModelSpec, TrainingParams
from cocoa_threat.params.transition import TransitionParams
from cocoa_threat.plots.patches import plot_sample_patches as draw_sample_patches
from cocoa_threat.rendering import sections
from cocoa_threat.rendering.map_layers import (
    class_layer,
    continuous_layer,
    true_colour_layer,
    vector_layer,
)
from cocoa_threat.rendering.report import render_report
from cocoa_threat.rendering.webmap import MapLayer, WebMap
from cocoa_threat.rendering.webmap import build_web_map as build_map

logger = logging.getLogger(__name__)

# The folder of map tiles, beside map.html (the catalog's WebMapDataset writes it).
WEB_MAP_FILES = "map_files"


def plot_sample_patches(
    model_input: dict[str, Callable[[], Raster]],
    tile_manifest: pd.DataFrame,
    band_stats: dict[str, Any],
    reporting: ReportingParams,
    land_use: LandUse,
) -> Figure:
    """True-colour images and labels of the tiles with the most mining, both years.

    Args:
        model_input: Partition loaders of the model input.
        tile_manifest: The ingestion manifest.
        band_stats: The model input's bands, in order (``bands``).
        reporting: The ``reporting`` parameters (``rgb_bands``, ``sample_patches``).
        land_use: The ``land_use`` parameters.
    """
    bands = list(band_stats["bands"])
    missing = [b for b in reporting.rgb_bands if b not in bands]
    if missing:
        raise ValueError(f"reporting.rgb_bands: {missing} are not bands of the model input {bands}")
    rgb = tuple(bands.index(b) for b in reporting.rgb_bands)
    return draw_sample_patches(model_input, tile_manifest, reporting.sample_patches, land_use, rgb)


def data_section(
    tile_manifest: pd.DataFrame,
    sample_patches_figure: bytes | None,
    ingestion: IngestionParams,
    land_use: LandUse,
) -> sections.DataSection:
    """The report's study area and data: source, labels, classes per year, splits."""
    return sections.data_section(tile_manifest, sample_patches_figure, ingestion, land_use)


def model_entry(
    metrics: dict[str, Any] | None,
    confusion_matrix_figure: bytes | None,
    model: ModelSpec,
    name: str,
) -> sections.ModelEntry:
    """One model as the report shows it (not trained: metrics None)."""
    return sections.model_entry(name, metrics, confusion_matrix_figure, model)


def model_section(
    model_comparison: pd.DataFrame,
    chosen_model_info: dict[str, Any],
    training: TrainingParams,
    *entries: sections.ModelEntry,
) -> sections.ModelSection:
    """The report's models: scores with intervals, verdicts, notes and confusion matrices."""
    return sections.model_section(model_comparison, chosen_model_info, training, list(entries))


def change_section(
    before_quicklook: bytes | None,
    after_quicklook: bytes | None,
    change_quicklook: bytes | None,
    transitions_chart: bytes | None,
    transition_matrix: pd.DataFrame,
    area_estimates: pd.DataFrame,
    transition_by_district: pd.DataFrame,
    transition: TransitionParams,
    reference_sample_areas: pd.DataFrame | None,
) -> sections.ChangeSection:
    """The report's land use and change: maps, transition matrix, areas, hotspots, and the
    reference-sample kit's class areas (None where it has not run)."""
    figures = {
        "before": before_quicklook,
        "after": after_quicklook,
        "change": change_quicklook,
        "by_district": transitions_chart,
    }
    return sections.change_section(
        figures,
        transition_matrix,
        area_estimates,
        transition_by_district,
        transition,
        reference_sample_areas,
    )


def economics_section(
    economic_summary: pd.DataFrame,
    economic_loss_by_season: pd.DataFrame,
    economic_loss_by_district: pd.DataFrame,
    economic_loss_chart: bytes | None,
    economics: EconomicsParams,
) -> sections.EconomicsSection:
    """The report's economics: summary, central case per season and per district."""
    return sections.economics_section(
        economic_summary,
        economic_loss_by_season,
        economic_loss_by_district,
        economic_loss_chart,
        economics,
    )


def mercury_section(
    mercury_map: bytes | None,
    mercury_exposure_by_district: pd.DataFrame,
    mercury_interpolation_cv: pd.DataFrame,
    mercury_distance_decay_figure: bytes | None,
    mercury_validation_report: pd.DataFrame,
) -> sections.MercurySection:
    """The report's mercury: surface, cocoa exposure, interpolation CV, survey checks."""
    return sections.mercury_section(
        mercury_map,
        mercury_exposure_by_district,
        mercury_interpolation_cv,
        mercury_distance_decay_figure,
        mercury_validation_report,
    )


def risk_section(
    risk_quicklook: bytes | None,
    risk_by_district: pd.DataFrame,
    risk_sensitivity: pd.DataFrame,
    risk_sensitivity_chart: bytes | None,
    risk: RiskParams,
) -> sections.RiskSection:
    """The report's cocoa risk: the map, classes of all cocoa, the sensitivity."""
    return sections.risk_section(
        risk_quicklook, risk_by_district, risk_sensitivity, risk_sensitivity_chart, risk
    )


def parameters_section(
    chosen_model_info: dict[str, Any],
    ingestion: IngestionParams,
    transition: TransitionParams,
    economics: EconomicsParams,
    mercury: MercuryParams,
    risk: RiskParams,
) -> sections.ParametersSection:
    """The parameters behind the results (labels, split, transition ... risk), as YAML."""
    blocks = {
        "labels": ingestion.labels,
        "split": ingestion.split,
        "transition": transition,
        "economics": economics,
        "mercury": mercury,
        "risk": risk,
    }
    return sections.parameters_section(chosen_model_info, blocks)


def assemble_report(
    data: sections.DataSection,
    models: sections.ModelSection,
    change: sections.ChangeSection,
    economics: sections.EconomicsSection,
    mercury: sections.MercurySection,
    risk: sections.RiskSection,
    parameters: sections.ParametersSection,
) -> tuple[str, str]:
    """The report (HTML, Markdown) from its sections, all from one model version."""
    sections.report_version(models.chosen, change, economics, mercury, risk)
    html, markdown = render_report(data, models, change, economics, mercury, risk, parameters)
    logger.info("Report: %.1f MB HTML", len(html) / 1e6)
    return html, markdown


def land_use_layers(
    before_map: RasterSource,
    after_map: RasterSource,
    change_map: RasterSource,
    before_input: RasterSource,
    after_input: RasterSource,
    before: PeriodParams,
    after: PeriodParams,
    land_use: LandUse,
    reporting: ReportingParams,
) -> list[MapLayer]:
    """The map's imagery of each year (true colour, under the classes, one at a time),
    the land use of each year and the change between them."""
    r, years = reporting.map, (before.year, after.year)
    size = {"max_px": r.max_px, "tile_px": r.tile_px, "opacity": r.opacity}
    classes = dict(enumerate(land_use.classes))
    changes = {
        int(k.removeprefix("code_")): v for k, v in change_map.tags.items() if k.startswith("code_")
    }
    pictures = [
        true_colour_layer(source, f"Imagery {year}", list(reporting.rgb_bands),
                          r.true_colour_percentiles, r.max_px, r.tile_px,
                          visible=year == years[1], group="imagery")
        for source, year in ((before_input, years[0]), (after_input, years[1]))
    ]  # fmt: skip
    return [
        *pictures,
        class_layer(before_map, f"Land use {years[0]}", classes, **size, visible=False),
        class_layer(after_map, f"Land use {years[1]}", classes, **size, visible=False),
        class_layer(change_map, f"Change {years[0]}-{years[1]}", changes, **size),
    ]


def risk_layer(risk_map: RasterSource, risk: RiskParams, reporting: ReportingParams) -> MapLayer:
    """The map's risk classes of cocoa."""
    r = reporting.map
    labels = dict(enumerate(risk.class_labels))
    return class_layer(risk_map, "Cocoa risk class", labels, r.max_px, r.tile_px, r.opacity)


def mercury_layers(
    mercury_surface: RasterSource, mercury_points: gpd.GeoDataFrame, reporting: ReportingParams
) -> list[MapLayer]:
    """The map's mercury surface and survey points."""
    r = reporting.map
    size = {"max_px": r.max_px, "tile_px": r.tile_px, "opacity": r.opacity}
    points = [{"GEM, ng/m3": f"{c:.1f}"} for c in mercury_points["concentration_ng_m3"]]
    legend = {"title": "Mercury survey points", "categories": [["reading", "#1f78b4"]]}
    return [
        continuous_layer(mercury_surface, "Mercury, mean", "ng/m3", r.mercury_colour_map, **size),
        vector_layer(mercury_points, "Mercury survey points", points, None, legend, visible=False),
    ]


def _district_popup(
    name: str, row: pd.Series | None, risk: float, base_season: str, confidence: float
) -> dict[str, Any]:
    popup: dict[str, Any] = {"district": name}
    lost = f"cocoa lost, ha, error-adjusted by the test-block sample ({100 * confidence:g}% CI)"
    if row is not None:
        popup[lost] = (
            f"{row['area_ha_central']:.1f} ({row['area_ha_low']:.1f}-{row['area_ha_high']:.1f})"
        )
        popup["cocoa lost, ha, map area (not adjusted)"] = f"{row['map_ha']:.1f}"
        popup[f"gross value lost, GH¢ at {base_season} prices"] = (
            f"{row['value_lost_ghs_const_central']:,.0f}"
        )
    else:
        popup[lost] = "none mapped"
    popup["mean risk score of cocoa (0-1)"] = "n/a" if not np.isfinite(risk) else f"{risk:.2f}"
    return popup


def district_layer(
    districts: gpd.GeoDataFrame,
    economic_loss_by_district: pd.DataFrame,
    risk_score: RasterSource,
    risk: RiskParams,
    economics: EconomicsParams,
) -> MapLayer:
    """The map's districts, each with a pop-up: cocoa lost (the regional estimate and
    interval shared by its mapped conversion), its gross value and the mean risk score."""
    losses = economic_loss_by_district
    by_name = losses.set_index("district") if len(losses) else pd.DataFrame()
    mean_risk = mean_by_zone(risk_score, districts, risk.block_size)
    popups = [
        _district_popup(
            name,
            by_name.loc[name] if name in by_name.index else None,
            mean_risk[i + 1],
            economics.price_base_season,
            economics.confidence,
        )
        for i, name in enumerate(districts["district"])
    ]
    legend = {"title": "Districts (click for figures)", "categories": []}
    return vector_layer(districts, "Districts", popups, None, legend)


def build_web_map(
    land_use_layers: list[MapLayer],
    risk_layer: MapLayer,
    mercury_layers: list[MapLayer],
    district_layer: MapLayer,
    before: PeriodParams,
    after: PeriodParams,
) -> WebMap:
    """The interactive map from its layers: one page that opens offline.

    Returns:
        ``web_map`` (tiles beside the page for large scenes).
    """
    layers = [*land_use_layers, risk_layer, *mercury_layers, district_layer]
    title = f"cocoa-threat: cocoa and mining {before.year}-{after.year}"
    page = build_map(title, layers, WEB_MAP_FILES)
    logger.info("Map: %d layers, %d tile file(s)", len(layers), len(page.files))
    return page
