"""The area estimator against the worked example of Olofsson et al. (2014)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cocoa_threat.analysis.area import (
    Stratum,
    area_table,
    stratified_area_estimate,
    stratified_difference_estimate,
)
from cocoa_threat.params.ingestion import SplitSpec
from cocoa_threat.smallminesds.splits import allocate_strata, draw_blocks, stratify_blocks

# Olofsson et al. 2014, RSE 148:42-57, section 5 (Tables 8-10): map classes
# deforestation, forest gain, stable forest, stable non-forest; 30 m pixels.
SAMPLE = np.array(
    [
        [66, 0, 5, 4],
        [0, 55, 8, 12],
        [1, 0, 153, 11],
        [2, 1, 9, 313],
    ]
)
MAP_PIXELS = np.array([200_000, 150_000, 3_200_000, 6_450_000])
NAMES = ["deforestation", "forest_gain", "stable_forest", "stable_non_forest"]
LEVEL = 0.95  # the level conf/base sets (intervals.confidence)


def test_olofsson_worked_example() -> None:
    ha = MAP_PIXELS * 0.09
    out = stratified_area_estimate(SAMPLE, ha, NAMES, LEVEL).set_index("class")
    defo = out.loc["deforestation"]
    # The paper: deforestation 21,158 ha +/- 6,158 ha (95% CI); user's 0.88, producer's 0.75.
    assert defo["adjusted_area"] == pytest.approx(21_158, abs=1)
    assert (defo["ci_high"] - defo["adjusted_area"]) == pytest.approx(6_158, abs=2)
    assert defo["users_accuracy"] == pytest.approx(0.88)
    assert defo["producers_accuracy"] == pytest.approx(0.75, abs=0.005)
    # Forest gain: 11,686 ha +/- 3,756 ha.
    gain = out.loc["forest_gain"]
    assert gain["adjusted_area"] == pytest.approx(11_686, abs=1)
    assert (gain["ci_high"] - gain["adjusted_area"]) == pytest.approx(3_756, abs=2)
    # Areas add up to the mapped total; overall accuracy 0.95.
    assert out["adjusted_area"].sum() == pytest.approx(ha.sum())
    assert out.attrs["overall_accuracy"] == pytest.approx(0.947, abs=0.001)


def test_perfect_map_keeps_its_areas() -> None:
    out = stratified_area_estimate(
        np.diag([10, 20, 30]), np.array([1.0, 2.0, 3.0]), ["a", "b", "c"], LEVEL
    )
    np.testing.assert_allclose(out["adjusted_area"], [1, 2, 3])
    np.testing.assert_allclose(out["se"], 0)


def test_shape_mismatch_fails() -> None:
    with pytest.raises(ValueError, match="3 x 3"):
        stratified_area_estimate(np.ones((2, 2)), np.ones(3), ["a", "b", "c"], LEVEL)


# ---- the design-based estimator for a sample of whole units -------------------------------
def test_difference_estimator_by_hand() -> None:
    # 5 units in the population, mapped total 100; the sample is 3 of them.
    est = stratified_difference_estimate(
        [Stratum("s", 5, 100.0, y=np.array([10.0, 12.0, 14.0]), m=np.array([8.0, 12.0, 10.0]))],
        confidence=0.95,
        total_area=1000.0,
    )
    # d = (2, 0, 4): mean 2, s^2 = 4 -> A = 100 + 5 * 2; V = 5^2 (1 - 3/5) 4 / 3; df = n - 1.
    assert est.estimate == pytest.approx(110.0)
    assert est.se == pytest.approx(np.sqrt(25 * 0.4 * 4 / 3))
    assert est.df == pytest.approx(2.0)
    half = 4.302652729911275 * est.se  # t(0.975, 2 df)
    assert (est.ci_low, est.ci_high) == pytest.approx((110 - half, 110 + half))
    assert (est.n_units, est.n_population_units) == (3, 5) and not est.ci_low_clipped
    p = 0.11
    assert est.n_eff == pytest.approx(p * (1 - p) / (est.se**2 / 1000**2))


def test_the_confidence_level_is_the_one_asked_for() -> None:
    stratum = Stratum("s", 20, 50.0, np.array([1.0, 4.0, 2.0, 6.0]), np.array([2.0, 2.0, 2.0, 2.0]))
    wide = stratified_difference_estimate([stratum], confidence=0.99)
    narrow = stratified_difference_estimate([stratum], confidence=0.80)
    ratio = (wide.ci_high - wide.estimate) / (narrow.ci_high - narrow.estimate)
    assert ratio == pytest.approx(5.840909309733 / 1.637744353696)  # t(3) at 0.995 / 0.90


def test_census_has_no_sampling_error() -> None:
    y, m = np.array([3.0, 5.0, 7.0]), np.array([1.0, 5.0, 9.0])
    est = stratified_difference_estimate([Stratum("all", 3, m.sum(), y, m)], LEVEL)
    assert est.estimate == pytest.approx(y.sum()) and est.se == 0.0
    assert est.ci_low == est.ci_high == pytest.approx(y.sum())


def test_a_lower_bound_below_zero_is_cut_and_flagged() -> None:
    est = stratified_difference_estimate(
        [Stratum("s", 40, 1.0, np.array([0.0, 0.0, 3.0, 0.0]), np.array([0.0, 0.0, 0.0, 0.0]))],
        LEVEL,
    )
    assert est.ci_low == 0.0 and est.ci_low_clipped and est.ci_high > est.estimate > 0


@pytest.mark.parametrize(
    ("y", "m", "reason"),
    [([4.0], [3.0], "one sample unit"), ([], [], "no sample unit")],
)
def test_no_interval_where_the_design_cannot_support_one(
    y: list, m: list, reason: str, caplog: pytest.LogCaptureFixture
) -> None:
    est = stratified_difference_estimate(
        [
            Stratum("blocks along the Offin", 10, 50.0, np.array(y), np.array(m)),
            Stratum("upland", 4, 8.0, np.array([1.0, 2.0]), np.array([1.0, 1.0])),
        ],
        LEVEL,
    )
    assert np.isnan(est.se) and np.isnan(est.ci_low) and np.isnan(est.ci_high)
    assert any("blocks along the Offin" in w and reason in w for w in est.warnings)
    assert "blocks along the Offin" in caplog.text and np.isfinite(est.estimate)


def test_a_stratum_without_errors_adds_no_variance_but_no_errors_at_all_give_no_interval() -> None:
    quiet = Stratum("no mining", 10, 0.0, np.zeros(3), np.zeros(3))
    busy = Stratum("mining", 10, 40.0, np.array([5.0, 7.0, 9.0]), np.array([4.0, 4.0, 4.0]))
    est = stratified_difference_estimate([quiet, busy], LEVEL)
    alone = stratified_difference_estimate([busy], LEVEL)
    assert est.se == pytest.approx(alone.se) and est.df == pytest.approx(2.0)
    none = stratified_difference_estimate([quiet, quiet], LEVEL)
    assert np.isnan(none.ci_low) and "no variation among the 6 sample units" in none.warnings[0]


def test_too_few_sample_units_in_all_give_no_interval() -> None:
    s = Stratum("s", 10, 5.0, np.array([1.0, 3.0]), np.array([1.0, 1.0]))
    assert np.isnan(stratified_difference_estimate([s], LEVEL, min_units=3).ci_low)
    assert np.isfinite(stratified_difference_estimate([s], LEVEL, min_units=2).ci_low)


def test_two_strata_use_satterthwaite_degrees_of_freedom() -> None:
    a = Stratum("a", 10, 40.0, np.array([5.0, 7.0, 9.0]), np.array([4.0, 4.0, 4.0]))
    b = Stratum("b", 20, 10.0, np.array([1.0, 0.0, 2.0, 1.0]), np.array([0.0, 0.0, 0.0, 0.0]))
    est = stratified_difference_estimate([a, b], LEVEL)
    va = 10**2 * (1 - 3 / 10) * np.var([1, 3, 5], ddof=1) / 3
    vb = 20**2 * (1 - 4 / 20) * np.var([1, 0, 2, 1], ddof=1) / 4
    assert est.estimate == pytest.approx(40 + 10 * 3 + 10 + 20 * 1)
    assert est.se == pytest.approx(np.sqrt(va + vb))
    assert est.df == pytest.approx((va + vb) ** 2 / (va**2 / 2 + vb**2 / 3))


def test_olofsson_is_the_special_case_of_map_class_strata_and_pixel_units() -> None:
    """Map classes as strata, pixels as units: the generic estimator gives Olofsson's areas."""
    olofsson = stratified_area_estimate(SAMPLE, MAP_PIXELS.astype(float), NAMES, LEVEL)
    for j, name in enumerate(NAMES):
        strata = [
            Stratum(
                NAMES[i],
                int(MAP_PIXELS[i]),
                float(MAP_PIXELS[i] * (i == j)),
                y=np.repeat([1.0, 0.0], [SAMPLE[i, j], SAMPLE[i].sum() - SAMPLE[i, j]]),
                m=np.full(SAMPLE[i].sum(), float(i == j)),
            )
            for i in range(len(NAMES))
        ]
        est = stratified_difference_estimate(strata, LEVEL)
        row = olofsson.set_index("class").loc[name]
        assert est.estimate == pytest.approx(row["adjusted_area"], rel=1e-9)
        # Equal but for the finite-population correction (n_h / N_h < 0.1%).
        assert est.se == pytest.approx(row["se"], rel=1e-3)


def test_whole_tile_samples_keep_their_coverage_where_the_pixel_formula_fails() -> None:
    """Coverage of the 95% interval over 400 draws of 10 tiles from 60.

    Map errors come in patches (whole tiles off by a common amount), as they do
    for a segmentation model. The between-tile interval holds; the Olofsson
    pixel formula, which takes the 10 tiles' pixels as independent draws, does not.
    """
    rng = np.random.default_rng(3)
    n_tiles, px = 60, 128 * 128
    truth_share = np.clip(rng.beta(2, 8, n_tiles), 0, 1)
    bias = rng.normal(0, 0.08, n_tiles)  # tile-level map error
    mapped_share = np.clip(truth_share + bias, 0, 1)
    y, m = truth_share * px, mapped_share * px
    census = y.sum()
    hits_new = hits_old = 0
    draws = 400
    for _ in range(draws):
        s = rng.choice(n_tiles, 10, replace=False)
        est = stratified_difference_estimate(
            [Stratum("tiles", n_tiles, m.sum(), y[s], m[s])], LEVEL
        )
        hits_new += est.ci_low <= census <= est.ci_high
        # The old way: the sample tiles' pixels as a stratified pixel sample (2 classes).
        cm = np.zeros((2, 2))
        for i in s:
            both = min(y[i], m[i])
            cm += [[px - m[i] - y[i] + both, y[i] - both], [m[i] - both, both]]
        old = stratified_area_estimate(
            cm, np.array([px * n_tiles - m.sum(), m.sum()]), ["o", "c"], LEVEL
        )
        hits_old += old["ci_low"].iloc[1] <= census <= old["ci_high"].iloc[1]
    assert hits_new / draws >= 0.9
    assert hits_old / draws < 0.5


# ---- the estimator of the split's design, on a population with a known truth --------------
def _population(rng: np.random.Generator, n_blocks: int = 80) -> pd.DataFrame:
    """Blocks with a mining share (half none), labelled and mapped areas of two quantities."""
    share = np.where(rng.random(n_blocks) < 0.5, 0.0, rng.beta(1.5, 8, n_blocks))
    mining = 160 * share
    cocoa = 160 * rng.beta(4, 5, n_blocks)
    rows = []
    for b in range(n_blocks):
        map_mining = max(mining[b] * rng.normal(0.85, 0.25) + rng.exponential(0.3), 0.0)
        map_cocoa = max(cocoa[b] + rng.normal(4, 9), 0.0)
        for quantity, ref, mapped in (
            ("mining", mining[b], map_mining),
            ("cocoa", cocoa[b], map_cocoa),
        ):
            rows.append(
                {
                    "tile_id": str(b),
                    "block": f"b{b:02d}",
                    "quantity": quantity,
                    "period": "after",
                    "class": quantity,
                    "map_ha": mapped,
                    "ref_ha": ref,
                    "tile_ha": 160.0,
                    "share": share[b],
                }
            )
    return pd.DataFrame(rows)


def test_design_and_estimator_hold_the_truth_with_intervals_near_the_oracle() -> None:
    """Stratified random samples of blocks (mining-rich stratum oversampled), re-drawn 400 times.

    Coverage of the census AND width: the mean interval is compared with the
    oracle interval (+/- 1.96 SD of the estimates over the draws).
    """
    rng = np.random.default_rng(21)
    tiles = _population(rng)
    spec = SplitSpec(
        fractions={"train": 0.55, "val": 0.2, "test": 0.25},
        strata={"n_strata": 2, "oversample": [1.0, 2.0]},
    )
    covariate = tiles.drop_duplicates("block").set_index("block")["share"]
    strata = stratify_blocks(covariate, 2)
    counts = allocate_strata(strata.value_counts().sort_index(), spec)
    assert counts.loc["s2", "test"] > counts.loc["s1", "test"]  # oversampled
    census = tiles.groupby("quantity")["ref_ha"].sum()
    records = []
    for _ in range(400):
        split = draw_blocks(strata, counts, rng)
        drawn = tiles.assign(split=tiles["block"].map(split), stratum=tiles["block"].map(strata))
        table = area_table(drawn, 0.95, "block", 3).query("population == 'whole region'")
        records += table[["quantity", "adjusted_ha", "ci_low_ha", "ci_high_ha"]].to_dict("records")
    draws = pd.DataFrame(records)
    draws["covered"] = (draws["ci_low_ha"] <= draws["quantity"].map(census)) & (
        draws["quantity"].map(census) <= draws["ci_high_ha"]
    )
    draws["width"] = draws["ci_high_ha"] - draws["ci_low_ha"]
    summary = draws.groupby("quantity").agg(
        coverage=("covered", "mean"),
        mean=("adjusted_ha", "mean"),
        sd=("adjusted_ha", "std"),
        width=("width", "mean"),
    )
    summary["bias_sd"] = (summary["mean"] - census) / summary["sd"]
    summary["width_ratio"] = summary["width"] / (2 * 1.959964 * summary["sd"])
    for quantity, r in summary.iterrows():
        assert 0.90 <= r["coverage"] <= 0.98, (quantity, r.to_dict())
        assert 0.9 <= r["width_ratio"] <= 1.5, (quantity, r.to_dict())
        assert abs(r["bias_sd"]) <= 0.25, (quantity, r.to_dict())


def test_area_table_weights_strata_by_their_population() -> None:
    """Unequal sampling rates: each stratum's test blocks stand for its own non-training blocks."""
    units = pd.DataFrame(
        {
            "block": [f"b{i}" for i in range(10)],
            "stratum": ["s1"] * 6 + ["s2"] * 4,
            "split": ["test", "test", "val", "val", "val", "val", "test", "test", "test", "train"],
            "map_ha": [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 5.0, 5.0, 5.0, 5.0],
            "ref_ha": [2.0, 3.0, 9.0, 9.0, 9.0, 9.0, 4.0, 6.0, 8.0, 7.0],
        }
    ).assign(
        tile_id=lambda t: t["block"], tile_ha=10.0, quantity="q", period="after", **{"class": "c"}
    )
    table = area_table(units, 0.95, "block", 2).set_index("population")
    # s1: 6 non-training blocks, mapped 6, d = (1, 2) -> 6 + 6 * 1.5; s2: 3, mapped 15, d = (-1, 1, 3).
    nontrain = table.loc["non-training tiles"]
    assert nontrain["adjusted_ha"] == pytest.approx(6 + 6 * 1.5 + 15 + 3 * 1.0)
    assert nontrain["n_strata"] == 2 and nontrain["n_units"] == 5
    v1 = 6**2 * (1 - 2 / 6) * np.var([1, 2], ddof=1) / 2  # s2 is a census: no sampling error
    assert nontrain["se_ha"] == pytest.approx(np.sqrt(v1)) and nontrain["df"] == pytest.approx(1)
    region = table.loc["whole region"]
    assert region["adjusted_ha"] == pytest.approx(nontrain["adjusted_ha"] + 7.0)
    assert region["census_ha"] == pytest.approx(units["ref_ha"].sum())
