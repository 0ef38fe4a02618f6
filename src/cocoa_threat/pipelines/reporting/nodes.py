"""Nodes of the reporting pipeline: one self-contained HTML report and its Markdown twin."""

from __future__ import annotations

import base64
import datetime as dt
import html
import logging
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import yaml
from matplotlib.colors import ListedColormap, to_rgba
from matplotlib.figure import Figure

import cocoa_threat
from cocoa_threat.geo.raster import Raster
from cocoa_threat.params import land_use_params
from cocoa_threat.reporting.tables import (
    area_frame,
    comparison_frame,
    html_table,
    markdown_table,
)

logger = logging.getLogger(__name__)


def plot_sample_patches(
    model_input: dict[str, Callable[[], Raster]],
    tile_manifest: pd.DataFrame,
    reporting: dict[str, Any],
    land_use: dict[str, Any],
) -> Figure:
    """True-colour images and labels of the tiles with the most mining, both years."""
    lu = land_use_params(land_use)
    classes, colours = lu.classes, lu.colours
    n = int(reporting.get("sample_patches", 3))
    by_mining = (
        tile_manifest.groupby("tile_id")["fraction_mining"].max().sort_values(ascending=False)
    )
    tiles = by_mining.index[:n].tolist()
    years = sorted(tile_manifest["year"].unique())
    fig, axes = plt.subplots(
        len(tiles), 2 * len(years), figsize=(3 * 2 * len(years), 3 * len(tiles)), squeeze=False
    )
    cmap = ListedColormap([to_rgba(colours[c]) for c in classes])
    for i, tile in enumerate(tiles):
        for j, year in enumerate(years):
            row = tile_manifest[
                (tile_manifest["tile_id"] == tile) & (tile_manifest["year"] == year)
            ].iloc[0]
            key = f"{row['split']}/{row['sample']}"
            img = model_input[f"{key}_img"]().data[[2, 1, 0]].astype(float)
            img[img < 0] = np.nan
            lo, hi = np.nanpercentile(img, [2, 98])
            rgb = np.clip((np.moveaxis(img, 0, -1) - lo) / max(hi - lo, 1), 0, 1)
            lbl = np.ma.masked_equal(model_input[f"{key}_lbl"]().data[0], lu.nodata)
            axes[i, 2 * j].imshow(np.nan_to_num(rgb), interpolation="nearest")
            axes[i, 2 * j].set_title(f"tile {tile}, {year}", fontsize=9)
            axes[i, 2 * j + 1].imshow(
                lbl, cmap=cmap, vmin=-0.5, vmax=len(classes) - 0.5, interpolation="nearest"
            )
            axes[i, 2 * j + 1].set_title(f"labels {year} ({row['split']})", fontsize=9)
    for ax in axes.ravel():
        ax.set_axis_off()
    handles = [matplotlib.patches.Patch(color=colours[c], label=c) for c in classes]
    fig.legend(handles=handles, loc="lower center", ncol=len(classes), frameon=False)
    fig.tight_layout(rect=(0, 0.04, 1, 1))
    return fig


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


@dataclass
class _Doc:
    """A report made of sections, rendered to HTML and Markdown alike."""

    md: list[str] = field(default_factory=list)
    html: list[str] = field(default_factory=list)

    def heading(self, text: str, level: int = 2) -> None:
        self.md.append(f"{'#' * level} {text}\n")
        self.html.append(f"<h{level}>{html.escape(text)}</h{level}>")

    def text(self, text: str) -> None:
        self.md.append(text + "\n")
        self.html.append(f"<p>{html.escape(text)}</p>")

    def table(self, table: pd.DataFrame, digits: int = 2) -> None:
        self.md.append(markdown_table(table, digits))
        self.html.append(html_table(table, digits))

    def figure(self, png: bytes, caption: str) -> None:
        data = base64.b64encode(png).decode()
        self.md.append(f"![{caption}](data:image/png;base64,{data})\n\n*{caption}*\n")
        self.html.append(
            f'<figure><img src="data:image/png;base64,{data}" alt="{html.escape(caption)}">'
            f"<figcaption>{html.escape(caption)}</figcaption></figure>"
        )

    def code(self, text: str) -> None:
        self.md.append(f"```yaml\n{text}```\n")
        self.html.append(f"<pre>{html.escape(text)}</pre>")


CSS = """
body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}
table{border-collapse:collapse;margin:1em 0;font-size:0.85em}
td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}
th{background:#f0f0f0}
td:first-child,th:first-child{text-align:left}
figure{margin:1em 0}img{max-width:100%}figcaption{font-size:0.85em;color:#555}
pre{background:#f6f6f6;padding:1em;overflow-x:auto;font-size:0.8em}
.note{background:#fff4d6;padding:0.6em 1em;border-left:4px solid #e0a800}
"""


def build_report(inputs: dict[str, Any], parameters: dict[str, Any]) -> tuple[str, str]:
    """Assemble the report from catalog tables and figures.

    Args:
        inputs: Catalog datasets by name (tables as DataFrames, figures as PNG bytes).
        parameters: The parameter blocks that produced them.

    Returns:
        ``(html, markdown)``.
    """
    d = _Doc()
    manifest: pd.DataFrame = inputs["tile_manifest"]
    d.heading("cocoa-threat: mining and cocoa in south-west Ghana", 1)
    d.text(
        f"Run of {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC, code version {_git_version()} "
        f"(cocoa_threat {cocoa_threat.__version__})."
    )
    source = parameters["ingestion"]["source"]
    if source == "synthetic":
        d.text(
            "NOTE: this run uses the embedded SYNTHETIC demo region. Every figure below shows "
            "that the pipelines work; none describes real mining or cocoa in Ghana."
        )
    d.heading("Study area and data")
    years = [int(y) for y in sorted(manifest["year"].unique())]
    summary = (
        manifest.groupby("year")
        .agg(
            tiles=("tile_id", "nunique"),
            background=("fraction_background", "mean"),
            mining=("fraction_mining", "mean"),
            cocoa=("fraction_cocoa", "mean"),
            nodata=("nodata_fraction", "mean"),
        )
        .reset_index()
    )
    d.text(
        f"Source: {source}; years {years}; class fractions are mean shares of labelled pixels per tile."
    )
    d.table(summary, 3)
    splits = (
        manifest.drop_duplicates("tile_id")["split"]
        .value_counts()
        .rename_axis("split")
        .reset_index(name="tiles")
    )
    d.table(splits)
    d.figure(
        inputs["sample_patches_figure"],
        "Sample patches: true colour and labels (tiles with most mining)",
    )

    d.heading("Models")
    info = inputs["chosen_model_info"]
    d.text(
        "Test-split scores (tiles never used for training or model selection). "
        f"Maps below use '{info['model']}' ({info['reason']})."
    )
    comparison: pd.DataFrame = inputs["model_comparison"]
    d.table(comparison_frame(comparison), 3)
    d.text(
        "Intervals: 95%, from resampling whole spatial blocks of test tiles; the spread over "
        "training seeds is beside them. Where two models' intervals overlap the test tiles "
        "can't tell them apart, so no ranking is claimed:"
    )
    for r in comparison[comparison["year"].astype(str) == "all"].itertuples():
        d.text(f"{r.model}: {r.comparison}.")
    prithvi = parameters["prithvi.model"]
    if prithvi["weights"]["source"] == "none":
        d.text(
            f"prithvi here is {prithvi['model_args']['backbone']} with RANDOM weights "
            f"(prithvi.model.weights.source: none), not a pretrained foundation model; "
            f"--env=smallminesds uses the pretrained Prithvi-EO-2.0 300M."
        )
    for name in ("prithvi", "resnet50", "random_forest"):
        d.figure(inputs[f"{name}.confusion_matrix_figure"], f"{name}: test confusion matrices")

    d.heading("Land use and change")
    d.figure(inputs["before.land_use_quicklook"], "Land use, first image date")
    d.figure(inputs["after.land_use_quicklook"], "Land use, second image date")
    d.figure(inputs["change_quicklook"], "Change between the two dates")
    d.text("Transition matrix (hectares and percent of the first date's class):")
    d.table(inputs["transition_matrix"], 1)
    areas: pd.DataFrame = inputs["area_estimates"]
    d.text(
        "Areas adjusted with the test sample, beside the mapped areas and the census of the "
        "labels. The reference is the labels, which are themselves model products (a "
        "semi-automatic mining mask and a static cocoa-probability map), so 'adjusted' means "
        "adjusted towards those labels, not towards field truth. The test tiles come as whole "
        "spatial blocks, so the block is the sampling unit: a difference estimator with a "
        "between-block variance over the tiles the model never fitted. The whole region adds "
        "the training tiles at their labelled area (the map there was fitted to them). "
        "95% intervals; none where the sample can't support one."
    )
    d.table(area_frame(areas), 1)
    tbd: pd.DataFrame = inputs["transition_by_district"]
    src, dst = parameters["transition"]["from_class"], parameters["transition"]["to_class"]
    hot = tbd[(tbd["from_class"] == src) & (tbd["to_class"] == dst)].sort_values(
        "hectares", ascending=False
    )
    d.text(f"{src} -> {dst} hotspots by district (mapped hectares):")
    d.table(hot[["district", "hectares", "percent_of_district"]], 2)
    d.figure(inputs["transitions_chart"], "Changes by district")

    d.heading("Economics")
    d.table(inputs["economic_summary"], 0)
    d.figure(inputs["economic_loss_chart"], "Cocoa income lost per season and cumulative")
    by_season: pd.DataFrame = inputs["economic_loss_by_season"]
    cols = [
        "season",
        "converted_share",
        "price_ghs_per_t",
        "area_lost_ha_central",
        "beans_lost_t_central",
        "value_lost_usd_central",
        "cumulative_usd_central",
    ]
    d.table(by_season[cols], 2)
    d.table(inputs["economic_loss_by_district"].filter(regex="district|map_ha|_central$"), 0)

    d.heading("Atmospheric mercury")
    d.figure(inputs["mercury_map"], "Gaseous elemental mercury (interpolated) and survey points")
    exposure: pd.DataFrame = inputs["mercury_exposure_by_district"]
    d.table(exposure[exposure["district"] == "all districts"], 1)
    d.table(inputs["mercury_interpolation_cv"], 3)
    d.figure(inputs["mercury_distance_decay_figure"], "Mercury against distance to mining")
    d.table(inputs["mercury_validation_report"], 0)

    d.heading("Cocoa risk")
    d.figure(inputs["risk_quicklook"], "Risk class of every cocoa pixel")
    risk: pd.DataFrame = inputs["risk_by_district"]
    d.table(risk[risk["district"] == "all districts"], 1)
    d.text("Sensitivity of class areas (ha) to each weight moved by +/-20%:")
    d.table(
        inputs["risk_sensitivity"]
        .filter(regex="scenario|_ha$")
        .loc[:, lambda t: ~t.columns.str.contains("change")],
        0,
    )

    d.heading("Parameters")
    picked = {
        "model": info,
        "labels": parameters["ingestion"]["labels"],
        "split": parameters["ingestion"]["split"],
        "transition": {
            k: parameters["transition"][k]
            for k in ("from_class", "to_class", "min_mapping_unit_ha", "confidence")
        },
        "economics": parameters["economics"],
        "mercury": {
            k: parameters["mercury"][k]
            for k in ("detection_limit_ng_m3", "class_breaks_ng_m3", "class_labels")
        },
        "risk": {
            k: parameters["risk"][k]
            for k in ("weights", "class_breaks", "proximity", "pressure", "mercury", "downstream")
        },
    }
    d.code(yaml.safe_dump(picked, sort_keys=False, allow_unicode=True))
    body = "\n".join(d.html)
    html_doc = (
        f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>cocoa-threat report</title><style>{CSS}</style></head><body>{body}</body></html>"
    )
    markdown = "\n".join(d.md)
    logger.info("Report: %.1f MB HTML", len(html_doc) / 1e6)
    return html_doc, markdown


def kwarg_name(dataset: str) -> str:
    """A Python argument name for a dataset name (``params:x`` -> ``p_x``, dots -> ``__``)."""
    return dataset.replace("params:", "p_").replace(".", "__")


def assemble_report(**datasets: Any) -> tuple[str, str]:
    """Node wrapper of :func:`build_report`: catalog datasets and params by argument name."""
    inputs = {k.replace("__", "."): v for k, v in datasets.items() if not k.startswith("p_")}
    params = {k[2:].replace("__", "."): v for k, v in datasets.items() if k.startswith("p_")}
    return build_report(inputs, params)
