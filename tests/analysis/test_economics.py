"""Price paths and present values of the future losses, against hand-computed cases."""

from __future__ import annotations

import numpy as np
import pytest

from cocoa_threat.analysis.economics import (
    PRICE_SCENARIOS,
    SCENARIOS,
    present_values,
    price_paths,
    valuation,
)
from cocoa_threat.params.economics import EconomicsParams

# Two seasons; prices double between the seasons' calendar years (CPI +100% in 2023), so
# 2022/23's 10,000 GH¢/t is 10,000 x 200/175 at 2023/24 prices.
PARAMS = EconomicsParams.model_validate(
    {
        "yield_kg_per_ha": {"low": 200, "central": 400, "high": 600},
        "producer_price_ghs_per_t": {"2022/23": 10000, "2023/24": 20000},
        "exchange_rate_ghs_per_usd": {"2022/23": 10, "2023/24": 20},
        "season_start_month": 10,
        "conversion_timing": "end",
        "image_dates": {"before": "2016-01-15", "after": "2022-01-15"},
        "first_season": "2022/23",
        "latest_season": "2023/24",
        "cpi_inflation_pct": {2022: 0.0, 2023: 100.0, 2024: 0.0},
        "price_base_season": "2023/24",
        "real_discount_rate": 0.10,
        "horizon_years": 2,
        "price_growth": {"flat": 0.0, "low": -0.5, "high": 0.1},
        "price_mean_reversion": {"mean_seasons": ["2022/23", "2023/24"], "half_life_years": 1.0},
        "confidence": 0.95,
        "conversion": "cocoa -> mining",
    }
)


def test_price_paths_by_scenario() -> None:
    paths = price_paths(PARAMS, valuation(PARAMS))
    assert tuple(paths) == PRICE_SCENARIOS
    np.testing.assert_allclose(paths["flat"], [20_000, 20_000])
    np.testing.assert_allclose(paths["low"], [10_000, 5_000])
    np.testing.assert_allclose(paths["high"], [22_000, 24_200])
    mean = (10_000 * 200 / 175 + 20_000) / 2  # half the gap closes every year
    np.testing.assert_allclose(
        paths["mean_reverting"], [mean + (20_000 - mean) / 2, mean + (20_000 - mean) / 4]
    )


def test_present_values_of_each_area_case() -> None:
    area = {"low": 50.0, "central": 100.0, "high": 150.0}
    pv = present_values(area, PARAMS, valuation(PARAMS))
    assert tuple(pv) == PRICE_SCENARIOS and all(tuple(v) == SCENARIOS for v in pv.values())
    # central: 100 ha x 0.4 t/ha = 40 t a season at 20,000 GH¢/t, discounted at 10%
    assert pv["flat"]["central"] == pytest.approx(800_000 / 1.1 + 800_000 / 1.21)
    # low: 50 ha x 0.2 t/ha = 10 t; high: 150 ha x 0.6 t/ha = 90 t
    assert pv["flat"]["low"] == pytest.approx(200_000 / 1.1 + 200_000 / 1.21)
    assert pv["high"]["high"] == pytest.approx(90 * 22_000 / 1.1 + 90 * 24_200 / 1.21)
    no_area = present_values(dict.fromkeys(SCENARIOS, 0.0), PARAMS, valuation(PARAMS))
    assert all(v == 0.0 for case in no_area.values() for v in case.values())
