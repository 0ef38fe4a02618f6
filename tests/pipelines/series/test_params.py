"""``series.years``: any increasing list of two or more years, each with a composite."""

from __future__ import annotations

import pytest

from cocoa_threat.errors import ParameterError
from cocoa_threat.params.base import parse_params
from cocoa_threat.params.checks import check_parameters
from cocoa_threat.params.series import SeriesParams
from tests.conftest import load_project_conf


def test_intervals_are_consecutive_pairs_then_first_to_last() -> None:
    p = SeriesParams(years=[2016, 2019, 2022, 2025])
    assert p.intervals() == [(2016, 2019), (2019, 2022), (2022, 2025), (2016, 2025)]
    assert SeriesParams(years=[2016, 2022]).intervals() == [(2016, 2022)]


@pytest.mark.parametrize(
    ("years", "message"),
    [([2016], "at least two"), ([2016, 2016], "twice"), ([2022, 2016], "increasing order")],
)
def test_bad_years_are_refused_naming_the_key(years: list[int], message: str) -> None:
    with pytest.raises(ParameterError, match=rf"series\.years.*{message}"):
        parse_params(SeriesParams, {"years": years}, "series")


def test_a_series_year_without_imagery_year_is_a_problem(tmp_path) -> None:
    params = load_project_conf(tmp_path).params
    assert not check_parameters(params, {"series", "imagery"})
    params["series"]["years"] = [2016, 2019, 2022]
    problems = check_parameters(params, {"series", "imagery"})
    assert any("series.years [2019] are not in imagery.years" in p for p in problems)
