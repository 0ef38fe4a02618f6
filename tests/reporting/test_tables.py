"""Report tables keep integer columns as integers and round floats."""

from __future__ import annotations

import pandas as pd

from cocoa_threat.reporting.tables import html_table, markdown_table


def test_tables_keep_column_types() -> None:
    table = pd.DataFrame({"year": [2016, 2022], "share": [0.12345, 0.5], "area": [12345.678, 1.0]})
    md = markdown_table(table, 2)
    assert "| 2016 | 0.12 | 12,345.68 |" in md
    html = html_table(table, 1)
    assert "<td>2022</td><td>0.5</td><td>1.0</td>" in html
