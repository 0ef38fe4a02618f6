"""Report tables keep integer columns as integers and round floats."""

from __future__ import annotations

import pandas as pd

from cocoa_threat.rendering.tables import markdown_table


def test_tables_keep_column_types() -> None:
    table = pd.DataFrame({"year": [2016, 2022], "share": [0.12345, 0.5], "area": [12345.678, 1.0]})
    md = markdown_table(table, 2)
    assert "| 2016 | 0.12 | 12,345.68 |" in md
    assert "| 2022 | 0.50 | 1.00 |" in md
    assert markdown_table(pd.DataFrame({"name": ["a|b <i>"]})).endswith("| a\\|b &lt;i&gt; |\n")
