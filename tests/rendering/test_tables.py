"""Report tables keep integer columns as integers and round floats, and say their level."""

from __future__ import annotations

import pandas as pd

from cocoa_threat.rendering.tables import markdown_table


def test_tables_keep_column_types() -> None:
    table = pd.DataFrame({"year": [2016, 2022], "share": [0.12345, 0.5], "area": [12345.678, 1.0]})
    md = markdown_table(table, 2)
    assert "| 2016 | 0.12 | 12,345.68 |" in md
    assert "| 2022 | 0.50 | 1.00 |" in md
    assert markdown_table(pd.DataFrame({"name": ["a|b <i>"]})).endswith("| a\\|b &lt;i&gt; |\n")


def test_the_level_of_intervals_is_the_table_s_own_or_an_error() -> None:
    import pytest

    from cocoa_threat.rendering.tables import _level

    assert _level(pd.DataFrame({"confidence": [0.9, 0.9]})) == "90%"
    with pytest.raises(ValueError, match="no 'confidence' column"):
        _level(pd.DataFrame({"adjusted_ha": [1.0]}))  # never a level made up in code
    with pytest.raises(ValueError, match="mixes intervals of levels"):
        _level(pd.DataFrame({"confidence": [0.9, 0.95]}))
