"""Survey checks: non-finite values, distinct places rather than rows, clear messages."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cocoa_threat.analysis.survey import clean_survey, distinct_locations
from cocoa_threat.params.mercury import MercuryParams

UTM = "EPSG:32630"
BOUNDS = (600000.0, 700000.0, 610000.0, 710000.0)


def _spec(**survey: object):  # noqa: ANN202
    return MercuryParams.model_validate(
        {
            "survey": {"x_column": "x", "y_column": "y", "crs": UTM, **survey},
            "class_breaks_ng_m3": [10, 50, 200],
            "class_labels": ["a", "b", "c", "d"],
        }
    )


def _survey(xs: list[float], ys: list[float], values: list[float]) -> pd.DataFrame:
    return pd.DataFrame({"x": xs, "y": ys, "concentration_ng_m3": values, "time": range(len(xs))})


def test_infinite_values_are_dropped_and_named() -> None:
    table = _survey([601000, 602000, 603000, 604000], [701000] * 4, [5.0, np.inf, -np.inf, 7.0])
    table.loc[4] = [605000, 701000, 3.0, 9]
    points, report = clean_survey(table, _spec(), UTM, BOUNDS)
    assert np.isfinite(points["concentration_ng_m3"]).all() and len(points) == 3
    row = report.set_index("issue").loc["missing, non-numeric or non-finite value or coordinates"]
    assert row["n_rows"] == 2 and row["file_lines"] == "3, 4"


def test_many_readings_at_one_place_are_one_place() -> None:
    table = _survey([601000.0] * 30, [701000.0] * 30, list(np.linspace(2, 40, 30)))
    with pytest.raises(
        ValueError,
        match=r"30 usable reading\(s\) of 30 row\(s\) at 1 distinct place\(s\); a surface "
        r"needs at least 3 \(mercury.survey.min_locations\): every usable reading is at 1",
    ):
        clean_survey(table, _spec(), UTM, BOUNDS)
    # Readings 0.5 m apart are one place; 3 places pass.
    table = _survey([601000, 601000.5, 602000, 603000], [701000] * 4, [5, 6, 7, 8])
    points, _ = clean_survey(table, _spec(), UTM, BOUNDS)
    assert distinct_locations(points, 1.0) == 3 and distinct_locations(points, 0.1) == 4


def test_a_one_row_survey_says_so_not_empty_file() -> None:
    with pytest.raises(ValueError, match=r"1 usable reading\(s\) of 1 row\(s\) at 1 distinct"):
        clean_survey(_survey([601000], [701000], [5.0]), _spec(), UTM, BOUNDS)
    with pytest.raises(ValueError, match="the file has no data rows"):
        clean_survey(_survey([], [], []), _spec(), UTM, BOUNDS)


def test_min_locations_is_a_parameter_with_a_floor() -> None:
    from cocoa_threat.errors import ParameterError

    with pytest.raises(ParameterError, match="min_locations"):
        _spec(min_locations=2)
    table = _survey([601000, 602000, 603000], [701000] * 3, [5, 6, 7])
    with pytest.raises(ValueError, match="at least 4"):
        clean_survey(table, _spec(min_locations=4), UTM, BOUNDS)
