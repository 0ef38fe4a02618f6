"""Nodes of the reporting pipeline: one self-contained HTML report and its Markdown twin.

The report's prose is the Jinja2 template of :mod:`cocoa_threat.rendering.report`;
these nodes gather what it shows from the catalog, for every model that exists.
"""

from __future__ import annotations

import datetime as dt
import logging
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import yaml
from matplotlib.figure import Figure

import cocoa_threat
from cocoa_threat.analysis.zonal import ALL_DISTRICTS, mean_by_zone
from cocoa_threat.geo.grid import RasterSource
from cocoa_threat.geo.raster import Raster
from cocoa_threat.params import LandUse, land_use_params
from cocoa_threat.pipelines.reporting.params import reporting_params
from cocoa_threat.plots.patches import plot_sample_patches as draw_sample_patches
from cocoa_threat.provenance import one_version, table_version
from cocoa_threat.rendering.map_layers import class_layer, continuous_layer, vector_layer
from cocoa_threat.rendering.report import render_report
from cocoa_threat.rendering.tables import area_frame, comparison_frame
from cocoa_threat.rendering.webmap import WebMap
from cocoa_threat.rendering.webmap import build_web_map as build_map

logger = logging.getLogger(__name__)

# The folder of map tiles, beside map.html (the catalog's WebMapDataset writes it).
WEB_MAP_FILES = "map_files"

# How the report names where the cocoa labels came from (ingestion.labels.cocoa.source).
COCOA_SOURCES = {
    "raster": "a cocoa-probability layer",
    "mask_band": "the masks' cocoa-probability band",
    "none": "nowhere (a two-class study)",
}


def plot_sample_patches(
    model_input: dict[str, Callable[[], Raster]],
    tile_manifest: pd.DataFrame,
    band_stats: dict[str, Any],
    reporting: dict[str, Any],
    land_use: dict[str, Any],
) -> Figure:
    """True-colour images and labels of the tiles with the most mining, both years.

    Args:
        model_input: Partition loaders of the model input.
        tile_manifest: The ingestion manifest.
        band_stats: The model input's bands, in order (``bands``).
        reporting: The ``reporting`` parameters (``rgb_bands``, ``sample_patches``).
        land_use: The ``land_use`` parameters.
    """
    r, bands = reporting_params(reporting), list(band_stats["bands"])
    missing = [b for b in r.rgb_bands if b not in bands]
    if missing:
        raise ValueError(f"reporting.rgb_bands: {missing} are not bands of the model input {bands}")
    rgb = tuple(bands.index(b) for b in r.rgb_bands)
    return draw_sample_patches(
        model_input, tile_manifest, r.sample_patches, land_use_params(land_use), rgb
    )


def _git_version() -> str:
    try:
        out = subprocess.run(
            ["git", "describe", "--always", "--dirty"],
            capture_output=True,
            text=True,
            check=True,
            timeout=10,
            cwd=Path(cocoa_threat.__file__).resolve().parent,
        )
        return out.stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def _class_summary(manifest: pd.DataFrame, lu: LandUse) -> pd.DataFrame:
    columns = {c: (f"fraction_{c}", "mean") for c in lu.classes}
    return (
        manifest.groupby("year")
        .agg(tiles=("tile_id", "nunique"), **columns, nodata=("nodata_fraction", "mean"))
        .reset_index()
    )


def _model_notes(parameters: dict[str, Any], models: list[str]) -> list[str]:
    notes = []
    for name in models:
        spec = parameters.get(f"{name}.model") or {}
        if spec.get("kind") == "terratorch" and spec.get("weights", {}).get("source") == "none":
            backbone = spec.get("model_args", {}).get("backbone")
            notes.append(
                f"{name} here is {backbone} with RANDOM initial weights "
                f"({name}.model.weights.source: none), not a pretrained foundation model."
            )
    return notes


def _data_section(inputs: dict[str, Any], parameters: dict[str, Any]) -> dict[str, Any]:
    lu = land_use_params(parameters["land_use"])
    ingestion = parameters["ingestion"]  # validated by the parameter hook
    manifest: pd.DataFrame = inputs["tile_manifest"]
    built = manifest.iloc[0]  # how the model input was built (recorded by ingestion)
    return {
        "synthetic": ingestion["source"] == "synthetic",
        "source": ingestion["source"],
        "years": [int(y) for y in sorted(manifest["year"].unique())],
        "mask_format": built["mask_format"],
        "has_cocoa": lu.cocoa_class is not None,
        "cocoa_source_text": COCOA_SOURCES[built["cocoa_source"]],
        "cocoa_threshold": float(built["cocoa_threshold"]),
        "land_use": lu,
        "block_size": ingestion["split"]["block_size"],
        "class_summary": _class_summary(manifest, lu),
        "splits": manifest.drop_duplicates("tile_id")["split"]
        .value_counts()
        .rename_axis("split")
        .reset_index(name="tiles"),
        "sample_patches": inputs["sample_patches_figure"],
    }


def _model_section(inputs: dict[str, Any], parameters: dict[str, Any]) -> dict[str, Any]:
    comparison: pd.DataFrame = inputs["model_comparison"]
    models = [m for m in parameters["training"]["models"] if inputs.get(f"{m}.metrics")]
    overall = comparison[comparison["year"].astype(str) == "all"]
    return {
        "chosen": inputs["chosen_model_info"],
        "comparison": comparison_frame(comparison),
        "verdicts": [(r.model, r.comparison) for r in overall.itertuples()],
        "n_test_blocks": int(comparison["n_test_blocks"].iloc[0]),
        "bootstrap_confidence": parameters["training"]["bootstrap"]["confidence"],
        "random_init_notes": _model_notes(parameters, models),
        "confusion_figures": [(m, inputs[f"{m}.confusion_matrix_figure"]) for m in models],
    }


def _change_section(inputs: dict[str, Any], parameters: dict[str, Any]) -> dict[str, Any]:
    t = parameters["transition"]
    by_district: pd.DataFrame = inputs["transition_by_district"]
    hot = by_district[
        (by_district["from_class"] == t["from_class"]) & (by_district["to_class"] == t["to_class"])
    ].sort_values("hectares", ascending=False)
    return {
        "before_quicklook": inputs["before.land_use_quicklook"],
        "after_quicklook": inputs["after.land_use_quicklook"],
        "change_quicklook": inputs["change_quicklook"],
        "transition_matrix": inputs["transition_matrix"],
        "areas": area_frame(inputs["area_estimates"]),
        "area_confidence": t["confidence"],
        "conversion": f"{t['from_class']} -> {t['to_class']}",
        "hotspots": hot[["district", "hectares", "percent_of_district"]],
        "transitions_chart": inputs["transitions_chart"],
    }


def _impact_section(inputs: dict[str, Any], parameters: dict[str, Any]) -> dict[str, Any]:
    season_cols = ["season", "converted_share", "price_ghs_per_t", "deflator"]
    season_cols += ["area_lost_ha_central", "beans_lost_t_central", "value_lost_ghs_central"]
    season_cols += ["value_lost_ghs_const_central", "value_lost_usd_central"]
    exposure: pd.DataFrame = inputs["mercury_exposure_by_district"]
    risk_table: pd.DataFrame = inputs["risk_by_district"]
    sensitivity: pd.DataFrame = inputs["risk_sensitivity"].filter(regex="^group$|scenario|_ha$")
    return {
        "economic_summary": inputs["economic_summary"],
        "price_base_season": parameters["economics"]["price_base_season"],
        "economic_chart": inputs["economic_loss_chart"],
        "economic_by_season": inputs["economic_loss_by_season"][season_cols],
        "economic_by_district": inputs["economic_loss_by_district"].filter(
            regex="district|map_ha|_central$"
        ),
        "mercury_map": inputs["mercury_map"],
        "mercury_exposure": exposure[exposure["district"] == ALL_DISTRICTS],
        "mercury_cv": inputs["mercury_interpolation_cv"],
        "mercury_decay": inputs["mercury_distance_decay_figure"],
        "mercury_validation": inputs["mercury_validation_report"],
        "risk_quicklook": inputs["risk_quicklook"],
        "risk_table": risk_table[risk_table["district"] == ALL_DISTRICTS],
        "risk_sensitivity": sensitivity.loc[:, ~sensitivity.columns.str.contains("change")],
        "sensitivity_change": parameters["risk"]["sensitivity_change"],
        "risk_sensitivity_chart": inputs["risk_sensitivity_chart"],
    }


def _parameters_yaml(inputs: dict[str, Any], parameters: dict[str, Any]) -> str:
    shown = {"model": inputs["chosen_model_info"]}
    shown |= {k: parameters["ingestion"][k] for k in ("labels", "split")}
    shown |= {k: parameters[k] for k in ("transition", "economics", "mercury", "risk")}
    return yaml.safe_dump(shown, sort_keys=False, allow_unicode=True)


# The results that must all come from the model that made the maps.
VERSIONED_TABLES = (
    "transition_matrix",
    "transition_by_district",
    "area_estimates",
    "economic_summary",
    "economic_loss_by_season",
    "economic_loss_by_district",
    "mercury_exposure_by_district",
    "risk_by_district",
    "risk_sensitivity",
)


def report_version(inputs: dict[str, Any]) -> str | None:
    """The one model version behind every result of the report.

    Raises:
        ValueError: Naming the inputs whose versions disagree.
    """
    versions = {"chosen_model_info": (inputs.get("chosen_model_info") or {}).get("version")}
    versions |= {name: table_version(inputs.get(name), name) for name in VERSIONED_TABLES}
    return one_version(versions, "The report")


def report_context(inputs: dict[str, Any], parameters: dict[str, Any]) -> dict[str, Any]:
    """Everything the report template refers to, from catalog datasets and parameters."""
    return {
        "model_version": report_version(inputs),
        "run_time": f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M}",
        "code_version": _git_version(),
        "package_version": cocoa_threat.__version__,
        **_data_section(inputs, parameters),
        **_model_section(inputs, parameters),
        **_change_section(inputs, parameters),
        **_impact_section(inputs, parameters),
        "parameters_yaml": _parameters_yaml(inputs, parameters),
    }


def kwarg_name(dataset: str) -> str:
    """A Python argument name for a dataset name (``params:x`` -> ``p_x``, dots -> ``__``)."""
    return dataset.replace("params:", "p_").replace(".", "__")


def assemble_report(**datasets: Any) -> tuple[str, str]:
    """The report (HTML, Markdown) from catalog datasets and parameters, by argument name."""
    inputs = {k.replace("__", "."): v for k, v in datasets.items() if not k.startswith("p_")}
    params = {k[2:].replace("__", "."): v for k, v in datasets.items() if k.startswith("p_")}
    html, markdown = render_report(report_context(inputs, params))
    logger.info("Report: %.1f MB HTML", len(html) / 1e6)
    return html, markdown


def _district_popups(
    districts: gpd.GeoDataFrame,
    losses: pd.DataFrame,
    mean_risk: np.ndarray,
    base_season: str,
) -> list[dict[str, Any]]:
    by_name = losses.set_index("district") if len(losses) else pd.DataFrame()
    popups = []
    for i, name in enumerate(districts["district"]):
        row = by_name.loc[name] if name in by_name.index else None
        popup: dict[str, Any] = {"district": name}
        if row is not None:
            popup["cocoa lost, ha (95% CI)"] = (
                f"{row['area_ha_central']:.1f} ({row['area_ha_low']:.1f}-{row['area_ha_high']:.1f})"
            )
            popup["cocoa lost, ha mapped"] = f"{row['map_ha']:.1f}"
            popup[f"gross value lost, GH¢ at {base_season} prices"] = (
                f"{row['value_lost_ghs_const_central']:,.0f}"
            )
        else:
            popup["cocoa lost, ha (95% CI)"] = "none mapped"
        risk = mean_risk[i + 1]
        popup["mean risk score of cocoa (0-1)"] = "n/a" if not np.isfinite(risk) else f"{risk:.2f}"
        popups.append(popup)
    return popups


def build_web_map(
    before_map: RasterSource,
    after_map: RasterSource,
    change_map: RasterSource,
    risk_map: RasterSource,
    risk_score: RasterSource,
    mercury_surface: RasterSource,
    mercury_points: gpd.GeoDataFrame,
    districts: gpd.GeoDataFrame,
    economic_loss_by_district: pd.DataFrame,
    reporting: dict[str, Any],
    land_use: dict[str, Any],
    risk: dict[str, Any],
    economics: dict[str, Any],
    before: dict[str, Any],
    after: dict[str, Any],
) -> WebMap:
    """The interactive map: land use of each year, change, risk, mercury, survey, districts.

    District pop-ups give the cocoa lost (the regional estimate and interval shared
    by the district's mapped conversion), its gross value and the mean risk score.

    Returns:
        ``web_map``: one page that opens offline (tiles beside it for large scenes).
    """
    r, lu = reporting_params(reporting).map, land_use_params(land_use)
    years = (before["year"], after["year"])
    size = {"max_px": r.max_px, "tile_px": r.tile_px, "opacity": r.opacity}
    classes = dict(enumerate(lu.classes))
    changes = {
        int(k.removeprefix("code_")): v for k, v in change_map.tags.items() if k.startswith("code_")
    }
    base_season = economics["price_base_season"]
    mean_risk = mean_by_zone(risk_score, districts, int(risk["block_size"]))
    popups = _district_popups(districts, economic_loss_by_district, mean_risk, base_season)
    points = [{"GEM, ng/m3": f"{c:.1f}"} for c in mercury_points["concentration_ng_m3"]]
    layers = [
        class_layer(before_map, f"Land use {years[0]}", classes, **size, visible=False),
        class_layer(after_map, f"Land use {years[1]}", classes, **size, visible=False),
        class_layer(change_map, f"Change {years[0]}-{years[1]}", changes, **size),
        class_layer(risk_map, "Cocoa risk class", dict(enumerate(risk["class_labels"])), **size),
        continuous_layer(mercury_surface, "Mercury, mean", "ng/m3", r.mercury_colour_map, **size),
        vector_layer(
            mercury_points,
            "Mercury survey points",
            points,
            None,
            {"title": "Mercury survey points", "categories": [["reading", "#1f78b4"]]},
            visible=False,
        ),
        vector_layer(
            districts,
            "Districts",
            popups,
            None,
            {"title": "Districts (click for figures)", "categories": []},
        ),
    ]
    page = build_map(f"cocoa-threat: cocoa and mining {years[0]}-{years[1]}", layers, WEB_MAP_FILES)
    logger.info("Map: %d layers, %d tile file(s)", len(layers), len(page.files))
    return page
