"""Tables as Markdown and HTML for the README and the report."""

from __future__ import annotations

import html
import re
from typing import Any

import numpy as np
import pandas as pd

# What Markdown would read as syntax in a line of text or a table cell (emphasis, code,
# cells, headings): escaped with a backslash; brackets too where they could make a link
# or an image (``](``, ``][``, ``]:``, ``![``), so that ``[0.55, 0.70]`` stays readable.
MARKDOWN_SYNTAX = re.compile(r"([\\`*_{}|#])")
LINK_SYNTAX = re.compile(r"\]\s*[(\[:]|!\[")


def markdown_text(value: object) -> str:
    """``value`` as literal text in Markdown and the HTML made from it.

    HTML special characters become entities, and Markdown syntax (links,
    images, emphasis, code spans, table cells) is backslash-escaped, so a name
    such as ``[click](javascript:...)`` shows as itself and links nowhere.
    """
    text = MARKDOWN_SYNTAX.sub(r"\\\1", html.escape(str(value), quote=False))
    if LINK_SYNTAX.search(text):
        text = re.sub(r"([\[\]()!])", r"\\\1", text)
    return text


def _fmt(value: object, digits: int) -> str:
    if isinstance(value, np.integer):
        value = int(value)
    if isinstance(value, (float, np.floating)):
        if pd.isna(value):
            return ""
        return f"{value:,.{digits}f}" if abs(value) >= 1000 else f"{value:.{digits}f}"
    return markdown_text(value)


def markdown_table(table: pd.DataFrame, digits: int = 3) -> str:
    """A GitHub-flavoured Markdown table; floats rounded to ``digits``."""
    header = "| " + " | ".join(map(markdown_text, table.columns)) + " |"
    sep = "|" + "|".join("---" for _ in table.columns) + "|"
    body = [
        "| " + " | ".join(_fmt(v, digits) for v in row) + " |"
        for row in table.itertuples(index=False)
    ]
    return "\n".join([header, sep, *body]) + "\n"


def _with_ci(value: object, low: object, high: object, digits: int = 3) -> str:
    if value is None or pd.isna(value):
        return ""
    if low is None or pd.isna(low) or high is None or pd.isna(high):
        return f"{value:.{digits}f} (no interval)"
    return f"{value:.{digits}f} [{low:.{digits}f}, {high:.{digits}f}]"


def _level(table: pd.DataFrame) -> str:
    """The confidence level of a table's intervals, as a percentage ('95%')."""
    if "confidence" not in table:
        raise ValueError(
            f"A table of intervals has no 'confidence' column (columns: {list(table.columns)}); "
            "its intervals' level is unknown: rerun the pipeline that wrote it"
        )
    levels = table["confidence"].dropna().unique()
    if len(levels) > 1:
        raise ValueError(f"A table mixes intervals of levels {sorted(levels)}; rerun it whole")
    return f"{100 * float(levels[0]):g}%" if len(levels) else "no"


def comparison_frame(table: pd.DataFrame) -> pd.DataFrame:
    """The model comparison, compact: every score as ``value [low, high]``."""
    classes = [
        c.removeprefix("iou_")
        for c in table.columns
        if c.startswith("iou_") and not c.endswith(("_low", "_high"))
    ]
    level = _level(table)
    rows = []
    for r in table.to_dict("records"):
        row = {
            "model": r["model"],
            "year": r["year"],
            f"mIoU [{level} CI]": _with_ci(r["miou"], r["miou_ci_low"], r["miou_ci_high"]),
        }
        for c in classes:
            row[f"IoU {c}"] = _with_ci(r[f"iou_{c}"], r[f"iou_{c}_ci_low"], r[f"iou_{c}_ci_high"])
        row["F1 macro"] = _with_ci(r["f1_macro"], r["f1_macro_ci_low"], r["f1_macro_ci_high"])
        mean, sd = r.get("miou_seed_mean"), r.get("miou_seed_sd")
        seeds = ""
        if mean is not None and not pd.isna(mean):
            seeds = f"{mean:.3f}"
            if sd is not None and not pd.isna(sd):
                seeds += f" ± {sd:.3f} ({int(r['n_seeds'])} seeds)"
        row["mIoU over seeds"] = seeds
        rows.append(row)
    return pd.DataFrame(rows)


def comparison_markdown(table: pd.DataFrame) -> str:
    """The model comparison as Markdown: scores with their intervals, then the paired verdicts.

    Args:
        table: ``model_comparison`` (see ``pipelines/training/nodes.compare_models``).

    Returns:
        A table (score [interval] per model and year), then one line per model
        with its rank and the paired mIoU differences that decide it.
    """
    lines = [markdown_table(comparison_frame(table)).rstrip()]
    blocks = table["n_test_blocks"].iloc[0] if "n_test_blocks" in table else None
    strata = table["n_test_strata"].iloc[0] if "n_test_strata" in table else 1
    lines.append(
        f"\nIntervals: {_level(table)}, jackknife over whole spatial blocks of test tiles "
        f"({blocks} blocks in {strata} strata, design-weighted), Student t. The spread over "
        f"seeds (last column) is not in them. Models are ranked by the interval of their "
        f"paired mIoU difference on the same blocks (shown in brackets): a model is above "
        f"another only where it excludes zero.\n"
    )
    overall = table[table["year"].astype(str) == "all"]
    if "rank" in overall:
        overall = overall.sort_values(["rank", "miou"], ascending=[True, False])
    for r in overall.to_dict("records"):
        rank = f" (rank {int(r['rank'])})" if pd.notna(r.get("rank")) else ""
        lines.append(f"- `{r['model']}`{rank}: {r['comparison']}.")
    warning = next((w for w in table.get("warning", []) if isinstance(w, str) and w), "")
    if warning:
        lines.append(f"\nWarning: {warning}.")
    return "\n".join(lines) + "\n"


def area_frame(areas: pd.DataFrame) -> pd.DataFrame:
    """Area estimates, compact: mapped, adjusted [CI] and the label census side by side.

    A lower bound cut at 0 is marked ``0.0*``.
    """
    level = _level(areas)
    rows = []
    for r in areas.to_dict("records"):
        low, high = r["ci_low_ha"], r["ci_high_ha"]
        adjusted = f"{r['adjusted_ha']:,.1f}"
        cut = "*" if r.get("ci_low_clipped") in (True, "True") else ""
        adjusted += " (no interval)" if pd.isna(low) else f" [{low:,.1f}{cut}, {high:,.1f}]"
        rows.append(
            {
                "quantity": r["quantity"],
                "population": r["population"],
                "mapped ha": r["map_ha"],
                f"adjusted ha [{level} CI]": adjusted,
                "label census ha": r["census_ha"],
                "test units": r["n_units"],
                "effective n (px)": r["n_eff"],
                "source": area_source(r["n_units"]),
            }
        )
    return pd.DataFrame(rows)


def area_source(n_units: Any, what: str = "test sample", unit: str = "units") -> str:
    """Where an area comes from: error-adjusted with a sample of ``n_units``, or the map."""
    if pd.isna(n_units) or int(n_units) == 0:
        return "map area (no reference sample for this year: not adjusted)"
    return f"error-adjusted ({what} of {int(n_units)} {unit})"


def reference_area_frame(areas: pd.DataFrame) -> pd.DataFrame:
    """The reference-sample kit's class areas, each with where it comes from.

    An error-adjusted area shows its interval and sample; a map area says it is
    not adjusted (no labelled reference sample for that year).
    """
    level = _level(areas)
    rows = []
    for r in areas.to_dict("records"):
        if pd.isna(r["adjusted_ha"]):
            adjusted = "not adjusted"
        else:
            low, high = r["ci_low_ha"], r["ci_high_ha"]
            cut = "*" if r.get("ci_low_clipped") in (True, "True") else ""
            adjusted = f"{r['adjusted_ha']:,.1f}"
            adjusted += " (no interval)" if pd.isna(low) else f" [{low:,.1f}{cut}, {high:,.1f}]"
        rows.append(
            {
                "class": r["class"],
                "image date": r.get("period", ""),
                "mapped ha": r["map_ha"],
                f"adjusted ha [{level} CI]": adjusted,
                "source": r["source"],
            }
        )
    return pd.DataFrame(rows)
