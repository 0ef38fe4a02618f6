"""The imagery parameters (season windows, years before L2A) and the offset decisions."""

from __future__ import annotations

from datetime import date

import pystac
import pytest

from cocoa_threat.errors import ParameterError
from cocoa_threat.imagery.harmonise import decide_offset
from cocoa_threat.params.checks import check_parameters
from cocoa_threat.params.imagery import HarmoniseSpec, ImageryParams, Season

ASSETS = {"B2": "blue"}


def test_season_windows() -> None:
    assert Season().window(2016) == (date(2016, 1, 1), date(2016, 1, 31))
    dry = Season(start="12-01", end="02-29")
    assert dry.window(2022) == (date(2021, 12, 1), date(2022, 2, 28))
    assert dry.window(2024) == (date(2023, 12, 1), date(2024, 2, 29))
    with pytest.raises(ValueError, match="MM-DD"):
        Season(start="1-1")
    with pytest.raises(ValueError):
        Season(end="02-30")


def test_a_year_before_sentinel2_l2a_names_the_first_date() -> None:
    with pytest.raises(ParameterError) as err:
        ImageryParams.model_validate({"assets": ASSETS, "years": [2014, 2022]})
    message = str(err.value)
    assert "imagery.years" in message and "2015-06-27" in message
    assert "imagery.first_available" in message
    # A December-February season of 2016 starts in 2015, after the first date: fine.
    p = ImageryParams.model_validate(
        {"assets": ASSETS, "years": [2016], "season": {"start": "12-01", "end": "02-28"}}
    )
    assert p.windows()[2016][0] == date(2015, 12, 1)


def test_the_parameter_check_knows_the_block() -> None:
    problems = check_parameters(
        {"imagery": {"assets": ASSETS, "masking": {"masked_classes": [12]}}}
    )
    assert any(p.startswith("imagery.masking.masked_classes") for p in problems)
    assert not any("unknown top-level" in p for p in problems)
    assert check_parameters({"imagery": {"assets": ASSETS}}) == []


def _item(props: dict, offset: float | None = None) -> pystac.Item:
    raster = {"nodata": 0} | ({} if offset is None else {"scale": 0.0001, "offset": offset})
    return pystac.Item.from_dict(
        {
            "type": "Feature",
            "stac_version": "1.0.0",
            "id": "x",
            "bbox": [0, 0, 1, 1],
            "geometry": {"type": "Point", "coordinates": [0, 0]},
            "properties": {"datetime": "2022-02-01T10:00:00Z", **props},
            "links": [],
            "assets": {"blue": {"href": "b.tif", "raster:bands": [raster]}},
        }
    )


@pytest.mark.parametrize(
    ("props", "offset", "expected", "source"),
    [
        ({"s2:processing_baseline": "04.00"}, None, -1000.0, "s2:processing_baseline"),
        ({"s2:processing_baseline": "03.01"}, None, 0.0, "s2:processing_baseline"),
        ({"s2:processing_baseline": "05.10"}, -0.1, -1000.0, "raster:bands"),
        ({}, 0.0, 0.0, "raster:bands"),
        (
            {"earthsearch:boa_offset_applied": True, "s2:processing_baseline": "04.00"},
            None,
            0.0,
            "earthsearch:boa_offset_applied",
        ),
        (
            {"earthsearch:boa_offset_applied": False, "s2:processing_baseline": "04.00"},
            None,
            -1000.0,
            "earthsearch:boa_offset_applied",
        ),
    ],
)
def test_offsets_from_metadata(
    props: dict, offset: float | None, expected: float, source: str
) -> None:
    decision = decide_offset(_item(props, offset), ["blue"], HarmoniseSpec())
    assert decision.offsets == {"blue": expected}
    assert decision.source == source and decision.conflicts == []


def test_no_metadata_is_an_error_unless_the_date_is_allowed() -> None:
    with pytest.raises(ValueError, match="records none of.*'date'"):
        decide_offset(_item({}), ["blue"], HarmoniseSpec())
    guessed = decide_offset(
        _item({}), ["blue"], HarmoniseSpec(sources=["s2:processing_baseline", "date"])
    )
    assert guessed.offsets == {"blue": -1000.0} and guessed.source == "date"


def test_the_order_of_sources_decides_a_conflict() -> None:
    item = _item({"s2:processing_baseline": "04.00", "earthsearch:boa_offset_applied": True}, -0.1)
    first = decide_offset(
        item, ["blue"], HarmoniseSpec(sources=["raster:bands", "earthsearch:boa_offset_applied"])
    )
    assert first.offsets == {"blue": -1000.0}
    assert first.conflicts == ["earthsearch:boa_offset_applied says [0.0]"]
    with pytest.raises(ValueError, match="on_conflict"):
        decide_offset(item, ["blue"], HarmoniseSpec(on_conflict="error"))
