"""The report: one Jinja2 template (Markdown) rendered to ``report.md`` and ``report.html``.

The template (``templates/report.md.j2``) holds the prose; every number in it
(confidence levels, sensitivity step, class names, the conversion) comes from the
typed sections handed in (:mod:`cocoa_threat.rendering.sections`). Tables are
rendered as Markdown, figures embedded as base64 PNGs, and the HTML is the same
Markdown converted, in one self-contained page with no external reference.
"""

from __future__ import annotations

import base64
import re

import markdown as markdown_lib
import pandas as pd
from jinja2 import Environment, PackageLoader, StrictUndefined

from cocoa_threat.provenance import VERSION
from cocoa_threat.rendering.offline import foreign_references
from cocoa_threat.rendering.sections import (
    ChangeSection,
    DataSection,
    EconomicsSection,
    MercurySection,
    ModelSection,
    ParametersSection,
    RiskSection,
)
from cocoa_threat.rendering.tables import markdown_table, markdown_text

CSS = """
body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}
table{border-collapse:collapse;margin:1em 0;font-size:0.85em}
td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}
th{background:#f0f0f0}
td:first-child,th:first-child{text-align:left}
img{max-width:100%}
pre{background:#f6f6f6;padding:1em;overflow-x:auto;font-size:0.8em}
blockquote{background:#fff4d6;padding:0.6em 1em;border-left:4px solid #e0a800;margin:1em 0}
"""


def figure(png: bytes | None, caption: str) -> str:
    """A figure as Markdown with the PNG embedded (nothing if the figure does not exist)."""
    if png is None:
        return ""
    data = base64.b64encode(png).decode()
    text = markdown_text(caption)
    return f"![{text}](data:image/png;base64,{data})\n\n*{text}*\n"


def table(frame: pd.DataFrame | None, digits: int = 2) -> str:
    """A table as Markdown (nothing if it does not exist); the model version is said once."""
    if frame is None:
        return ""
    return markdown_table(frame.drop(columns=[VERSION], errors="ignore"), digits)


def fenced(text: str, language: str = "") -> str:
    """``text`` as a fenced code block whose fence no line of the text can close."""
    runs = [len(m) for m in re.findall(r"`+", text)]
    fence = "`" * max(3, max(runs, default=0) + 1)
    return f"{fence}{language}\n{text.rstrip(chr(10))}\n{fence}\n"


def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("cocoa_threat.rendering", "templates"),
        undefined=StrictUndefined,
        autoescape=False,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["e"] = markdown_text
    env.filters["fenced"] = fenced
    env.filters["pct"] = lambda value: f"{100 * float(value):g}%"
    env.globals.update(figure=figure, table=table)
    return env


def render_report(
    data: DataSection,
    models: ModelSection,
    change: ChangeSection,
    economics: EconomicsSection,
    mercury: MercurySection,
    risk: RiskSection,
    parameters: ParametersSection,
) -> tuple[str, str]:
    """The report as ``(html, markdown)`` from the template and its sections.

    Args:
        data: Study area and data.
        models: The models' scores and verdicts.
        change: Land use, change and areas.
        economics: The value lost.
        mercury: Atmospheric mercury.
        risk: Cocoa risk.
        parameters: The parameters and the code behind the results.

    Returns:
        A self-contained HTML page and its Markdown twin.

    Raises:
        ValueError: If the page would link to or load anything but its own anchors,
            ``map.html`` and its embedded figures (it must open offline, and names
            from the data never become links).
    """
    sections = {
        "data": data,
        "models": models,
        "change": change,
        "economics": economics,
        "mercury": mercury,
        "risk": risk,
        "parameters": parameters,
    }
    md = _environment().get_template("report.md.j2").render(**sections)
    body = markdown_lib.markdown(md, extensions=["tables", "fenced_code"])
    page = (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>cocoa-threat report</title><style>{CSS}</style></head>"
        f"<body>{body}</body></html>"
    )
    if foreign := foreign_references(page):
        raise ValueError(
            f"The report would link to or load {len(foreign)} thing(s) beyond its anchors, "
            f"map.html and embedded figures: {', '.join(foreign[:3])}; nothing was written"
        )
    return page, md
