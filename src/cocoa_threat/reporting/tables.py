"""Tables as Markdown and HTML for the README and the report."""

from __future__ import annotations

import html

import numpy as np
import pandas as pd


def _fmt(value: object, digits: int) -> str:
    if isinstance(value, np.integer):
        value = int(value)
    if isinstance(value, (float, np.floating)):
        if pd.isna(value):
            return ""
        return f"{value:,.{digits}f}" if abs(value) >= 1000 else f"{value:.{digits}f}"
    return str(value)


def markdown_table(table: pd.DataFrame, digits: int = 3) -> str:
    """A GitHub-flavoured Markdown table; floats rounded to ``digits``."""
    header = "| " + " | ".join(map(str, table.columns)) + " |"
    sep = "|" + "|".join("---" for _ in table.columns) + "|"
    body = [
        "| " + " | ".join(_fmt(v, digits) for v in row) + " |"
        for row in table.itertuples(index=False)
    ]
    return "\n".join([header, sep, *body]) + "\n"


def html_table(table: pd.DataFrame, digits: int = 3) -> str:
    """An HTML table; floats rounded to ``digits``."""
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in table.columns)
    rows = [
        "<tr>" + "".join(f"<td>{html.escape(_fmt(v, digits))}</td>" for v in row) + "</tr>"
        for row in table.itertuples(index=False)
    ]
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
