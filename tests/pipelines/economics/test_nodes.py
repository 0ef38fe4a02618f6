"""Economics arithmetic against hand-computed cases, season boundaries included."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cocoa_threat.analysis.economics import (
    converted_share,
    growth_path,
    mean_reverting_path,
    present_value,
    season_price,
)
from cocoa_threat.errors import NonFiniteError, ParameterError
from cocoa_threat.params import LandUse
from cocoa_threat.params.economics import EconomicsParams
from cocoa_threat.pipelines.economics.nodes import (
    economic_summary,
    loss_by_district,
    loss_by_season,
)

LAND_USE = LandUse.model_validate(
    {
        "classes": ["background", "mining", "cocoa"],
        "colours": {"background": "#eeeeee", "mining": "#ff0000", "cocoa": "#00ff00"},
    }
)

AREAS = pd.DataFrame(
    [
        {
            "quantity": "cocoa (after)",
            "map_ha": 1.0,
            "adjusted_ha": 1.0,
            "ci_low_ha": 1.0,
            "ci_high_ha": 1.0,
        },
        {
            "quantity": "cocoa -> mining",
            "map_ha": 50.0,
            "adjusted_ha": 100.0,
            "ci_low_ha": 80.0,
            "ci_high_ha": 120.0,
        },
    ]
)


def _typed(**over) -> EconomicsParams:
    return EconomicsParams.model_validate(_params(**over))


def _params(**over) -> dict:
    base = {
        "yield_kg_per_ha": {"low": 200, "central": 400, "high": 600},
        "producer_price_ghs_per_t": {"2022/23": 10000, "2023/24": 20000},
        "exchange_rate_ghs_per_usd": {"2022/23": 10, "2023/24": 20},
        "season_start_month": 10,
        "conversion_timing": "end",
        "image_dates": {"before": "2016-01-15", "after": "2022-01-15"},
        "first_season": "2022/23",
        "latest_season": "2023/24",
        # Prices double between the seasons' calendar years: 2022/23 = 0.25 I(2022) + 0.75 I(2023).
        "cpi_inflation_pct": {2022: 0.0, 2023: 100.0, 2024: 0.0},
        "price_base_season": "2023/24",
        "real_discount_rate": 0.10,
        "horizon_years": 2,
        "price_growth": {"flat": 0.0, "low": -0.5, "high": 0.1},
        "price_mean_reversion": {"mean_seasons": ["2022/23", "2023/24"], "half_life_years": 1.0},
        "confidence": 0.95,
        "conversion": "cocoa -> mining",
    }
    return {**base, **over}


def test_season_boundaries() -> None:
    p = EconomicsParams.model_validate(_params())
    dates = (p.image_dates["before"], p.image_dates["after"], p.season_start_month)

    def share(season: str, timing: str) -> float:
        return converted_share(season, *dates, timing)

    # All at the later image (15 Jan 2022): the 2021/22 season (from 1 Oct 2021) is not lost.
    assert share("2021/22", "end") == 0.0
    assert share("2022/23", "end") == 1.0
    # 15 Jan 2016 -> 1 Oct 2016 is 260 days of the 2,192 days between the images.
    assert share("2016/17", "linear") == pytest.approx(260 / 2192)
    assert share("2015/16", "linear") == 0.0  # began before the first image
    assert share("2022/23", "linear") == 1.0
    # 1 Oct 2021 is 2,086 days after 15 Jan 2016.
    assert share("2021/22", "linear") == pytest.approx(2086 / 2192)
    with pytest.raises(ValueError, match="'2021/23' is not of the form 2016/17"):
        share("2021/23", "linear")


def test_loss_by_season_by_hand() -> None:
    t = loss_by_season(AREAS, _typed(), LAND_USE).set_index("season")
    # central: 100 ha x 0.4 t/ha x 10,000 GH¢/t = 400,000 GH¢ = US$ 40,000
    assert t.loc["2022/23", "beans_lost_t_central"] == pytest.approx(40.0)
    assert t.loc["2022/23", "value_lost_ghs_central"] == pytest.approx(400_000)
    assert t.loc["2022/23", "value_lost_usd_central"] == pytest.approx(40_000)
    # 2023/24: 100 x 0.4 x 20,000 = 800,000 GH¢ = US$ 40,000; cumulative 1.2 M GH¢
    assert t.loc["2023/24", "value_lost_ghs_central"] == pytest.approx(800_000)
    assert t.loc["2023/24", "cumulative_ghs_central"] == pytest.approx(1_200_000)
    assert t.loc["2023/24", "cumulative_usd_central"] == pytest.approx(80_000)
    # low: 80 ha x 0.2 t/ha x 10,000 = 160,000; high: 120 x 0.6 x 10,000 = 720,000
    assert t.loc["2022/23", "value_lost_ghs_low"] == pytest.approx(160_000)
    assert t.loc["2022/23", "value_lost_ghs_high"] == pytest.approx(720_000)


def test_present_value_and_summary() -> None:
    assert present_value(np.array([100.0, 100.0]), 0.10) == pytest.approx(100 / 1.1 + 100 / 1.21)
    assert present_value(growth_path(100, 0.1, 2), 0.10) == pytest.approx(200.0)
    params = _typed()
    by_season = loss_by_season(AREAS, params, LAND_USE)
    summary = economic_summary(AREAS, by_season, params).set_index("figure")
    pv = "present value of the next 2 seasons' gross value"
    # next 2 seasons at the base season's real price (20,000): 800,000 GH¢ a season
    flat = summary.loc[f"{pv}, GH¢ at 2023/24 prices, real price flat", "central"]
    assert flat == pytest.approx(800_000 / 1.1 + 800_000 / 1.21)
    assert summary.loc[f"{pv}, US$ (real price flat)", "central"] == pytest.approx(flat / 20)
    low = summary.loc[f"{pv}, GH¢ at 2023/24 prices, real price low", "central"]
    assert low == pytest.approx(800_000 * 0.5 / 1.1 + 800_000 * 0.25 / 1.21)
    # Mean-reverting: 10,000 nominal in 2022/23 is 10,000 x 200/175 = 11,428.6 at 2023/24
    # prices, so the mean of the two seasons is 15,714.3; from 20,000 half the gap closes each
    # year (half-life 1): 17,857.1, then 16,785.7. 40 t a season (100 ha x 0.4 t/ha).
    mean = (10_000 * 200 / 175 + 20_000) / 2
    path = [mean + (20_000 - mean) / 2, mean + (20_000 - mean) / 4]
    reverting = summary.loc[f"{pv}, GH¢ at 2023/24 prices, real price mean_reverting", "central"]
    assert reverting == pytest.approx(40 * path[0] / 1.1 + 40 * path[1] / 1.21)
    assert not any("trend" in figure for figure in summary.index)
    assert summary.loc["cocoa area converted, ha (map count)", "central"] == 50.0


def test_mean_reverting_path_closes_half_the_gap_every_half_life() -> None:
    path = mean_reverting_path(200.0, 100.0, 2.0, 4)
    np.testing.assert_allclose(path, [100 + 100 * 0.5**0.5, 150.0, 100 + 50 * 0.5**0.5, 125.0])
    np.testing.assert_allclose(mean_reverting_path(80.0, 100.0, 1.0, 2), [90.0, 95.0])  # from below
    with pytest.raises(ParameterError, match=r"mean_seasons \['2021/22', '2023/24'\]"):
        EconomicsParams.model_validate(
            _params(price_mean_reversion={"mean_seasons": ["2021/22", "2023/24"]})
        )


def test_a_price_changed_within_a_season_is_weighted_by_its_days() -> None:
    import datetime as dt

    # 2023/24: 20,928 from 1 October 2023, 33,120 from 5 April 2024: 187 and 179 of 366 days.
    schedule = {dt.date(2023, 10, 1): 20928.0, dt.date(2024, 4, 5): 33120.0}
    assert season_price(schedule, "2023/24", 10) == pytest.approx((187 * 20928 + 179 * 33120) / 366)
    # 2025/26: 51,660 on 1-2 October 2025, then 58,000: 2 and 363 of 365 days.
    later = {dt.date(2025, 10, 1): 51660.0, dt.date(2025, 10, 3): 58000.0}
    assert season_price(later, "2025/26", 10) == pytest.approx((2 * 51660 + 363 * 58000) / 365)
    params = _typed(
        producer_price_ghs_per_t={
            "2022/23": 10000,
            "2023/24": {"2023-09-01": 10000, "2024-04-01": 30000},
        }
    )  # 183 days at 10,000, 183 at 30,000
    t = loss_by_season(AREAS, params, LAND_USE).set_index("season")
    assert t.loc["2023/24", "price_ghs_per_t"] == pytest.approx(20000.0)
    assert t.loc["2023/24", "value_lost_ghs_central"] == pytest.approx(800_000)
    late = _params(producer_price_ghs_per_t={"2022/23": 10000, "2023/24": {"2023-10-02": 1.0}})
    with pytest.raises(ParameterError, match=r"2023/24: the first price is from 2023-10-02"):
        EconomicsParams.model_validate(late)
    outside = {"2022/23": 10000, "2023/24": {"2023-10-01": 1.0, "2024-10-01": 2.0}}
    with pytest.raises(ParameterError, match=r"price changes \['2024-10-01'\] are not within"):
        EconomicsParams.model_validate(_params(producer_price_ghs_per_t=outside))


def test_the_confidence_named_is_the_conf_s() -> None:
    params = _typed(confidence=0.9)
    summary = economic_summary(AREAS, loss_by_season(AREAS, params, LAND_USE), params)
    names = " ".join(summary["figure"])
    assert "90% CI" in names and "95" not in names
    low, high = summary.iloc[0][["low", "high"]]
    assert (low, high) == (80.0, 120.0)  # the area table's ci_low_ha and ci_high_ha


def test_constant_prices_deflate_each_season() -> None:
    from cocoa_threat.analysis.economics import season_price_index

    # Index 100 in 2022, 200 in 2023, 200 in 2024; seasons start in October (3 months in Y).
    index = season_price_index({2022: 0.0, 2023: 100.0, 2024: 0.0}, ["2022/23", "2023/24"], 10)
    assert index == pytest.approx({"2022/23": 175.0, "2023/24": 200.0})
    t = loss_by_season(AREAS, _typed(), LAND_USE).set_index("season")
    # 2022/23: 400,000 GH¢ nominal is 400,000 x 200/175 at 2023/24 prices.
    assert t.loc["2022/23", "deflator"] == pytest.approx(200 / 175)
    assert t.loc["2022/23", "value_lost_ghs_const_central"] == pytest.approx(400_000 * 200 / 175)
    assert t.loc["2023/24", "value_lost_ghs_const_central"] == pytest.approx(800_000)
    assert t.loc["2023/24", "cumulative_ghs_const_central"] == pytest.approx(
        400_000 * 200 / 175 + 800_000
    )
    summary = economic_summary(AREAS, t.reset_index(), _typed()).set_index("figure")
    gross = "gross value of lost production 2022/23-2023/24"
    assert summary.loc[f"{gross}, GH¢ nominal", "central"] == pytest.approx(1_200_000)
    assert summary.loc[f"{gross}, GH¢ at 2023/24 prices", "central"] == pytest.approx(
        400_000 * 200 / 175 + 800_000
    )
    with pytest.raises(
        ParameterError, match=r"cpi_inflation_pct has no value for year\(s\) \[2024\]"
    ):
        EconomicsParams.model_validate(_params(cpi_inflation_pct={2022: 1.0, 2023: 1.0}))


def test_districts_share_the_totals() -> None:
    params = _typed()
    summary = economic_summary(AREAS, loss_by_season(AREAS, params, LAND_USE), params)
    transitions = pd.DataFrame(
        [
            {"district": "Bekwai", "from_class": "cocoa", "to_class": "mining", "hectares": 30.0},
            {
                "district": "Amansie West",
                "from_class": "cocoa",
                "to_class": "mining",
                "hectares": 10.0,
            },
            {"district": "Bekwai", "from_class": "cocoa", "to_class": "cocoa", "hectares": 500.0},
        ]
    )
    t = loss_by_district(transitions, summary, params).set_index("district")
    assert t.loc["Bekwai", "share"] == pytest.approx(0.75)
    assert t.loc["Bekwai", "area_ha_central"] == pytest.approx(75.0)
    assert t["value_lost_usd_central"].sum() == pytest.approx(80_000)
    assert t["value_lost_ghs_const_central"].sum() == pytest.approx(400_000 * 200 / 175 + 800_000)


def test_price_table_missing_a_season_names_it() -> None:
    params = _params(latest_season="2024/25")
    with pytest.raises(
        ParameterError, match=r"producer_price_ghs_per_t has no value for season\(s\) \['2024/25'\]"
    ):
        EconomicsParams.model_validate(params)


def test_yields_must_be_ordered() -> None:
    with pytest.raises(ParameterError, match="yield_kg_per_ha"):
        EconomicsParams.model_validate(
            _params(yield_kg_per_ha={"low": 500, "central": 400, "high": 600})
        )


@pytest.mark.parametrize("column", ["adjusted_ha", "ci_high_ha"])
def test_an_infinite_area_stops_the_node_naming_its_input(column: str) -> None:
    areas = AREAS.copy()
    areas.loc[areas["quantity"] == "cocoa -> mining", column] = float("inf")
    with pytest.raises(NonFiniteError, match=r"economic_loss_by_season has .*area_estimates"):
        loss_by_season(areas, _typed(), LAND_USE)


def test_a_missing_interval_is_not_an_error_but_a_missing_central_value_is() -> None:
    areas = AREAS.copy()
    conv = areas["quantity"] == "cocoa -> mining"
    areas.loc[conv, ["ci_low_ha", "ci_high_ha"]] = float("nan")
    season = loss_by_season(areas, _typed(), LAND_USE)
    assert season["value_lost_ghs_low"].isna().all()
    assert season["value_lost_ghs_central"].notna().all()
    areas.loc[conv, "adjusted_ha"] = float("nan")
    with pytest.raises(NonFiniteError, match="area_lost_ha_central"):
        loss_by_season(areas, _typed(), LAND_USE)
