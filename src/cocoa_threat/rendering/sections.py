"""The sections of the report: one small typed context each, built from catalog data.

Each reporting node builds one section from the tables, figures and parameters
it needs (no node sees the whole catalog); :func:`cocoa_threat.rendering.report.render_report`
turns the sections into the page. Every section that shows results of the maps
records the model version they came from, so the report refuses to mix models.
"""

from __future__ import annotations

import datetime as dt
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

import cocoa_threat
from cocoa_threat.analysis.zonal import ALL_DISTRICTS
from cocoa_threat.params import LandUse
from cocoa_threat.params.economics import EconomicsParams
from cocoa_threat.params.ingestion import IngestionParams
from cocoa_threat.params.risk import RiskParams
from cocoa_threat.params.training import ModelSpec, TrainingParams
from cocoa_threat.params.transition import TransitionParams
from cocoa_threat.provenance import one_version, table_version
from cocoa_threat.rendering.tables import area_frame, comparison_frame, reference_area_frame

# How the report names where the cocoa labels came from (ingestion.labels.cocoa.source).
COCOA_SOURCES = {
    "raster": "a cocoa-probability layer",
    "mask_band": "the masks' cocoa-probability band",
    "none": "nowhere (a two-class study)",
}


@dataclass(frozen=True)
class DataSection:
    """Study area and data: where the tiles and labels come from, classes, splits."""

    synthetic: bool
    source: str
    years: list[int]
    mask_format: str
    has_cocoa: bool
    cocoa_source_text: str
    cocoa_threshold: float
    mining_class: str
    block_size: int
    class_summary: pd.DataFrame
    splits: pd.DataFrame
    sample_patches: bytes | None


@dataclass(frozen=True)
class ModelEntry:
    """One model of ``training.models`` as the report shows it (None where not trained)."""

    name: str
    trained: bool
    confusion_figure: bytes | None
    note: str | None


@dataclass(frozen=True)
class ModelSection:
    """The models: test scores with intervals, the verdicts, the chosen model."""

    chosen: dict[str, Any]
    comparison: pd.DataFrame
    verdicts: list[tuple[str, str]]
    n_test_blocks: int
    confidence: float
    notes: list[str]
    confusion_figures: list[tuple[str, bytes | None]]


@dataclass(frozen=True)
class ChangeSection:
    """Land use and change: maps, the transition matrix, areas, hotspots."""

    figures: dict[str, bytes | None]
    transition_matrix: pd.DataFrame
    areas: pd.DataFrame
    confidence: float
    conversion: str
    hotspots: pd.DataFrame
    versions: dict[str, str | None] = field(default_factory=dict)
    reference_areas: pd.DataFrame | None = None


@dataclass(frozen=True)
class EconomicsSection:
    """The gross value lost: summary, per season, per district, chart."""

    summary: pd.DataFrame
    by_season: pd.DataFrame
    by_district: pd.DataFrame
    chart: bytes | None
    price_base_season: str
    confidence: float
    versions: dict[str, str | None] = field(default_factory=dict)


@dataclass(frozen=True)
class MercurySection:
    """Atmospheric mercury: surface, exposure of cocoa, interpolation CV, survey checks."""

    map: bytes | None
    exposure: pd.DataFrame
    cv: pd.DataFrame
    decay: bytes | None
    validation: pd.DataFrame
    versions: dict[str, str | None] = field(default_factory=dict)


@dataclass(frozen=True)
class RiskSection:
    """Cocoa risk: the map, classes per district, sensitivity."""

    quicklook: bytes | None
    table: pd.DataFrame
    sensitivity: pd.DataFrame
    sensitivity_chart: bytes | None
    sensitivity_change: float
    versions: dict[str, str | None] = field(default_factory=dict)


@dataclass(frozen=True)
class ParametersSection:
    """The parameters that produced the results, and when and with what code."""

    yaml: str
    run_time: str
    code_version: str
    package_version: str


def _class_summary(manifest: pd.DataFrame, land_use: LandUse) -> pd.DataFrame:
    columns = {c: (f"fraction_{c}", "mean") for c in land_use.classes}
    return (
        manifest.groupby("year")
        .agg(tiles=("tile_id", "nunique"), **columns, nodata=("nodata_fraction", "mean"))
        .reset_index()
    )


def data_section(
    manifest: pd.DataFrame,
    sample_patches: bytes | None,
    ingestion: IngestionParams,
    land_use: LandUse,
) -> DataSection:
    """The data section from the ingestion manifest (how the model input was built)."""
    built = manifest.iloc[0]
    return DataSection(
        synthetic=ingestion.source == "synthetic",
        source=ingestion.source,
        years=[int(y) for y in sorted(manifest["year"].unique())],
        mask_format=str(built["mask_format"]),
        has_cocoa=land_use.cocoa_class is not None,
        cocoa_source_text=COCOA_SOURCES[built["cocoa_source"]],
        cocoa_threshold=float(built["cocoa_threshold"]),
        mining_class=land_use.mining_class,
        block_size=ingestion.split.block_size,
        class_summary=_class_summary(manifest, land_use),
        splits=manifest.drop_duplicates("tile_id")["split"]
        .value_counts()
        .rename_axis("split")
        .reset_index(name="tiles"),
        sample_patches=sample_patches,
    )


def model_entry(
    name: str, metrics: dict[str, Any] | None, figure: bytes | None, model: ModelSpec
) -> ModelEntry:
    """A model as the report shows it, with a note where its weights were random."""
    spec = model.root
    note = None
    if getattr(spec, "kind", None) == "terratorch" and spec.weights.source == "none":
        note = (
            f"{name} here is {spec.model_args.get('backbone')} with RANDOM initial weights "
            f"({name}.model.weights.source: none), not a pretrained foundation model."
        )
    trained = metrics is not None
    return ModelEntry(name, trained, figure if trained else None, note if trained else None)


def model_section(
    comparison: pd.DataFrame,
    chosen: dict[str, Any],
    training: TrainingParams,
    entries: list[ModelEntry],
) -> ModelSection:
    """The models section from the comparison and each model's entry."""
    overall = comparison[comparison["year"].astype(str) == "all"]
    trained = [e for e in entries if e.trained]
    return ModelSection(
        chosen=dict(chosen),
        comparison=comparison_frame(comparison),
        verdicts=[(r.model, r.comparison) for r in overall.itertuples()],
        n_test_blocks=int(comparison["n_test_blocks"].iloc[0]),
        confidence=training.test_intervals.confidence,
        notes=[e.note for e in trained if e.note],
        confusion_figures=[(e.name, e.confusion_figure) for e in trained],
    )


def change_section(
    figures: dict[str, bytes | None],
    transition_matrix: pd.DataFrame,
    area_estimates: pd.DataFrame,
    transition_by_district: pd.DataFrame,
    transition: TransitionParams,
    reference_sample_areas: pd.DataFrame | None = None,
) -> ChangeSection:
    """The change section: matrix, areas with intervals, the conversion's hotspots, and the
    class areas of the reference-sample kit (None: the kit has not run)."""
    by_district = transition_by_district
    hot = by_district[
        (by_district["from_class"] == transition.from_class)
        & (by_district["to_class"] == transition.to_class)
    ].sort_values("hectares", ascending=False)
    tables = {
        "transition_matrix": transition_matrix,
        "area_estimates": area_estimates,
        "transition_by_district": transition_by_district,
    }
    return ChangeSection(
        figures=figures,
        transition_matrix=transition_matrix,
        areas=area_frame(area_estimates),
        confidence=transition.confidence,
        conversion=f"{transition.from_class} -> {transition.to_class}",
        hotspots=hot[["district", "hectares", "percent_of_district"]],
        versions={k: table_version(v, k) for k, v in tables.items()},
        reference_areas=(
            None if reference_sample_areas is None else reference_area_frame(reference_sample_areas)
        ),
    )


SEASON_COLUMNS = [
    "season",
    "converted_share",
    "price_ghs_per_t",
    "deflator",
    "area_lost_ha_central",
    "beans_lost_t_central",
    "value_lost_ghs_central",
    "value_lost_ghs_const_central",
    "value_lost_usd_central",
]


def economics_section(
    summary: pd.DataFrame,
    by_season: pd.DataFrame,
    by_district: pd.DataFrame,
    chart: bytes | None,
    economics: EconomicsParams,
) -> EconomicsSection:
    """The economics section: the summary, the central case per season and district."""
    tables = {
        "economic_summary": summary,
        "economic_loss_by_season": by_season,
        "economic_loss_by_district": by_district,
    }
    return EconomicsSection(
        summary=summary,
        by_season=by_season[SEASON_COLUMNS],
        by_district=by_district.filter(regex="district|map_ha|_central$"),
        chart=chart,
        price_base_season=economics.price_base_season,
        confidence=economics.confidence,
        versions={k: table_version(v, k) for k, v in tables.items()},
    )


def mercury_section(
    surface_map: bytes | None,
    exposure: pd.DataFrame,
    cv: pd.DataFrame,
    decay: bytes | None,
    validation: pd.DataFrame,
) -> MercurySection:
    """The mercury section: exposure of all districts' cocoa, the CV, the survey checks."""
    return MercurySection(
        map=surface_map,
        exposure=exposure[exposure["district"] == ALL_DISTRICTS],
        cv=cv,
        decay=decay,
        validation=validation,
        versions={"mercury_exposure_by_district": table_version(exposure, "mercury exposure")},
    )


def risk_section(
    quicklook: bytes | None,
    by_district: pd.DataFrame,
    sensitivity: pd.DataFrame,
    sensitivity_chart: bytes | None,
    risk: RiskParams,
) -> RiskSection:
    """The risk section: classes of all districts' cocoa and the sensitivity (hectares)."""
    shown = sensitivity.filter(regex="^group$|scenario|_ha$")
    return RiskSection(
        quicklook=quicklook,
        table=by_district[by_district["district"] == ALL_DISTRICTS],
        sensitivity=shown.loc[:, ~shown.columns.str.contains("change")],
        sensitivity_chart=sensitivity_chart,
        sensitivity_change=risk.sensitivity_change,
        versions={
            "risk_by_district": table_version(by_district, "risk_by_district"),
            "risk_sensitivity": table_version(sensitivity, "risk_sensitivity"),
        },
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


def parameters_section(chosen: dict[str, Any], blocks: dict[str, Any]) -> ParametersSection:
    """The chosen model and the parameter blocks behind the results, as YAML."""
    shown: dict[str, Any] = {"model": chosen}
    for key, block in blocks.items():
        shown[key] = block.model_dump(mode="json") if hasattr(block, "model_dump") else block
    return ParametersSection(
        yaml=yaml.safe_dump(shown, sort_keys=False, allow_unicode=True),
        run_time=f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M}",
        code_version=_git_version(),
        package_version=cocoa_threat.__version__,
    )


def report_version(chosen: dict[str, Any], *sections: Any) -> str | None:
    """The one model version behind every result of the report.

    Raises:
        ValueError: Naming the inputs whose versions disagree.
    """
    versions = {"chosen_model_info": chosen.get("version")}
    for section in sections:
        versions |= getattr(section, "versions", {})
    return one_version(versions, "The report")
